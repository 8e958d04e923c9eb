// events.h — the one event shape reported to tenants (delivery, bounce,
// soft_bounce, open, click, complaint, blocked, unsubscribe; paused and
// resumed about the tenant itself) and how it goes
// into Redis.
// Pure JSON building/parsing plus the XADD argv; appending over a blocking
// client is event_store.h.
// Stream: one per tenant, tm:{TENANT}:events (redis_keys.h), field
// "event" = the JSON of one event; capped with XADD MAXLEN ~ so it cannot grow
// without bound. A dispatcher reads it through a consumer group.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/redis_keys.h"
#include "common/result.h"

namespace tenantmail {

// paused and resumed are about the tenant, not a message: no queue id,
// message id or recipient; details hold the class and the reason.
enum class EventKind { delivery, bounce, soft_bounce, open, click, complaint, blocked, unsubscribe, paused, resumed };

std::string_view event_kind_name(EventKind kind);
std::optional<EventKind> parse_event_kind(std::string_view name);

struct Event {
    std::string id;          // unique: 32 lower-case hex digits, random
    EventKind kind = EventKind::delivery;
    std::string tenant;
    std::string queue_id;    // Postfix queue id, "" when unknown
    std::string message_id;  // from the bounce token / Message-ID, "" when unknown
    std::string recipient;
    std::int64_t timestamp = 0;  // Unix seconds
    nlohmann::json details = nlohmann::json::object();
};

// 128 random bits from the OpenSSL CSPRNG, hex: unique without coordination
// between hosts or processes.
std::string make_event_id();

// An event with a fresh id and the current time.
Event make_event(EventKind kind, std::string tenant, std::string recipient);

nlohmann::json event_to_json(const Event& event);
nlohmann::json event_to_json(Event&& event);  // the same, taking the strings over
Result<Event> event_from_json(const nlohmann::json& json);

// {"events":[...]}: what a webhook receives.
std::string events_document(const std::vector<Event>& events);
Result<std::vector<Event>> parse_events_document(std::string_view text);

constexpr std::size_t kDefaultEventsStreamCap = 100000;

// XADD tm:{T}:events MAXLEN ~ CAP * event JSON
std::vector<std::string> build_event_xadd(const Event& event, std::size_t cap);

// An event whose Message-ID a Redis script fills in from the message's
// record (only the record knows it: a log line, a report or a tracking link
// names the queue id): the JSON with a marker in message_id's place, and
// the marker as it appears there (quoted). The marker holds the event id,
// so no other text of the event can match it. kFillMessageIdLua defines the
// Lua function the scripts call: fill_message_id(event_json, marker,
// record_key, fallback) -> the JSON with the record's message_id (or
// fallback when the record has none), JSON-quoted by cjson.
struct MarkedEvent {
    std::string json;
    std::string marker;
};
MarkedEvent event_with_message_id_marker(Event event);
inline constexpr const char* kFillMessageIdLua =
    "local function fill_message_id(event, marker, record_key, fallback)\n"
    "  local message_id = redis.call('HGET', record_key, 'message_id') or ''\n"
    "  if message_id == '' then message_id = fallback end\n"
    "  local first, last = string.find(event, marker, 1, true)\n"
    "  if not first then return event end\n"
    "  return string.sub(event, 1, first - 1) .. cjson.encode(message_id) .. string.sub(event, last + 1)\n"
    "end\n";

}  // namespace tenantmail
