// message_outcome.cpp — record_outcome: one Lua script that updates a
// recipient's status and appends its event atomically and idempotently, and
// the queue id -> tenant lookup that log followers start from.
#include "common/message_outcome.h"

#include <nlohmann/json.hpp>

#include "common/recipient.h"
#include "common/redis.h"
#include "common/redis_keys.h"
#include "common/redis_script.h"
#include "common/sending_health.h"

namespace tenantmail {

namespace {

// Why one script: the status update, the "seen" mark and the event must
// happen together or not at all. Two deliveries of the same fact (the bounce
// pipe retried after a timeout, the log follower re-reading a line after a
// restart) then find the event id in the seen set and change nothing; a
// crash between steps cannot leave a status without its event or an event
// twice.
//
// already_final: Postfix logs status=bounced and then sends the sender a
// DSN for the same recipient, which comes back through the bounce pipe. The
// second report of the same final status goes into the history (its text
// is often more useful) but is not reported to the tenant twice.
//
// message_id: the event JSON holds a marker in its place that the script
// replaces with the record's Message-ID, JSON-quoted by cjson: the milter
// saw the message, while a log line knows only the queue id and a bounce
// report merely claims one. Only when the record has none does the
// caller's (the report's) stand in. The marker contains the event id, so no
// other text in the event can match it.
//
// The record may be missing (expired, or the milter's writer has not caught
// up): a minimal one (queue id, tenant, time) is created so the outcome is
// not lost and the views show it; the milter's later HSET fills in the rest.
//
// Identity (record_checked_outcome): a queue id is reused by Postfix, so a
// caller that knows which message it reports on has the record checked
// first, in the same script so no record can be replaced between check and
// write. A record that is not that message gets nothing, not even the seen
// mark, and no minimal record is made: an expired or foreign record under
// a reused queue id must not collect another message's facts.
//
// Health: a recipient's first delivered, bounced or complained status also
// counts into the tenant's hour bucket (sending_health.h), in this script
// so a retried report cannot count twice.
//
// KEYS: msg, rcpt, seen, events stream, index, health bucket (all in the
// tenant's slot).
// ARGV: event id, recipient, status, reply, time (0: Redis TIME), history
// cap, ttl seconds, stream cap, event JSON ("" for none), queue id, tenant,
// message-id marker ("" without an event), the caller's Message-ID,
// identity check ("1" or "0"), sender known ("1" or "0"), sender,
// Message-ID logged, not-before time (0: unknown), status is final ("1" or
// "0", from kRecipientStatuses, so the script needs no list of its own),
// health bucket expiry (seconds), health counter ("" when the status counts
// into none; health_counter() in sending_health.h).
constexpr std::string_view kOutcomeScript = R"lua(-- tenantmail outcome v5
local msg_key, rcpt_key, seen_key, events_key, index_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local health_key, health_ttl, health_counter = KEYS[6], ARGV[20], ARGV[21]
local event_id, recipient, status, reply = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local time, history_cap, ttl = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local stream_cap, event, queue_id, tenant, marker = ARGV[8], ARGV[9], ARGV[10], ARGV[11], ARGV[12]
local claimed_message_id, status_is_final = ARGV[13], ARGV[19] == '1'
if ARGV[14] == '1' then
  local sender_known, sender, logged_id, not_before = ARGV[15], ARGV[16], ARGV[17], tonumber(ARGV[18])
  local rec = redis.call('HMGET', msg_key, 'bounce_address', 'mail_from', 'message_id', 'time')
  if not rec[1] and not rec[2] then
    return {3, 'no record of the message as the milter wrote it'}
  end
  local bounce_address, mail_from = rec[1] or '', rec[2] or ''
  local wanted = string.lower(sender)
  if sender_known == '1' and not (bounce_address ~= '' and string.lower(bounce_address) == wanted)
      and string.lower(mail_from) ~= wanted then
    return {3, 'envelope sender <' .. sender .. '> is not the record\'s <' .. bounce_address .. '> or <' ..
               mail_from .. '>'}
  end
  local record_id = string.match(rec[3] or '', '^%s*(.-)%s*$')
  logged_id = string.match(logged_id, '^%s*(.-)%s*$')
  if logged_id ~= '' and record_id ~= '' and logged_id ~= record_id then
    return {3, 'Message-ID ' .. logged_id .. ' is not the record\'s ' .. record_id}
  end
  local record_time = tonumber(rec[4] or '')
  if not_before > 0 and record_time and record_time < not_before then
    return {3, 'the record (time ' .. record_time .. ') is older than the message (arrived at ' .. not_before .. ' or later)'}
  end
end
if redis.call('SADD', seen_key, event_id) == 0 then return {1, ''} end
if time == 0 then time = tonumber(redis.call('TIME')[1]) end
if redis.call('EXISTS', msg_key) == 0 then
  redis.call('HSET', msg_key, 'queue_id', queue_id, 'tenant', tenant, 'time', time)
  redis.call('ZADD', index_key, time, queue_id)
  redis.call('EXPIRE', index_key, ttl)
end
local entry = nil
local old = redis.call('HGET', rcpt_key, recipient)
if old then
  local ok, decoded = pcall(cjson.decode, old)
  if ok and type(decoded) == 'table' then entry = decoded end
end
local previous = entry and entry.status
if not entry then entry = {} end
if type(entry.history) ~= 'table' then entry.history = {} end
table.insert(entry.history, {status = status, reply = reply, time = time})
while #entry.history > history_cap do table.remove(entry.history, 1) end
entry.status, entry.reply, entry.time = status, reply, time
redis.call('HSET', rcpt_key, recipient, cjson.encode(entry))
if previous ~= status and health_counter ~= '' then
  redis.call('HINCRBY', health_key, health_counter, 1)
  redis.call('EXPIRE', health_key, health_ttl)
end
local code, id = 0, ''
if previous == status and status_is_final then
  code = 2
elseif event ~= '' then
  if marker ~= '' then
    local message_id = redis.call('HGET', msg_key, 'message_id') or ''
    if message_id == '' then message_id = claimed_message_id end
    local first, last = string.find(event, marker, 1, true)
    if first then
      event = string.sub(event, 1, first - 1) .. cjson.encode(message_id) .. string.sub(event, last + 1)
    end
  end
  id = redis.call('XADD', events_key, 'MAXLEN', '~', stream_cap, '*', 'event', event)
end
redis.call('EXPIRE', msg_key, ttl)
redis.call('EXPIRE', rcpt_key, ttl)
redis.call('EXPIRE', seen_key, ttl)
return {code, id}
)lua";

// tm:qid:{QID} is the record writer's: an outcome only keeps it alive as
// long as the record, and only while it names the outcome's tenant. A late
// outcome of an earlier message (a bounce report for tenant A arriving
// after the queue id was reused by tenant B) must not point B's queue id
// back at A. Tiny and rare, so EVAL rather than EVALSHA.
constexpr std::string_view kQueueIdRefreshScript =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('EXPIRE', KEYS[1], ARGV[2]) end return 0";


// Valid UTF-8 for cjson and nlohmann alike: invalid bytes become U+FFFD.
std::string utf8_clean(std::string_view text) {
    const std::string quoted =
        nlohmann::json(std::string(text)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return nlohmann::json::parse(quoted).get<std::string>();
}

std::int64_t now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// The event as it goes into the stream, with the defaults record_outcome
// documents filled in.
Event completed_event(const Outcome& outcome) {
    Event event = outcome.event;
    if (event.id.empty()) event.id = make_event_id();
    if (event.queue_id.empty()) event.queue_id = outcome.queue_id;
    if (event.recipient.empty()) event.recipient = outcome.recipient;
    if (event.timestamp == 0) event.timestamp = now_seconds();
    return event;
}

}  // namespace

std::string_view outcome_script() { return kOutcomeScript; }

const std::string& outcome_script_sha1() {
    static const std::string sha1 = script_sha1(kOutcomeScript);
    return sha1;
}

std::vector<std::string> build_outcome_evalsha(const Outcome& outcome, std::chrono::seconds ttl,
                                               std::size_t stream_cap, const MessageIdentity* identity) {
    Event event = completed_event(outcome);
    const std::string& tenant = event.tenant;
    const std::string& qid = outcome.queue_id;
    const std::string claimed_message_id = utf8_clean(event.message_id);
    std::string marker;
    std::string event_json;
    if (outcome.emit_event) {
        MarkedEvent marked = event_with_message_id_marker(event);
        event_json = std::move(marked.json);
        marker = std::move(marked.marker);
    }
    return {"EVALSHA",
            outcome_script_sha1(),
            "6",
            message_key(tenant, qid),
            message_recipients_key(tenant, qid),
            message_seen_key(tenant, qid),
            events_stream_key(tenant),
            message_index_key(tenant),
            health_bucket_key(tenant, health_hour(now_seconds())),
            event.id,
            normalise_recipient(utf8_clean(outcome.recipient)),
            std::string(recipient_status_name(outcome.status)),
            utf8_clean(outcome.reply),
            std::to_string(event.timestamp),
            std::to_string(kMaxRecipientHistory),
            std::to_string(ttl.count()),
            std::to_string(stream_cap),
            event_json,
            qid,
            tenant,
            marker,
            claimed_message_id,
            identity != nullptr ? "1" : "0",
            identity != nullptr && identity->sender_known ? "1" : "0",
            identity != nullptr ? utf8_clean(identity->sender) : std::string(),
            identity != nullptr ? utf8_clean(identity->message_id) : std::string(),
            std::to_string(identity != nullptr ? identity->not_before : 0),
            is_final_status(outcome.status) ? "1" : "0",
            std::to_string(kHealthBucketTtl.count()),
            std::string(health_counter(outcome.status))};
}

std::vector<std::string> build_queue_id_refresh(std::string_view queue_id, std::string_view tenant,
                                                std::chrono::seconds ttl) {
    return {"EVAL", std::string(kQueueIdRefreshScript), "1", queue_id_key(queue_id), std::string(tenant),
            std::to_string(ttl.count())};
}

namespace {

Result<CheckedOutcome> run_outcome_script(RedisClient& redis, const Outcome& outcome, const MessageIdentity* identity,
                                          std::chrono::seconds ttl, std::size_t stream_cap) {
    const std::string& tenant = outcome.event.tenant;
    if (tenant.empty() || outcome.queue_id.empty() || outcome.recipient.empty()) {
        return make_error("cannot record an outcome without tenant, queue id and recipient");
    }
    std::vector<std::string> argv = build_outcome_evalsha(outcome, ttl, stream_cap, identity);
    auto reply = redis.command(argv);
    if (!reply && is_noscript_error(reply.error())) {
        argv[0] = "EVAL";
        argv[1] = std::string(kOutcomeScript);
        reply = redis.command(argv);
    }
    const std::string what = "tenant " + tenant + ": " + outcome.queue_id + ": cannot record " +
                             std::string(recipient_status_name(outcome.status)) + " for " + outcome.recipient + ": ";
    if (!reply) return make_error(what + reply.error());
    const redisReply* r = reply->get();
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 || r->element[0]->type != REDIS_REPLY_INTEGER) {
        return make_error(what + "unexpected reply from the outcome script");
    }
    const long long code = r->element[0]->integer;
    CheckedOutcome checked;
    if (code == 3) {
        checked.refused = true;
        if (r->elements > 1 && r->element[1]->type == REDIS_REPLY_STRING)
            checked.refusal.assign(r->element[1]->str, r->element[1]->len);
        return checked;
    }
    if (code == 1) {
        checked.result = OutcomeResult::duplicate;
        return checked;
    }
    // Keep the queue id findable as long as the record lives. Another hash
    // slot, so not inside the script; losing this refresh only shortens the
    // lookup's life, so a failure here does not fail the outcome.
    (void)redis.command(build_queue_id_refresh(outcome.queue_id, tenant, ttl));
    checked.result = code == 2 ? OutcomeResult::already_final : OutcomeResult::recorded;
    return checked;
}

}  // namespace

Result<OutcomeResult> record_outcome(RedisClient& redis, const Outcome& outcome, std::chrono::seconds ttl,
                                     std::size_t stream_cap) {
    auto checked = run_outcome_script(redis, outcome, nullptr, ttl, stream_cap);
    if (!checked) return Error{checked.error()};
    return checked->result;  // never refused: nothing was asked to be checked
}

Result<CheckedOutcome> record_checked_outcome(RedisClient& redis, const Outcome& outcome,
                                              const MessageIdentity& identity, std::chrono::seconds ttl,
                                              std::size_t stream_cap) {
    return run_outcome_script(redis, outcome, &identity, ttl, stream_cap);
}

Result<std::string> tenant_of_queue_id(RedisClient& redis, std::string_view queue_id) {
    auto reply = redis.command({"GET", queue_id_key(queue_id)});
    if (!reply) return Error{reply.error()};
    const redisReply* r = reply->get();
    if (r->type == REDIS_REPLY_NIL) return std::string();
    if (r->type != REDIS_REPLY_STRING) return make_error("unexpected reply to GET " + queue_id_key(queue_id));
    return std::string(r->str, r->len);
}

}  // namespace tenantmail
