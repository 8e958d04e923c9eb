// message_store.h — what tenantmail remembers about each message it signed:
// the record, its recipients' states and the statuses they move through, the
// commands that store a record and the reads behind tenantmailctl's views.
// How an outcome is recorded is message_outcome.h.
//
// Keys (named in redis_keys.h; tenant in the hash tag, like every tenantmail
// key; all expire after the record TTL, default 7 days, counted from the
// last change):
//   tm:{T}:msg:QID          hash: queue_id, message_id, tenant, class,
//                           mail_from, bounce_address, header_from, header_to,
//                           subject, time (Unix seconds)
//   tm:{T}:msg:QID:rcpt     hash: normalised recipient -> JSON
//                           {"status":"queued|delivered|deferred|bounced|
//                           complained|blocked","reply":"last SMTP reply",
//                           "time":N,"history":[{"status","reply","time"},...]}
//                           (history capped at kMaxRecipientHistory entries)
//   tm:{T}:msg:QID:seen     set of event ids already recorded (idempotence)
//   tm:{T}:messages         sorted set: QID scored by time, for the views;
//                           members older than the TTL are trimmed on insert
//   tm:qid:{QID}            string: the tenant, so a log line that carries
//                           only the queue id finds its message; set only by
//                           the record writer (build_store_record), never
//                           re-pointed by an outcome
// A queue id names a message only while Postfix holds it: short (hex) ids
// come back within minutes on a busy host, and two hosts sharing one Redis
// can hand out the same one. enable_long_queue_ids = yes makes them unique
// over time and, practically, across hosts; even then a record is the
// message whose identity (envelope sender, Message-ID, time) it holds, and
// a follower that knows that identity records only into a record that
// matches it (record_checked_outcome).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/events.h"
#include "common/redis_keys.h"
#include "common/result.h"

namespace tenantmail {

class RedisClient;  // common/redis.h; declared only, so this header stays free of hiredis

constexpr std::size_t kMaxRecipientHistory = 20;
constexpr std::chrono::seconds kDefaultRecordTtl{7 * 24 * 3600};

enum class RecipientStatus { queued, delivered, deferred, bounced, complained, blocked };

// Every status: its name in the recipient JSON and the views, and whether it
// is final. A final status reported again for the same recipient (Postfix
// logs status=bounced, then its DSN comes back through the bounce pipe) is
// kept in the history but not reported to the tenant a second time; a
// status that may legitimately repeat (deferred, delivered to a re-queued
// copy) is not final. Adding a status is one row here.
struct RecipientStatusInfo {
    RecipientStatus status;
    std::string_view name;
    bool is_final;
};
inline constexpr std::array<RecipientStatusInfo, 6> kRecipientStatuses{{
    {RecipientStatus::queued, "queued", false},
    {RecipientStatus::delivered, "delivered", false},
    {RecipientStatus::deferred, "deferred", false},
    {RecipientStatus::bounced, "bounced", true},
    {RecipientStatus::complained, "complained", true},
    {RecipientStatus::blocked, "blocked", false},
}};

std::string_view recipient_status_name(RecipientStatus status);
std::optional<RecipientStatus> parse_recipient_status(std::string_view name);
bool is_final_status(RecipientStatus status);

struct MessageRecord {
    std::string queue_id;
    std::string message_id;      // Message-ID header value, "" when absent
    std::string tenant;
    std::string traffic_class;   // "bulk" or "transactional"
    std::string mail_from;       // envelope sender as the client gave it
    std::string bounce_address;  // what the milter rewrote it to ("" if unchanged)
    std::string header_from;
    std::string header_to;
    std::string subject;
    std::int64_t time = 0;
    std::vector<std::string> recipients;  // envelope recipients, each starts "queued"
};

struct RecipientState {
    std::string recipient;
    RecipientStatus status = RecipientStatus::queued;
    std::string reply;
    std::int64_t time = 0;
    struct Step { RecipientStatus status; std::string reply; std::int64_t time; };
    std::vector<Step> history;
};


// The commands that store a new record (one MULTI/EXEC worth), pure so the
// milter can pipeline them and tests can read them. MULTI ... EXEC covers the
// tenant's keys (one hash slot); the tm:qid:{QID} SET follows it, since it
// lives in another slot. Recipients are written with HSETNX: an outcome
// recorded before the record (a fast delivery racing the milter's writer)
// is never reset to "queued". First in the transaction, a script deletes a
// record of another message under the same key (the queue id reused by the
// same tenant: other envelope sender, bounce address, Message-ID or time),
// so none of its recipients or event ids carry over.
std::vector<std::vector<std::string>> build_store_record(const MessageRecord& record,
                                                         std::chrono::seconds ttl);
std::string_view replace_other_message_script();  // that script, for tests

// The recipient hash value, both ways. decode accepts any JSON object with
// at least a known "status"; anything else is an error naming the recipient.
std::string encode_recipient_state(const RecipientState& state);
Result<RecipientState> decode_recipient_state(std::string_view recipient, std::string_view json);
// A new recipient: status queued at time, history holding that one step.
RecipientState queued_recipient(std::string recipient, std::int64_t time);

// The record from the message hash's field/value pairs (unknown fields are
// ignored, missing ones stay empty; recipients are not in that hash).
MessageRecord message_record_from_fields(const std::vector<std::pair<std::string, std::string>>& fields);

// Reading, for tenantmailctl's views.
Result<std::vector<RecipientState>> load_recipients(RedisClient& redis, std::string_view tenant,
                                                    std::string_view queue_id);

struct StoredMessage {
    MessageRecord record;  // record.recipients: the recipient hash's fields
    std::vector<RecipientState> recipients;  // sorted by address
};
// Queue ids of the tenant's messages submitted at or after since (Unix
// seconds), oldest first.
Result<std::vector<std::string>> list_message_ids(RedisClient& redis, std::string_view tenant, std::int64_t since);
// Loads many messages in one pipelined round trip; ids without a record
// (expired) are left out.
Result<std::vector<StoredMessage>> load_messages(RedisClient& redis, std::string_view tenant,
                                                 const std::vector<std::string>& queue_ids);

}  // namespace tenantmail
