// track_events.cpp — see track_events.h.
#include "trackd/track_events.h"

#include "common/printable.h"
#include "common/recipient.h"
#include "common/redis_script.h"
#include "common/redis_keys.h"
#include "common/suppression.h"

namespace tenantmail::trackd {
namespace {

// Every event gets its Message-ID from the message's record (the token
// names the queue id only); "" once the record has expired.
// KEYS[1] the repeat key, KEYS[2] the stream, KEYS[3] the record; ARGV
// window, cap, event JSON, its message-id marker.
const std::string kOpenScript = std::string(kFillMessageIdLua) +
    "if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then\n"
    "  local event = fill_message_id(ARGV[3], ARGV[4], KEYS[3], '')\n"
    "  return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'event', event)\n"
    "end\n"
    "return false\n";

// KEYS[1] the stream, KEYS[2] the record; ARGV cap, event JSON, marker.
const std::string kClickScript = std::string(kFillMessageIdLua) +
    "local event = fill_message_id(ARGV[2], ARGV[3], KEYS[2], '')\n"
    "return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'event', event)\n";

// KEYS[1] the suppression hash, KEYS[2] the stream, KEYS[3] the record;
// ARGV recipient, entry, cap, event JSON, marker.
const std::string kUnsubscribeScript = std::string(kFillMessageIdLua) +
    "if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then\n"
    "  local event = fill_message_id(ARGV[4], ARGV[5], KEYS[3], '')\n"
    "  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'event', event)\n"
    "  return 1\n"
    "end\n"
    "return 0\n";

// EVALSHA of the script (its SHA-1 computed once per script), then the rest.
ScriptCommand script_command(const std::string& body, const std::string& sha1, std::vector<std::string> rest) {
    ScriptCommand command{body, {"EVALSHA", sha1}};
    command.argv.reserve(2 + rest.size());
    for (std::string& arg : rest) command.argv.push_back(std::move(arg));
    return command;
}

// The script's last arguments: the small ones, then the event JSON and its
// marker (moved, not copied: the JSON is the largest argument).
void append(std::vector<std::string>& args, std::initializer_list<std::string> small, MarkedEvent marked) {
    args.insert(args.end(), small);
    args.push_back(std::move(marked.json));
    args.push_back(std::move(marked.marker));
}

}  // namespace

std::vector<std::string_view> track_scripts() { return {kOpenScript, kClickScript, kUnsubscribeScript}; }

Event make_track_event(EventKind kind, const TrackingLink& link, const RequestFacts& facts) {
    Event event = make_event(kind, link.tenant, link.recipient);
    event.queue_id = link.queue_id;
    event.details = {{"user_agent", excerpt(facts.user_agent, kMaxUserAgentBytes)},
                     {"client_address", facts.client_address}};
    if (facts.automation.flagged()) {
        event.details["automated"] = std::string(facts.automation.automated);
        event.details["automated_reason"] = std::string(facts.automation.reason);
    }
    if (kind == EventKind::click) event.details["url"] = link.url;
    if (kind == EventKind::unsubscribe) event.details["method"] = "one-click";
    return event;
}

EventSummary summarise(const Event& event) { return {event.kind, event.tenant, event.queue_id, event.recipient}; }

ScriptCommand build_open_command(Event event, std::chrono::seconds repeat_window, std::size_t stream_cap) {
    static const std::string sha1 = script_sha1(kOpenScript);
    std::vector<std::string> args = {"3",
                                     open_seen_key(event.tenant, event.queue_id, normalise_recipient(event.recipient)),
                                     events_stream_key(event.tenant), message_key(event.tenant, event.queue_id)};
    MarkedEvent marked = event_with_message_id_marker(std::move(event));
    append(args, {std::to_string(repeat_window.count()), std::to_string(stream_cap)}, std::move(marked));
    return script_command(kOpenScript, sha1, std::move(args));
}

ScriptCommand build_click_command(Event event, std::size_t stream_cap) {
    static const std::string sha1 = script_sha1(kClickScript);
    std::vector<std::string> args = {"2", events_stream_key(event.tenant), message_key(event.tenant, event.queue_id)};
    MarkedEvent marked = event_with_message_id_marker(std::move(event));
    append(args, {std::to_string(stream_cap)}, std::move(marked));
    return script_command(kClickScript, sha1, std::move(args));
}

ScriptCommand build_unsubscribe_command(Event event, std::int64_t now, std::size_t stream_cap) {
    static const std::string sha1 = script_sha1(kUnsubscribeScript);
    std::vector<std::string> args = {"3", suppression_key(event.tenant), events_stream_key(event.tenant),
                                     message_key(event.tenant, event.queue_id), normalise_recipient(event.recipient),
                                     encode_suppression({"unsubscribe", now}), std::to_string(stream_cap)};
    MarkedEvent marked = event_with_message_id_marker(std::move(event));
    append(args, {}, std::move(marked));
    return script_command(kUnsubscribeScript, sha1, std::move(args));
}

}  // namespace tenantmail::trackd
