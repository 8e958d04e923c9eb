// events.h — the one event shape reported to tenants (delivery, bounce,
// soft_bounce, open, click, complaint, blocked, unsubscribe) and how it goes
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

enum class EventKind { delivery, bounce, soft_bounce, open, click, complaint, blocked, unsubscribe };

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
Result<Event> event_from_json(const nlohmann::json& json);

// {"events":[...]}: what a webhook receives.
std::string events_document(const std::vector<Event>& events);
Result<std::vector<Event>> parse_events_document(std::string_view text);

constexpr std::size_t kDefaultEventsStreamCap = 100000;

// XADD tm:{T}:events MAXLEN ~ CAP * event JSON
std::vector<std::string> build_event_xadd(const Event& event, std::size_t cap);

}  // namespace tenantmail
