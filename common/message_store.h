// message_store.h — what tenantmail remembers about each message it signed,
// and the one way an outcome (delivered, deferred, bounced, complained,
// blocked) is recorded: atomically, idempotently, together with its event.
//
// Keys (tenant in the hash tag, like every tenantmail key; all expire after
// the record TTL, default 7 days, counted from the last change):
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

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/events.h"
#include "common/redis.h"
#include "common/result.h"

namespace tenantmail {

constexpr std::size_t kMaxRecipientHistory = 20;
constexpr std::chrono::seconds kDefaultRecordTtl{7 * 24 * 3600};

enum class RecipientStatus { queued, delivered, deferred, bounced, complained, blocked };
std::string_view recipient_status_name(RecipientStatus status);
std::optional<RecipientStatus> parse_recipient_status(std::string_view name);

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

std::string message_key(std::string_view tenant, std::string_view queue_id);
std::string message_recipients_key(std::string_view tenant, std::string_view queue_id);
std::string message_seen_key(std::string_view tenant, std::string_view queue_id);
std::string message_index_key(std::string_view tenant);
std::string queue_id_key(std::string_view queue_id);

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

// An outcome for one recipient of one message. event.id must be
// deterministic for the fact it reports (same log line, same DSN: same id),
// so a retried delivery of the same fact is recognised and not repeated.
struct Outcome {
    std::string queue_id;
    std::string recipient;
    RecipientStatus status = RecipientStatus::delivered;
    std::string reply;
    Event event;           // tenant, kind, recipient, details; id as above
    bool emit_event = true;
};

enum class OutcomeResult {
    recorded,        // status updated and the event appended
    duplicate,       // this event id was recorded before: nothing done
    already_final,   // a bounce for a recipient already bounced (e.g. the
                     // DSN Postfix sends after its own log said bounced):
                     // history updated, no second event
};

// One EVALSHA (EVAL on NOSCRIPT) of the outcome script. An error means
// nothing was recorded and the caller should retry (bounce pipe: exit 75).
// The tenant is outcome.event.tenant. Filled in when empty: event.queue_id
// and event.recipient from the outcome, event.timestamp with now. The
// event's message_id is the record's Message-ID (by the script, so log
// followers that know only the queue id still report it, and a bounce
// report cannot name another); event.message_id is used only when the
// record has none (expired, or not written yet). An empty event.id
// gets a random one (then a retry is not recognised as a duplicate).
Result<OutcomeResult> record_outcome(RedisClient& redis, const Outcome& outcome,
                                     std::chrono::seconds ttl = kDefaultRecordTtl,
                                     std::size_t stream_cap = kDefaultEventsStreamCap);

// Which message an outcome belongs to, as the caller learnt it outside the
// record (tenantmail-maillog: from Postfix's own lines about the queue id).
// Unknown parts stay empty / 0 and are not compared.
struct MessageIdentity {
    // The envelope sender Postfix queued the message with (qmgr's from=<>):
    // for a tenant's mail the signed bounce address, unique per message.
    bool sender_known = false;
    std::string sender;
    // The Message-ID cleanup logged ("" when it logged none).
    std::string message_id;
    // The message entered Postfix at or after this time (Unix seconds; 0:
    // unknown). A record written before it is an earlier message's.
    std::int64_t not_before = 0;
};

// record_outcome for a caller that knows which message it reports on. The
// record under tenant and queue id must be that message: it must exist as
// the milter wrote it (not only the minimal one record_outcome creates),
// identity.sender must be its bounce_address (what the milter rewrote the
// sender to) or, should the MTA have kept the client's, its mail_from
// (compared without case), its Message-ID identity.message_id when
// both are known, and its time not before identity.not_before. Otherwise
// nothing at all is written (no status, no event, no seen mark) and the
// result is refused with the reason.
struct CheckedOutcome {
    bool refused = false;
    std::string refusal;  // why, for the log line (record's and caller's values)
    OutcomeResult result = OutcomeResult::recorded;  // when not refused
};
Result<CheckedOutcome> record_checked_outcome(RedisClient& redis, const Outcome& outcome,
                                              const MessageIdentity& identity,
                                              std::chrono::seconds ttl = kDefaultRecordTtl,
                                              std::size_t stream_cap = kDefaultEventsStreamCap);

// The script and the EVALSHA argv record_outcome sends (pure, for tests).
// Reply: {0, stream id} recorded (id "" when no event was due),
//        {1, ""} duplicate, {2, ""} already_final, {3, reason} refused:
//        the record is not the message of the identity given.
std::string_view outcome_script();
const std::string& outcome_script_sha1();
std::vector<std::string> build_outcome_evalsha(const Outcome& outcome, std::chrono::seconds ttl,
                                               std::size_t stream_cap,
                                               const MessageIdentity* identity = nullptr);
// The command that refreshes tm:qid:{QID}'s expiry after an outcome, only while
// it still names the outcome's tenant (one script, so it cannot re-point it).
std::vector<std::string> build_queue_id_refresh(std::string_view queue_id, std::string_view tenant,
                                                std::chrono::seconds ttl);

// The tenant of a queue id ("" when no record exists).
Result<std::string> tenant_of_queue_id(RedisClient& redis, std::string_view queue_id);

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
