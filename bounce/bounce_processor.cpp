// bounce_processor.cpp — one delivery, start to finish (see bounce_processor.h).
// Order matters: the bounce address is authenticated before the report is
// parsed (only a report to another address of the bounce domain is parsed
// first, bounded, to find it) and before anything is written, so a forged
// report can neither cost memory nor add to a tenant's suppression list;
// every Redis write is idempotent (deterministic event ids, HSETNX), so a
// run that failed half-way and is retried by Postfix completes the rest.
#include "bounce/bounce_processor.h"

#include <cstdio>
#include <ctime>
#include <optional>
#include <vector>

#include "bounce/auto_reply.h"
#include "bounce/bounce_facts.h"
#include "bounce/bounce_store.h"
#include "bounce/header_scan.h"
#include "bounce/report_parser.h"
#include "bounce/report_text.h"
#include "bounce/unsubscribe_delivery.h"
#include "common/bounce_address.h"
#include "common/log.h"
#include "common/message_store.h"
#include "common/redis.h"
#include "common/sending_health.h"
#include "common/suppression_store.h"
#include "common/tenants.h"
#include "common/text.h"
#include "common/unsubscribe_address.h"

namespace tenantmail::bounce {
namespace {

constexpr const char* kProgram = "tenantmail-bounce";

bool is_bounce_address(std::string_view address) {
    const std::string_view prefix = BounceAddressCodec::local_prefix;
    return address.size() > prefix.size() && iequals(address.substr(0, prefix.size()), prefix) &&
           address.find('@') != std::string_view::npos;
}

std::string_view outcome_name(OutcomeResult result) {
    switch (result) {
        case OutcomeResult::recorded: return "recorded";
        case OutcomeResult::duplicate: return "already recorded";
        case OutcomeResult::already_final: return "recorded (recipient had bounced already)";
    }
    return "recorded";
}

struct Authenticated {
    BounceToken token;
    std::string address;  // the bounce address the token came from
};

// GMime only after the cheap pre-scan (header_scan.h) has bounded the
// header lines it would build objects for.
Result<Report> bounded_parse(std::string_view message) {
    if (auto bounded = check_header_bounds(message); !bounded) {
        return Error{"refused before parsing: " + bounded.error()};
    }
    return parse_report(message);
}

class BounceRun {
public:
    BounceRun(const BounceSettings& settings, const Delivery& delivery)
        : settings_(settings), delivery_(delivery), now_(static_cast<std::int64_t>(std::time(nullptr))) {}

    int run() {
        auto registry = TenantRegistry::load_file(settings_.common.tenants_file);
        if (!registry) return tempfail(registry.error());
        // The mailto: of List-Unsubscribe: the request is the address itself.
        if (is_unsubscribe_address(delivery_.recipient)) return process_unsubscribe(settings_, *registry, delivery_);
        auto codec = load_bounce_codec(settings_.common.bounce_secret_file);
        if (!codec) return tempfail(codec.error());
        std::vector<std::string> tenant_ids;
        for (const Tenant& tenant : registry->tenants()) tenant_ids.push_back(tenant.id);

        const std::optional<Authenticated> authenticated = authenticate(*codec, tenant_ids);
        if (!authenticated) return kExitDone;
        token_ = authenticated->token;
        address_ = authenticated->address;
        queue_id_ = token_.queue_id;

        auto password = read_redis_password(settings_.common.redis);
        if (!password) return tempfail(password.error());
        auto redis = RedisClient::connect(settings_.common.redis, *password);
        if (!redis) return tempfail(redis.error());

        if (const int status = attribute(*redis); status != kExitDone || tenant_.empty()) return status;
        if (const Tenant* tenant = registry->find(tenant_); tenant != nullptr) pause_policy_ = tenant->pause;
        if (!parsed_) report_ = bounded_parse(delivery_.message);
        if (const int status = admit(*redis); status != kExitDone || !admitted_) return status;
        return record(*redis);
    }

private:
    static std::string clean(std::string_view text) { return clean_text(text, 300); }

    int tempfail(const std::string& reason) {
        LOG_ERROR("%s; leaving the report to Postfix to retry", clean_text(reason, 1000).c_str());
        // pipe(8) puts what we print in its log line (and the queue's
        // deferral reason), where the admin looks first.
        if (!settings_.foreground) std::fprintf(stderr, "%s: %s\n", kProgram, clean_text(reason, 1000).c_str());
        return kExitTempfail;
    }

    // The token comes from the envelope recipient (bounces+TOKEN@domain),
    // checked before a byte of the report is parsed. Only a report sent to
    // another address of the bounce domain (a feedback loop address, say)
    // is parsed first, bounded, to find our bounce address inside it.
    // Without a valid token nothing is recorded: the HMAC is what stops
    // anyone from writing to a tenant's events or suppression list.
    std::optional<Authenticated> authenticate(const BounceAddressCodec& codec,
                                              const std::vector<std::string>& tenant_ids) {
        std::string address = delivery_.recipient;
        if (!is_bounce_address(address)) {
            report_ = bounded_parse(delivery_.message);
            parsed_ = true;
            if (!report_) {
                LOG_WARNING("report to <%s> is not a bounce address and could not be read (%s); dropped",
                            clean(delivery_.recipient).c_str(), clean_text(report_.error(), 300).c_str());
                return std::nullopt;
            }
            address = report_->original_sender();
            if (!is_bounce_address(address)) {
                LOG_WARNING("report to <%s> carries no bounce address; dropped", clean(delivery_.recipient).c_str());
                return std::nullopt;
            }
        }
        const auto max_age = static_cast<std::int64_t>(settings_.max_token_age.count());
        auto token = codec.decode(address, now_, max_age, tenant_ids);
        if (!token) {
            LOG_WARNING("bounce address <%s> refused: %s; report dropped", clean(address).c_str(),
                        token.error().c_str());
            return std::nullopt;
        }
        return Authenticated{std::move(token).value(), address};
    }

    // The tenant is the token's. A version 1 token (made before tenants were
    // bound into it) is attributed only through the record of the message
    // that carried this very bounce address, never through the bounce
    // domain's owner: on a shared platform bounce domain that would be
    // another tenant. Leaves tenant_ empty when the report is dropped.
    int attribute(RedisClient& redis) {
        std::string tenant = token_.tenant;
        if (tenant.empty()) {
            auto by_queue_id = tenant_of_queue_id(redis, queue_id_);
            if (!by_queue_id) return tempfail(by_queue_id.error());
            tenant = *by_queue_id;
        }
        if (!tenant.empty()) {
            auto message = token_message(redis, tenant, queue_id_, address_);
            if (!message) return tempfail("queue_id=" + clean(queue_id_) + ": " + message.error());
            message_ = std::move(message).value();
        }
        if (token_.tenant.empty() && !message_.found) {
            LOG_WARNING("queue_id=%s: version 1 bounce address <%s> and no record of its message names a tenant; "
                        "report dropped", clean(queue_id_).c_str(), clean(address_).c_str());
            return kExitDone;
        }
        tenant_ = tenant;
        return kExitDone;
    }

    // At most max_reports_per_token reports per bounce address, counted in
    // Redis for the token's lifetime; the same report again (Postfix's
    // retry) is not counted twice.
    int admit(RedisClient& redis) {
        const std::string reference =
            report_ ? report_reference(*report_, delivery_.message) : raw_reference(delivery_.message);
        const std::int64_t ttl = static_cast<std::int64_t>(settings_.max_token_age.count()) - (now_ - token_.sent_at) +
                                 600;
        const std::string key = token_reports_key(tenant_, queue_id_, token_.sent_at);
        auto admitted = admit_report(redis, key, reference, settings_.max_reports_per_token, ttl);
        if (!admitted) return tempfail(context_prefix() + ": " + admitted.error());
        admitted_ = *admitted;
        if (admitted_) return kExitDone;
        if (auto counted = count_dropped(redis, tenant_, "over_token_cap"); !counted) {
            return tempfail(context_prefix() + ": " + counted.error());
        }
        LOG_WARNING("%s this bounce address has sent %zu reports already (max_reports_per_token): dropped, "
                    "counted in %s", context_prefix().c_str(), settings_.max_reports_per_token,
                    bounce_counters_key(tenant_).c_str());
        return kExitDone;
    }

    std::string context_prefix() const {
        return "tenant=" + tenant_ + " queue_id=" + clean(queue_id_) +
               (report_ && !report_->message_id.empty() ? " report=<" + clean(report_->message_id) + ">" : "");
    }

    int record(RedisClient& redis) {
        if (!report_) return unreadable(redis, report_.error());
        if (delivery_.truncated()) {
            LOG_WARNING("%s message of %zu bytes: read the first %zu", context_prefix().c_str(), delivery_.size,
                        delivery_.message.size());
        }
        if (!message_.found) {
            // Without the recipient set anyone holding the address could
            // report anyone: say what the report claims, record nothing.
            LOG_WARNING("%s no record of this message lists its recipients (expired, not written, or "
                        "record_messages off): report of %zu recipient(s) logged, not recorded",
                        context_prefix().c_str(),
                        report_->kind == ReportKind::feedback ? report_->feedback.original_rcpt_to.size()
                                                              : report_->delivery.recipients.size());
            return kExitDone;
        }
        ReportContext context{tenant_,
                              queue_id_,
                              report_reference(*report_, delivery_.message),
                              now_,
                              message_.recipients,
                              message_.message_id,
                              settings_.max_report_recipients};
        const ReportFacts facts = facts_of(*report_, context);
        if (!facts.refused.empty()) {
            LOG_WARNING("%s %s: not recorded", context_prefix().c_str(), clean_text(facts.refused, 600).c_str());
            return kExitDone;
        }
        if (!facts.unusable.empty()) return keep_unparsed(redis, facts.unusable);
        for (const RecipientFact& fact : facts.facts) {
            if (const int status = record_fact(redis, fact); status != kExitDone) return status;
        }
        log_unrecorded(facts);
        return facts.facts.empty() ? kExitDone : check_health(redis);
    }

    // After the report's facts are in: do the tenant's bounce and complaint
    // rates now pause its bulk mail (sending_health.h)? A failure leaves
    // the report to Postfix: the retry finds its facts recorded and checks
    // again.
    int check_health(RedisClient& redis) {
        auto verdict = check_sending_health(redis, tenant_, pause_policy_, kDefaultEventsStreamCap);
        if (!verdict) return tempfail(context_prefix() + ": " + verdict.error());
        if (verdict->kind == HealthVerdict::Kind::paused_now) {
            const HealthCounts& c = verdict->counts;
            LOG_WARNING("%s tenant %s: bulk mail paused: %s (%lld delivered, %lld hard bounces, %lld complaints); "
                        "tenantmailctl resume %s lets it through again",
                        context_prefix().c_str(), tenant_.c_str(), verdict->reason.c_str(),
                        static_cast<long long>(c.delivered), static_cast<long long>(c.bounced),
                        static_cast<long long>(c.complained), tenant_.c_str());
        }
        return kExitDone;
    }

    void log_unrecorded(const ReportFacts& facts) const {
        for (const std::string& ignored : facts.ignored) {
            LOG_INFO("%s %s: nothing to record", context_prefix().c_str(), ignored.c_str());
        }
        for (const std::string& unclassified : facts.unclassified) {
            LOG_WARNING("%s %s: not recorded", context_prefix().c_str(), unclassified.c_str());
        }
        for (const std::string& stranger : facts.strangers) {
            LOG_WARNING("%s <%s> is not a recipient of this message: not recorded", context_prefix().c_str(),
                        stranger.c_str());
        }
        if (!facts.over_cap.empty()) {
            LOG_WARNING("%s %zu more recipient(s) past max_report_recipients (%zu), first <%s>: not recorded",
                        context_prefix().c_str(), facts.over_cap.size(), settings_.max_report_recipients,
                        facts.over_cap.front().c_str());
        }
    }

    int record_fact(RedisClient& redis, const RecipientFact& fact) {
        const Outcome& outcome = fact.outcome;
        auto recorded = record_outcome(redis, outcome);
        if (!recorded) return tempfail(context_prefix() + ": " + recorded.error());
        std::string suppressed;
        if (fact.suppression) {
            auto added = add_suppression(redis, tenant_, fact.suppression->recipient, fact.suppression->entry);
            if (!added) return tempfail(context_prefix() + ": " + added.error());
            suppressed = *added ? ", suppressed" : ", already suppressed";
        }
        const nlohmann::json& details = outcome.event.details;
        const std::string code = details.contains("status") ? details["status"].get<std::string>()
                                                            : details.value("feedback_type", std::string());
        LOG_INFO("%s recipient=<%s> %s %s: %s%s", context_prefix().c_str(), outcome.recipient.c_str(),
                 std::string(event_kind_name(outcome.event.kind)).c_str(), code.c_str(),
                 std::string(outcome_name(*recorded)).c_str(), suppressed.c_str());
        return kExitDone;
    }

    // A message that is no report: an automatic reply is dropped (counted),
    // anything else kept for the admin.
    int unreadable(RedisClient& redis, const std::string& why) {
        if (is_auto_reply(top_header_block(delivery_.message))) {
            if (auto counted = count_dropped(redis, tenant_, "auto_replies"); !counted) {
                return tempfail(context_prefix() + ": " + counted.error());
            }
            LOG_INFO("%s automatic reply (no report): dropped, counted in %s", context_prefix().c_str(),
                     bounce_counters_key(tenant_).c_str());
            return kExitDone;
        }
        return keep_unparsed(redis, why);
    }

    int keep_unparsed(RedisClient& redis, const std::string& why) {
        std::string reason = why;
        if (delivery_.truncated()) {
            reason += " (message of " + std::to_string(delivery_.size) + " bytes, read the first " +
                      std::to_string(delivery_.message.size()) + ")";
        }
        auto stored = store_unparsed(redis, tenant_, delivery_.message, reason, now_, settings_.unparsed_keep,
                                     settings_.unparsed_max_bytes);
        if (!stored) return tempfail(context_prefix() + ": " + stored.error());
        LOG_WARNING("%s unparsed: %s; kept as %s in %s", context_prefix().c_str(), clean_text(reason, 500).c_str(),
                    stored->c_str(), unparsed_stream_key(tenant_).c_str());
        return kExitDone;
    }

    const BounceSettings& settings_;
    const Delivery& delivery_;
    const std::int64_t now_;
    Result<Report> report_ = Error{"not parsed"};
    bool parsed_ = false;
    bool admitted_ = false;
    BounceToken token_;
    std::string address_;
    TokenMessage message_;
    std::string queue_id_;
    std::string tenant_;
    PausePolicy pause_policy_;
};

}  // namespace

int process_bounce(const BounceSettings& settings, const Delivery& delivery) {
    return BounceRun(settings, delivery).run();
}

int check_bounce_config(const BounceSettings& settings) {
    auto registry = TenantRegistry::load_file(settings.common.tenants_file);
    if (!registry) {
        std::fprintf(stderr, "%s: %s\n", kProgram, registry.error().c_str());
        return 1;
    }
    auto codec = load_bounce_codec(settings.common.bounce_secret_file);
    if (!codec) {
        std::fprintf(stderr, "%s: %s\n", kProgram, codec.error().c_str());
        return 1;
    }
    std::printf("%s: configuration OK: %zu tenants\n", kProgram, registry->tenants().size());
    return 0;
}

}  // namespace tenantmail::bounce
