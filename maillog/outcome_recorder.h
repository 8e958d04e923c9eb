// outcome_recorder.h — turns a parsed delivery line into recorded outcomes:
// finds the tenant by queue id (lines of messages without a record are not
// ours and are skipped), then record_outcome for the recipient (for qmgr's
// per-message expiry: for every recipient still queued or deferred), with a
// log line per outcome. Blocking Redis client, reconnected after any error.
// An error means the line must be tried again later: record_outcome is
// idempotent per event id, so a partly recorded line is safe to repeat.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/config.h"
#include "common/redis.h"
#include "common/result.h"
#include "maillog/maillog_line.h"

namespace tenantmail::maillog {

class OutcomeRecorder {
public:
    OutcomeRecorder(RedisSettings settings, std::string password);

    struct Stats {
        std::uint64_t recorded = 0;
        std::uint64_t duplicates = 0;
        std::uint64_t already_final = 0;
    };

    // now: for the year of syslog timestamps, and the time of lines whose
    // stamp cannot be read. False when the queue id has no message record:
    // not a tenant's message, or its record is not written yet.
    Result<bool> record(const DeliveryLine& line, std::time_t now);
    // A round trip, to tell whether Redis is back.
    Result<void> ping();

    const Stats& stats() const { return stats_; }

private:
    Result<RedisClient*> client();
    Result<std::string> tenant_of(std::string_view queue_id);
    Result<void> record_one(const DeliveryLine& line, std::string_view tenant, std::string_view recipient,
                            std::string_view reply, std::int64_t timestamp);
    Result<void> record_expiry(const DeliveryLine& line, std::string_view tenant, std::int64_t timestamp);
    Error drop_connection(const std::string& error);

    RedisSettings settings_;
    std::string password_;
    std::optional<RedisClient> redis_;
    // Queue id -> tenant for messages seen recently: the lines of one
    // message (one per recipient, deferrals, the final status) come close
    // together. Bounded; cleared when full.
    std::unordered_map<std::string, std::string> tenants_;
    Stats stats_;
};

}  // namespace tenantmail::maillog
