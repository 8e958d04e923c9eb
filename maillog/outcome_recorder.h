// outcome_recorder.h — turns a parsed delivery line into recorded outcomes:
// finds the tenant by queue id (lines of messages without a record are not
// ours and are skipped), then record_checked_outcome for the recipient (for
// qmgr's per-message expiry: for every recipient still queued or deferred),
// with a log line per outcome. What Postfix logged about the queue id
// (observe: sender, Message-ID, arrival; forgotten at "removed") is the
// message's identity: a record under the same queue id that is another
// message's (an expired or another tenant's record, the id reused by mail of
// no tenant) gets nothing, with one log line per message saying why.
// Blocking Redis client, reconnected after any error. An error means the
// line must be tried again later: recording is idempotent per event id, so
// a partly recorded line is safe to repeat.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>

#include "common/config.h"
#include "common/redis.h"
#include "common/result.h"
#include "maillog/maillog_line.h"
#include "maillog/maillog_runner.h"
#include "maillog/queue_identity.h"

namespace tenantmail::maillog {

class OutcomeRecorder final : public OutcomeSink {
public:
    OutcomeRecorder(RedisSettings settings, std::string password);

    using Stats = RecorderStats;

    // Learn from a line which message its queue id names.
    void observe(const QueueEvent& event, std::time_t now) override;
    // now: for the year of syslog timestamps, and the time of lines whose
    // stamp cannot be read. False when the queue id has no record of this
    // message: not a tenant's message, its record is not written yet, or
    // the record there is another message's.
    Result<bool> record(const DeliveryLine& line, std::time_t now) override;
    // A round trip, to tell whether Redis is back.
    Result<void> ping() override;

    const Stats& stats() const override { return stats_; }

private:
    Result<RedisClient*> client();
    Result<std::string> tenant_of(QueueIdState& state, std::string_view queue_id);
    // False when refused (the record is another message's).
    Result<bool> record_one(const DeliveryLine& line, QueueIdState& state, std::string_view recipient,
                            std::string_view reply, std::int64_t timestamp);
    Result<bool> record_expiry(const DeliveryLine& line, QueueIdState& state, std::int64_t timestamp);
    void log_refusal(const DeliveryLine& line, QueueIdState& state, const std::string& reason);
    Error drop_connection(const std::string& error);

    RedisSettings settings_;
    std::string password_;
    std::optional<RedisClient> redis_;
    // Per queue id: the message's identity and, once found, its tenant (the
    // lines of one message come close together). Forgotten when Postfix
    // frees the id, so a reused id is looked up afresh.
    QueueIdentities identities_;
    Stats stats_;
};

}  // namespace tenantmail::maillog
