// track_events.cpp — see track_events.h.
#include "trackd/track_events.h"

#include "common/printable.h"
#include "common/recipient.h"
#include "common/redis_keys.h"
#include "common/suppression.h"

namespace tenantmail::trackd {
namespace {

// KEYS[1] the repeat key, KEYS[2] the stream; ARGV window, cap, event JSON.
constexpr const char* kOpenScript =
    "if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then\n"
    "  return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'event', ARGV[3])\n"
    "end\n"
    "return false\n";

// KEYS[1] the suppression hash, KEYS[2] the stream; ARGV recipient, entry,
// cap, event JSON.
constexpr const char* kUnsubscribeScript =
    "if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then\n"
    "  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'event', ARGV[4])\n"
    "  return 1\n"
    "end\n"
    "return 0\n";

std::string event_json(const Event& event) {
    return event_to_json(event).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

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

std::vector<std::string> build_open_command(const Event& event, std::chrono::seconds repeat_window,
                                            std::size_t stream_cap) {
    return {"EVAL",
            kOpenScript,
            "2",
            open_seen_key(event.tenant, event.queue_id, normalise_recipient(event.recipient)),
            events_stream_key(event.tenant),
            std::to_string(repeat_window.count()),
            std::to_string(stream_cap),
            event_json(event)};
}

std::vector<std::string> build_click_command(const Event& event, std::size_t stream_cap) {
    return build_event_xadd(event, stream_cap);
}

std::vector<std::string> build_unsubscribe_command(const Event& event, std::int64_t now, std::size_t stream_cap) {
    return {"EVAL",
            kUnsubscribeScript,
            "2",
            suppression_key(event.tenant),
            events_stream_key(event.tenant),
            normalise_recipient(event.recipient),
            encode_suppression({"unsubscribe", now}),
            std::to_string(stream_cap),
            event_json(event)};
}

}  // namespace tenantmail::trackd
