// outcome_recorder.cpp — see outcome_recorder.h.
#include "maillog/outcome_recorder.h"

#include "common/log.h"
#include "common/message_store.h"
#include "maillog/maillog_outcome.h"

namespace tenantmail::maillog {
namespace {

constexpr std::size_t kTenantCacheSize = 4096;

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

Result<std::string> OutcomeRecorder::tenant_of(std::string_view queue_id) {
    if (const auto it = tenants_.find(std::string(queue_id)); it != tenants_.end()) return it->second;
    auto redis = client();
    if (!redis) return Error{redis.error()};
    auto tenant = tenant_of_queue_id(**redis, queue_id);
    if (!tenant) return drop_connection(tenant.error());
    // Only positive answers are kept: a record is written before Postfix
    // queues the message, but "not ours" costs one GET and is never wrong
    // to ask again.
    if (!tenant->empty()) {
        if (tenants_.size() >= kTenantCacheSize) tenants_.clear();
        tenants_.emplace(std::string(queue_id), *tenant);
    }
    return tenant;
}

Result<void> OutcomeRecorder::record_one(const DeliveryLine& line, std::string_view tenant,
                                         std::string_view recipient, std::string_view reply,
                                         std::int64_t timestamp) {
    OutcomeFacts facts;
    facts.tenant = tenant;
    facts.recipient = recipient;
    facts.reply = reply;
    facts.timestamp = timestamp;
    // message_id stays empty: record_outcome's script fills it in from the
    // message record in the same round trip.
    const Outcome outcome = make_outcome(line, facts);
    auto redis = client();
    if (!redis) return Error{redis.error()};
    auto result = record_outcome(**redis, outcome);
    if (!result) return drop_connection(result.error());
    switch (*result) {
        case OutcomeResult::recorded: ++stats_.recorded; break;
        case OutcomeResult::duplicate: ++stats_.duplicates; break;
        case OutcomeResult::already_final: ++stats_.already_final; break;
    }
    const std::string dsn(outcome.event.details["dsn"].get<std::string>());
    LOG_INFO("%.*s: tenant=%.*s to=<%.*s> status=%.*s dsn=%s event=%.*s: %.*s", static_cast<int>(line.queue_id.size()),
             line.queue_id.data(), static_cast<int>(tenant.size()), tenant.data(), static_cast<int>(recipient.size()),
             recipient.data(), static_cast<int>(delivery_status_name(line.status).size()),
             delivery_status_name(line.status).data(), dsn.c_str(),
             static_cast<int>(event_kind_name(outcome.event.kind).size()), event_kind_name(outcome.event.kind).data(),
             static_cast<int>(result_text(*result).size()), result_text(*result).data());
    return {};
}

// qmgr logs one line per message that stayed in the queue too long; the
// recipients it returns to the sender are those without a final status.
Result<void> OutcomeRecorder::record_expiry(const DeliveryLine& line, std::string_view tenant,
                                            std::int64_t timestamp) {
    auto redis = client();
    if (!redis) return Error{redis.error()};
    auto recipients = load_recipients(**redis, tenant, line.queue_id);
    if (!recipients) return drop_connection(recipients.error());
    for (const RecipientState& state : *recipients) {
        if (state.status != RecipientStatus::queued && state.status != RecipientStatus::deferred) continue;
        // The last deferral reason says why it never arrived.
        const std::string_view reply = state.reply.empty() ? std::string_view("expired, returned to sender")
                                                           : std::string_view(state.reply);
        if (auto recorded = record_one(line, tenant, state.recipient, reply, timestamp); !recorded) return recorded;
    }
    return {};
}

Result<bool> OutcomeRecorder::record(const DeliveryLine& line, std::time_t now) {
    auto tenant = tenant_of(line.queue_id);
    if (!tenant) return Error{tenant.error()};
    if (tenant->empty()) return false;
    const std::int64_t timestamp = line_time_to_unix(line.time, now).value_or(static_cast<std::int64_t>(now));
    auto recorded = line.recipient.empty() ? record_expiry(line, *tenant, timestamp)
                                           : record_one(line, *tenant, recorded_recipient(line), line.reply, timestamp);
    if (!recorded) return Error{recorded.error()};
    return true;
}

}  // namespace tenantmail::maillog
