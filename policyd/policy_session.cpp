// policy_session.cpp — the per-connection state machine.
//
// At most one request is being decided at a time, and the socket is read
// only when the parser needs more bytes: a client that pipelines requests
// gets its answers in order, and one that floods us is held back by TCP
// instead of by our memory (the parser's buffer never exceeds one request
// plus one read).
#include "policyd/policy_session.h"

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/write.hpp>

#include "common/duration.h"
#include "common/log.h"
#include "policyd/policy_server.h"

namespace tenantmail::policyd {

namespace asio = boost::asio;

PolicySession::PolicySession(PolicyServer& server, Socket socket, std::string peer)
    : server_(server),
      socket_(std::move(socket)),
      peer_(std::move(peer)),
      parser_(server.settings().limits),
      idle_timer_(server.io()),
      check_(*this) {}

void PolicySession::start() {
    last_activity_ = Clock::now();
    arm_idle_timer(last_activity_ + server_.settings().idle_timeout);
    read();
}

void PolicySession::close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    socket_.close(ignored);
    idle_timer_.cancel();
    server_.forget(this);
}

void PolicySession::read() {
    if (reading_ || closed_ || closing_) return;
    reading_ = true;
    const std::span<char> space = parser_.writable();
    socket_.async_read_some(asio::buffer(space.data(), space.size()),
                            [self = shared_from_this()](const boost::system::error_code& ec, std::size_t count) {
                                self->on_read(ec, count);
                            });
}

void PolicySession::on_read(const boost::system::error_code& ec, std::size_t count) {
    reading_ = false;
    if (closed_) return;
    if (ec) {
        if (ec == asio::error::eof) {
            if (!parser_.finish()) {
                ++server_.stats().protocol_errors;
                LOG_WARNING("client %s: %s", peer_.c_str(), parser_.error().c_str());
            }
        } else if (ec != asio::error::operation_aborted) {
            LOG_DEBUG("client %s: read failed: %s", peer_.c_str(), ec.message().c_str());
        }
        close();
        return;
    }
    parser_.commit(count);
    last_activity_ = Clock::now();
    process();
}

void PolicySession::process() {
    if (closed_) return;
    bool need_more = false;
    while (!checking_ && !closing_ && !need_more) {
        switch (parser_.parse()) {
            case PolicyParser::Status::ready:
                handle(parser_.request());
                break;
            case PolicyParser::Status::need_more:
                need_more = true;
                break;
            case PolicyParser::Status::error:
                ++server_.stats().protocol_errors;
                LOG_WARNING("client %s: closing the connection: %s", peer_.c_str(), parser_.error().c_str());
                closing_ = true;
                break;
        }
    }
    if (!out_.empty() && !write_active_) write();
    if (closing_) {
        if (!write_active_) close();
        return;
    }
    if (need_more) read();
}

bool PolicySession::handle(const PolicyRequest& request) {
    ++server_.stats().requests;
    const DecisionSettings& decision = server_.settings().decision;
    const Route route = route_request(request, server_.registry(), decision);
    if (route.kind == Route::Kind::answer) {
        append_reply(out_, route.action);
        LOG_DEBUG("client %s: %s: %s", peer_.c_str(), route.why, std::string(route.action).c_str());
        return false;
    }
    tenant_.assign(route.tenant->id);
    traffic_class_ = route.traffic_class;
    limit_ = route.tenant->rate(route.traffic_class);
    recipient_.assign(request.recipient);
    normalise_recipient_into(normalised_, request.recipient);
    queue_id_.assign(request.queue_id);
    if (!check_.start(server_.redis(), tenant_, traffic_class_, limit_, normalised_)) {
        RateOutcome unavailable;
        unavailable.kind = RateOutcome::Kind::error;
        on_rate_outcome(unavailable);  // answers now; checking_ stays false
        return false;
    }
    checking_ = true;
    self_while_checking_ = shared_from_this();
    return true;
}

void PolicySession::on_rate_outcome(const RateOutcome& outcome) {
    const bool was_checking = checking_;
    checking_ = false;
    const auto self = std::move(self_while_checking_);  // may be the last reference
    if (closed_) return;
    const CheckContext context{tenant_, traffic_class_, limit_, recipient_};
    outcome_action(action_, outcome, context, server_.settings().decision);
    append_reply(out_, action_);
    ServerStats& stats = server_.stats();
    switch (outcome.kind) {
        case RateOutcome::Kind::permitted: ++stats.permitted; break;
        case RateOutcome::Kind::limited: ++stats.deferred; break;
        case RateOutcome::Kind::suppressed: ++stats.rejected; break;
        default: ++stats.fallback; break;
    }
    log_decision(outcome);
    if (outcome.kind == RateOutcome::Kind::suppressed) report_blocked(outcome);
    if (was_checking) process();  // else handle() is still in process()'s loop
}

void PolicySession::report_blocked(const RateOutcome& outcome) {
    BlockedEvents* events = server_.blocked_events();
    if (events == nullptr) return;
    const SuppressionEntry entry = decode_suppression(outcome.detail);
    events->append(server_.redis(), BlockedRecipient{tenant_, recipient_, queue_id_, entry.reason, action_});
}

void PolicySession::log_decision(const RateOutcome& outcome) {
    // Permits and fallback answers are debug: at full speed there are tens
    // of thousands per second, and an outage is logged once by AsyncRedis.
    // Refusals are what an admin looks for: info.
    const bool refusal = outcome.kind == RateOutcome::Kind::limited || outcome.kind == RateOutcome::Kind::suppressed;
    const LogLevel level = refusal ? LogLevel::info : LogLevel::debug;
    if (!log_enabled(level)) return;
    std::string recipient;
    append_printable(recipient, recipient_, 256);
    std::string queue_id;
    append_printable(queue_id, queue_id_, 32);
    if (queue_id.empty()) queue_id = "NOQUEUE";
    const char* word = outcome_word(outcome.kind);
    const char* class_name = traffic_class_ == TrafficClass::bulk ? "bulk" : "transactional";
    switch (outcome.kind) {
        case RateOutcome::Kind::permitted:
            log_message(level, "%s: tenant=%s class=%s rcpt=<%s> client=%s: %s (%lld of %s)", queue_id.c_str(),
                        tenant_.c_str(), class_name, recipient.c_str(), peer_.c_str(), word, outcome.count,
                        describe(limit_).c_str());
            break;
        case RateOutcome::Kind::limited:
            log_message(level, "%s: tenant=%s class=%s rcpt=<%s> client=%s: %s: limit %s reached, retry in %llds",
                        queue_id.c_str(), tenant_.c_str(), class_name, recipient.c_str(), peer_.c_str(), word,
                        describe(limit_).c_str(), retry_seconds(outcome.retry_after));
            break;
        case RateOutcome::Kind::suppressed: {
            std::string reason;
            append_printable(reason, decode_suppression(outcome.detail).reason, 200);
            log_message(level, "%s: tenant=%s class=%s rcpt=<%s> client=%s: %s: suppressed (%s)", queue_id.c_str(),
                        tenant_.c_str(), class_name, recipient.c_str(), peer_.c_str(), word, reason.c_str());
            break;
        }
        default:
            log_message(level, "%s: tenant=%s class=%s rcpt=<%s> client=%s: %s: answered %s", queue_id.c_str(),
                        tenant_.c_str(), class_name, recipient.c_str(), peer_.c_str(), word,
                        server_.settings().decision.redis_error_action.c_str());
            break;
    }
}

void PolicySession::write() {
    write_active_ = true;
    writing_.swap(out_);
    out_.clear();
    asio::async_write(socket_, asio::buffer(writing_),
                      [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                          self->write_active_ = false;
                          self->writing_.clear();
                          if (self->closed_) return;
                          if (ec) {
                              LOG_DEBUG("client %s: write failed: %s", self->peer_.c_str(), ec.message().c_str());
                              self->close();
                              return;
                          }
                          self->last_activity_ = Clock::now();
                          self->process();
                      });
}

void PolicySession::arm_idle_timer(Clock::time_point when) {
    idle_timer_.expires_at(when);
    idle_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (!ec) self->on_idle_timer();
    });
}

void PolicySession::on_idle_timer() {
    if (closed_) return;
    const auto idle = server_.settings().idle_timeout;
    const Clock::time_point now = Clock::now();
    // Re-armed lazily rather than on every request: one timer wait per idle
    // period instead of a cancel and a new wait per request.
    if (checking_ || write_active_) {
        arm_idle_timer(now + idle);
    } else if (now - last_activity_ >= idle) {
        LOG_DEBUG("client %s: idle for %s, closing the connection", peer_.c_str(),
                  format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(idle)).c_str());
        close();
    } else {
        arm_idle_timer(last_activity_ + idle);
    }
}

}  // namespace tenantmail::policyd
