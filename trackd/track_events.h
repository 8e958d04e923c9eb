// track_events.h — the events trackd records (open, click, unsubscribe;
// common/events.h) and the Redis commands that record them: EVALSHA argv
// vectors with the script body for a NOSCRIPT retry (common/redis_script.h). Every
// command touches only the tenant's slot (tm:{T}:...).
//
// details of every event: "user_agent" (printable ASCII, at most 512 bytes,
// "" when none), "client_address" (client_address.h), and when automation.h
// flagged the request "automated" and "automated_reason". A click adds "url"
// (the target the token authenticated); an unsubscribe "method"
// ("one-click").
//
// open: one script, atomically: SET tm:{T}:opened:QID:RCPT 1 NX EX window,
//   and XADD the event only when the SET took: one event per message,
//   recipient and window however often the pixel is fetched. Replies the
//   stream id, or nil for a repeat.
// click: XADD, every click is an event.
// unsubscribe: one script: HSETNX tm:{T}:suppressed RCPT {"reason":
//   "unsubscribe", "time": NOW} (an older entry, e.g. a hard bounce, stays
//   as it is: the address is suppressed either way) and, when the entry is
//   new, XADD the event. Replies 1 (added) or 0 (already suppressed). A
//   repeated one-click POST (RFC 8058 senders may retry) is recorded once.
// Pure: JSON and strings only.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/events.h"
#include "common/redis_script.h"
#include "common/tracking_token.h"
#include "trackd/automation.h"

namespace tenantmail::trackd {

inline constexpr std::size_t kMaxUserAgentBytes = 512;

struct RequestFacts {
    std::string_view user_agent;
    std::string client_address;
    Automation automation;
};

// The event for a link (its tenant, queue id and recipient) and a request.
Event make_track_event(EventKind kind, const TrackingLink& link, const RequestFacts& facts);

// What the log says of an event that could not be recorded.
struct EventSummary {
    EventKind kind = EventKind::open;
    std::string tenant;
    std::string queue_id;
    std::string recipient;
};
EventSummary summarise(const Event& event);

// Each takes the event over (its JSON is the last use).
ScriptCommand build_open_command(Event event, std::chrono::seconds repeat_window, std::size_t stream_cap);
ScriptCommand build_click_command(Event event, std::size_t stream_cap);
// The three scripts' bodies, to SCRIPT LOAD on every connection.
std::vector<std::string_view> track_scripts();

// now: seconds since the epoch, the suppression entry's time.
ScriptCommand build_unsubscribe_command(Event event, std::int64_t now, std::size_t stream_cap);

}  // namespace tenantmail::trackd
