// rate_check.cpp — EVALSHA with an EVAL fallback, and the hiredis reply
// turned into the plain ReplyElement form rate_limiter interprets.
#include "policyd/rate_check.h"

#include <charconv>
#include <chrono>

#include "common/log.h"

namespace tenantmail::policyd {

namespace {

unsigned long long reloads = 0;

ReplyElement element_of(const redisReply* reply) {
    ReplyElement element;
    switch (reply->type) {
        case REDIS_REPLY_INTEGER:
            element.type = ReplyElement::Type::integer;
            element.integer = reply->integer;
            break;
        case REDIS_REPLY_STRING:
            element.type = ReplyElement::Type::string;
            element.text = std::string_view(reply->str, reply->len);
            break;
        case REDIS_REPLY_STATUS:
            element.type = ReplyElement::Type::status;
            element.text = std::string_view(reply->str, reply->len);
            break;
        case REDIS_REPLY_ERROR:
            element.type = ReplyElement::Type::error;
            element.text = std::string_view(reply->str, reply->len);
            break;
        case REDIS_REPLY_NIL:
            element.type = ReplyElement::Type::nil;
            break;
        case REDIS_REPLY_ARRAY:
            element.type = ReplyElement::Type::array;
            element.elements = reply->elements;
            break;
        default:
            element.type = ReplyElement::Type::other;
            break;
    }
    return element;
}

RateOutcome unavailable() {
    RateOutcome outcome;
    outcome.kind = RateOutcome::Kind::error;
    outcome.detail = "Redis unavailable";
    return outcome;
}

}  // namespace

unsigned long long RateCheck::script_reloads() { return reloads; }

bool RateCheck::start(AsyncRedis& redis, std::string_view tenant, TrafficClass traffic_class,
                      std::string_view recipient) {
    redis_ = &redis;
    reloaded_ = recomputed_ = false;
    deadline_ = AsyncRedis::Clock::now() + redis.timeout();
    tenant_.assign(tenant);
    traffic_class_ = traffic_class;
    recipient_.assign(recipient);
    request_.set_time(std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()));
    return send(false);
}

bool RateCheck::send(bool with_body) {
    request_.build_argv(tenant_, traffic_class_, recipient_, with_body);
    return redis_->command(request_.argc(), request_.argv(), request_.lengths(), *this, deadline_);
}

void RateCheck::on_redis_reply(const redisReply* reply) {
    if (reply == nullptr) {
        handler_.on_rate_outcome(unavailable());
        return;
    }
    const ReplyElement top = element_of(reply);
    std::array<ReplyElement, kRateReplyElements> elements;
    std::size_t count = 0;
    if (reply->type == REDIS_REPLY_ARRAY) {
        for (; count < reply->elements && count < elements.size(); ++count) elements[count] = element_of(reply->element[count]);
    }
    const RateOutcome outcome = interpret_rate_reply(top, std::span<const ReplyElement>(elements.data(), count));
    if (outcome.kind == RateOutcome::Kind::stale_period && !recomputed_) {
        // The host's clock and Redis's disagree about the day or month:
        // Redis's clock counts.
        recomputed_ = true;
        request_.set_time(std::chrono::floor<std::chrono::seconds>(SysSeconds() + outcome.redis_now));
        if (send(false)) return;
        handler_.on_rate_outcome(unavailable());
        return;
    }
    if (outcome.kind == RateOutcome::Kind::noscript && !reloaded_) {
        reloaded_ = true;
        if (reloads++ == 0) LOG_INFO("the rate script was not in Redis's script cache; sending it again");
        if (send(true)) return;
        handler_.on_rate_outcome(unavailable());
        return;
    }
    if (outcome.kind == RateOutcome::Kind::error) {
        // A broken reply is a bug or a foreign script under our name: say so
        // (rarely), and answer like an outage.
        static unsigned long long errors = 0;
        if (errors++ % 1000 == 0) {
            const std::string detail(outcome.detail);
            LOG_ERROR("rate script failed in Redis: %s", detail.c_str());
        }
    }
    handler_.on_rate_outcome(outcome);
}

}  // namespace tenantmail::policyd
