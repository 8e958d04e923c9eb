// policy_session.cpp — the per-connection state machine.
//
// At most one request is being decided at a time, the socket is read only
// when the parser needs more bytes, and no request is parsed while more
// than kMaxUnsentBytes of answers wait to be written: a client that
// pipelines requests gets its answers in order, and one that floods us
// without reading its answers is held back by TCP instead of by our memory
// (the parser's buffer never exceeds one request plus one read, the answers
// one bound plus one answer).
//
// One timer per connection enforces the timeouts of connection_state.h. It
// is re-armed when it fires, never per request (see next_check()).
#include "policyd/policy_session.h"

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/write.hpp>

#include "common/duration.h"
#include "common/log.h"
#include "common/printable.h"
#include "common/recipient.h"
#include "common/reservation.h"
#include "common/suppression.h"
#include "policyd/policy_server.h"

namespace tenantmail::policyd {

namespace asio = boost::asio;

PolicySession::PolicySession(PolicyServer& server, Socket socket, std::string peer)
    : server_(server),
      socket_(std::move(socket)),
      peer_(std::move(peer)),
      parser_(server.settings().limits),
      timer_(server.io()),
      check_(*this) {}

namespace {

ConnectionTimeouts timeouts_of(const ServerSettings& settings) {
    return {settings.idle_timeout, settings.request_timeout};
}

// "500 per 3m", "daily quota 10000": what a permit's count is out of.
std::string counted_against(const SendingLimit& limit) {
    const std::string text = describe(limit);
    constexpr std::string_view kWindowPrefix = "limit ";
    return text.starts_with(kWindowPrefix) ? text.substr(kWindowPrefix.size()) : text;
}

// The refusal's own words for the log, "...; retry in 37s" as
// "..., retry in 37s" (the log's long-standing form).
std::string log_wording(std::string_view refusal) {
    std::string text(refusal);
    if (const std::size_t at = text.find("; "); at != std::string::npos) text.replace(at, 2, ", ");
    return text;
}

}  // namespace

void PolicySession::start() {
    const Clock::time_point now = Clock::now();
    last_activity_ = last_read_ = request_started_ = write_started_ = now;
    arm_timer(next_check(state(), timeouts_of(server_.settings()), now));
    read();
}

void PolicySession::close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    socket_.close(ignored);
    timer_.cancel();
    server_.forget(this);
}

ConnectionState PolicySession::state() const {
    using Kind = ConnectionState::Kind;
    if (checking_) return {Kind::busy, Clock::now()};
    if (write_active_) return {Kind::unread_answers, write_started_};
    // Complete requests wait in the parser only while checking or writing.
    if (parser_.buffered() > 0) return {Kind::partial_request, request_started_};
    return {received_any_ ? Kind::idle : Kind::silent, last_activity_};
}

void PolicySession::evict() {
    if (closed_) return;
    LOG_DEBUG("client %s: closing the connection to make room for a new one (connection_limit)", peer_.c_str());
    close();
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
    const Clock::time_point now = Clock::now();
    if (parser_.buffered() == 0) request_started_ = now;  // the first bytes of a request
    parser_.commit(count);
    received_any_ = true;
    last_activity_ = last_read_ = now;
    process();
}

void PolicySession::process() {
    if (closed_) return;
    bool need_more = false;
    while (!checking_ && !closing_ && !need_more && unsent() < kMaxUnsentBytes) {
        switch (parser_.parse()) {
            case PolicyParser::Status::ready:
                // Bytes left over are the next request, which began with
                // the read that brought them.
                if (parser_.buffered() > 0) request_started_ = last_read_;
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
    // Not need_more: waiting for Redis or for the client to read its
    // answers; on_rate_outcome() or the write's completion comes back here.
    if (need_more) read();
}

bool PolicySession::handle(const PolicyRequest& request) {
    ++server_.stats().requests;
    const DecisionSettings& decision = server_.settings().decision;
    const Route route = route_request(request, server_.registry(), decision);
    if (route.kind == Route::Kind::answer) {
        if (PolicyMetrics* metrics = server_.metrics()) metrics->unchecked(route.why);
        append_reply(out_, route.action);
        LOG_DEBUG("client %s: %s: %s", peer_.c_str(), route.why, std::string(route.action).c_str());
        return false;
    }
    tenant_.assign(route.tenant->id);
    traffic_class_ = route.traffic_class;
    recipient_.assign(request.recipient);
    normalise_recipient_into(normalised_, request.recipient);
    queue_id_.assign(request.queue_id);
    instance_.assign(request.instance);
    route_.assign(route.tenant->route_of(traffic_class_));
    // A messages-counted limit counts a message's first permitted
    // recipient; Postfix names the message by its instance attribute
    // (without one, every recipient counts: never more than the limit).
    const bool counted_already = !instance_.empty() && instance_ == counted_instance_ && tenant_ == counted_tenant_;
    check_.request().select(*route.tenant, traffic_class_, request.sasl_username, !counted_already);
    check_.request().hold_for(route.tenant->counts_accepted_only(traffic_class_)
                                  ? connection_id(request.client_address, request.client_port, request.server_address)
                                  : std::string());
    if (!check_.start(server_.redis(), tenant_, traffic_class_, normalised_)) {
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
    const CheckContext context{tenant_, traffic_class_, &check_.request(), recipient_, route_};
    outcome_action(action_, outcome, context, server_.settings().decision);
    append_reply(out_, action_);
    ServerStats& stats = server_.stats();
    switch (outcome.kind) {
        case RateOutcome::Kind::permitted:
            ++stats.permitted;
            if (check_.request().counts_messages()) {
                counted_instance_ = instance_;
                counted_tenant_ = tenant_;
            }
            break;
        case RateOutcome::Kind::limited:
        case RateOutcome::Kind::paused: ++stats.deferred; break;
        case RateOutcome::Kind::suppressed: ++stats.rejected; break;
        default: ++stats.fallback; break;
    }
    if (PolicyMetrics* metrics = server_.metrics()) metrics->decision(tenant_, traffic_class_, outcome.kind);
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
    const bool refusal = outcome.kind == RateOutcome::Kind::limited || outcome.kind == RateOutcome::Kind::suppressed ||
                         outcome.kind == RateOutcome::Kind::paused;
    const LogLevel level = refusal ? LogLevel::info : LogLevel::debug;
    if (!log_enabled(level)) return;
    std::string recipient;
    append_printable(recipient, recipient_, 256);
    std::string queue_id;
    append_printable(queue_id, queue_id_, 32);
    if (queue_id.empty()) queue_id = "NOQUEUE";
    const char* word = outcome_word(outcome.kind);
    const std::string class_name(to_string(traffic_class_));
    switch (outcome.kind) {
        case RateOutcome::Kind::permitted: {
            const auto limits = check_.request().limits();
            const std::string first = limits.empty() ? std::string("no limit left to count: message counted already")
                                                     : std::to_string(outcome.count) + " of " +
                                                           counted_against(limits.front().limit);
            const std::string route = route_.empty() ? std::string() : "; route " + route_;
            log_message(level, "%s: tenant=%s class=%s rcpt=<%s> client=%s: %s (%s%s)", queue_id.c_str(),
                        tenant_.c_str(), class_name.c_str(), recipient.c_str(), peer_.c_str(), word, first.c_str(),
                        route.c_str());
            break;
        }
        case RateOutcome::Kind::limited:
        case RateOutcome::Kind::paused: {
            // The answer's text after "4.7.1 TENANT CLASS ", which names the limit.
            const std::string prefix = "DEFER_IF_PERMIT 4.7.1 " + tenant_ + " " + class_name + " ";
            const std::string what = action_.starts_with(prefix) ? action_.substr(prefix.size()) : action_;
            log_message(level, "%s: tenant=%s class=%s rcpt=<%s> client=%s: %s: %s", queue_id.c_str(),
                        tenant_.c_str(), class_name.c_str(), recipient.c_str(), peer_.c_str(), word,
                        log_wording(what).c_str());
            break;
        }
        case RateOutcome::Kind::suppressed: {
            std::string reason;
            append_printable(reason, decode_suppression(outcome.detail).reason, 200);
            log_message(level, "%s: tenant=%s class=%s rcpt=<%s> client=%s: %s: suppressed (%s)", queue_id.c_str(),
                        tenant_.c_str(), class_name.c_str(), recipient.c_str(), peer_.c_str(), word, reason.c_str());
            break;
        }
        default:
            log_message(level, "%s: tenant=%s class=%s rcpt=<%s> client=%s: %s: answered %s", queue_id.c_str(),
                        tenant_.c_str(), class_name.c_str(), recipient.c_str(), peer_.c_str(), word,
                        server_.settings().decision.redis_error_action.c_str());
            break;
    }
}

void PolicySession::write() {
    write_active_ = true;
    write_started_ = Clock::now();
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

void PolicySession::arm_timer(Clock::time_point when) {
    timer_.expires_at(when);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (!ec) self->on_timer();
    });
}

void PolicySession::on_timer() {
    if (closed_) return;
    const ConnectionTimeouts timeouts = timeouts_of(server_.settings());
    const ConnectionState now_state = state();
    const Clock::time_point now = Clock::now();
    if (now < deadline(now_state, timeouts)) {
        arm_timer(next_check(now_state, timeouts, now));
        return;
    }
    const char* reason = timeout_reason(now_state.kind);
    if (now_state.kind == ConnectionState::Kind::partial_request ||
        now_state.kind == ConnectionState::Kind::unread_answers) {
        // Postfix never does this; a broken or hostile client does.
        LOG_WARNING("client %s: %s after %s (request_timeout), closing the connection", peer_.c_str(), reason,
                    format_duration(timeouts.request).c_str());
    } else {
        LOG_DEBUG("client %s: %s for %s, closing the connection", peer_.c_str(), reason,
                  format_duration(timeouts.idle).c_str());
    }
    close();
}

}  // namespace tenantmail::policyd
