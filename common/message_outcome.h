// message_outcome.h — the one way an outcome (delivered, deferred, bounced,
// complained, blocked) is recorded for a recipient of a stored message
// (message_store.h): one Lua script, atomic and idempotent, that updates the
// recipient's status and appends its event together; and the queue id ->
// tenant lookup that log followers start from. The builders are pure (tests
// read the exact commands); record_outcome() and friends do the I/O over a
// blocking RedisClient and report any failure so the caller can retry.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/events.h"
#include "common/message_store.h"
#include "common/result.h"

namespace tenantmail {

class RedisClient;  // common/redis.h; declared only, so this header stays free of hiredis

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

}  // namespace tenantmail
