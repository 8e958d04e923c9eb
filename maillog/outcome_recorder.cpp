// outcome_recorder.cpp — see outcome_recorder.h.
#include "maillog/outcome_recorder.h"

#include <algorithm>

#include "common/log.h"
#include "common/message_store.h"
#include "maillog/maillog_outcome.h"

namespace tenantmail::maillog {
namespace {

std::string_view result_text(OutcomeResult result) {
    switch (result) {
        case OutcomeResult::recorded: return "recorded";
        case OutcomeResult::duplicate: return "already recorded";
        case OutcomeResult::already_final: return "already bounced, no new event";
    }
    return "?";
}

}  // namespace

OutcomeRecorder::OutcomeRecorder(RedisSettings settings, std::string password)
    : settings_(std::move(settings)), password_(std::move(password)) {}

// Any failure may have left the connection unusable (hiredis marks a
// context that timed out as broken): drop it, the next call reconnects.
Error OutcomeRecorder::drop_connection(const std::string& error) {
    redis_.reset();
    return Error{error};
}

Result<RedisClient*> OutcomeRecorder::client() {
    if (!redis_) {
        auto connected = RedisClient::connect(settings_, password_);
        if (!connected) return Error{connected.error()};
        redis_.emplace(std::move(connected).value());
    }
    return &*redis_;
}

Result<void> OutcomeRecorder::ping() {
    auto redis = client();
    if (!redis) return Error{redis.error()};
    auto reply = (*redis)->command({"PING"});
    if (!reply) return drop_connection(reply.error());
    return {};
}

void OutcomeRecorder::observe(const QueueEvent& event, std::time_t now) {
    identities_.observe(event, line_time_to_unix(event.time, now).value_or(static_cast<std::int64_t>(now)));
}

Result<std::string> OutcomeRecorder::tenant_of(QueueIdState& state, std::string_view queue_id) {
    if (!state.tenant.empty()) return state.tenant;
    auto redis = client();
    if (!redis) return Error{redis.error()};
    auto tenant = tenant_of_queue_id(**redis, queue_id);
    if (!tenant) return drop_connection(tenant.error());
    // Only positive answers are kept: a record is written before Postfix
    // queues the message, but "not ours" costs one GET and is never wrong
    // to ask again.
    state.tenant = *tenant;
    return tenant;
}

void OutcomeRecorder::log_refusal(const DeliveryLine& line, QueueIdState& state, const std::string& reason) {
    ++stats_.refused;
    if (state.refusal_logged) return;
    state.refusal_logged = true;
    // The reason quotes Redis and the log: bounded, as every outside text.
    constexpr std::size_t kMaxReason = 300;
    LOG_WARNING("%.*s: tenant=%s status=%.*s: not recorded, the record of this queue id is another message: %.*s "
                "(queue id reused; see enable_long_queue_ids)",
                static_cast<int>(line.queue_id.size()), line.queue_id.data(), state.tenant.c_str(),
                static_cast<int>(line.status_word.size()), line.status_word.data(),
                static_cast<int>(std::min(reason.size(), kMaxReason)), reason.data());
}

Result<bool> OutcomeRecorder::record_one(const DeliveryLine& line, QueueIdState& state, std::string_view recipient,
                                         std::string_view reply, std::int64_t timestamp) {
    const std::string tenant = state.tenant;
    OutcomeFacts facts;
    facts.tenant = tenant;
    facts.recipient = recipient;
    facts.reply = reply;
    facts.timestamp = timestamp;
    // message_id stays empty: the outcome script fills it in from the
    // message record in the same round trip.
    const Outcome outcome = make_outcome(line, facts);
    auto redis = client();
    if (!redis) return Error{redis.error()};
    auto checked = record_checked_outcome(**redis, outcome, state.identity);
    if (!checked) return drop_connection(checked.error());
    if (checked->refused) {
        log_refusal(line, state, checked->refusal);
        // The queue id may point at this message's record once the milter's
        // writer has caught up: look it up again next time.
        state.tenant.clear();
        return false;
    }
    const OutcomeResult result = checked->result;
    switch (result) {
        case OutcomeResult::recorded: ++stats_.recorded; break;
        case OutcomeResult::duplicate: ++stats_.duplicates; break;
        case OutcomeResult::already_final: ++stats_.already_final; break;
    }
    const std::string dsn(outcome.event.details["dsn"].get<std::string>());
    LOG_INFO("%.*s: tenant=%s to=<%.*s> status=%.*s dsn=%s event=%.*s: %.*s", static_cast<int>(line.queue_id.size()),
             line.queue_id.data(), tenant.c_str(), static_cast<int>(recipient.size()), recipient.data(),
             static_cast<int>(delivery_status_name(line.status).size()), delivery_status_name(line.status).data(),
             dsn.c_str(), static_cast<int>(event_kind_name(outcome.event.kind).size()),
             event_kind_name(outcome.event.kind).data(), static_cast<int>(result_text(result).size()),
             result_text(result).data());
    return true;
}

// qmgr logs one line per message that stayed in the queue too long; the
// recipients it returns to the sender are those without a final status.
Result<bool> OutcomeRecorder::record_expiry(const DeliveryLine& line, QueueIdState& state, std::int64_t timestamp) {
    auto redis = client();
    if (!redis) return Error{redis.error()};
    auto recipients = load_recipients(**redis, state.tenant, line.queue_id);
    if (!recipients) return drop_connection(recipients.error());
    for (const RecipientState& pending : *recipients) {
        if (pending.status != RecipientStatus::queued && pending.status != RecipientStatus::deferred) continue;
        // The last deferral reason says why it never arrived.
        const std::string_view reply = pending.reply.empty() ? std::string_view("expired, returned to sender")
                                                             : std::string_view(pending.reply);
        auto recorded = record_one(line, state, pending.recipient, reply, timestamp);
        if (!recorded || !*recorded) return recorded;  // refused for one: the record is not this message
    }
    return true;
}

Result<bool> OutcomeRecorder::record(const DeliveryLine& line, std::time_t now) {
    const std::int64_t timestamp = line_time_to_unix(line.time, now).value_or(static_cast<std::int64_t>(now));
    QueueIdState& state = identities_.at(line.host, line.queue_id, timestamp);
    // qmgr's expiry line names the sender too.
    if (line.status == DeliveryStatus::expired && !state.identity.sender_known) {
        state.identity.sender_known = true;
        state.identity.sender = std::string(line.sender);
    }
    auto tenant = tenant_of(state, line.queue_id);
    if (!tenant) return Error{tenant.error()};
    if (tenant->empty()) return false;
    return line.recipient.empty() ? record_expiry(line, state, timestamp)
                                  : record_one(line, state, recorded_recipient(line), line.reply, timestamp);
}

}  // namespace tenantmail::maillog
