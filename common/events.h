// events.h — the one event shape reported to tenants (delivery, bounce,
// soft_bounce, open, click, complaint, blocked) and how it goes into Redis.
// Pure JSON building/parsing plus the XADD argv; append_event() is the only I/O
// (blocking RedisClient) and reports failure so callers can tempfail.
// Stream: one per tenant, tm:{TENANT}:events (hash tag as for every key), field
// "event" = the JSON of one event; capped with XADD MAXLEN ~ so it cannot grow
// without bound. A dispatcher reads it through a consumer group.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/redis.h"
#include "common/result.h"

namespace tenantmail {

enum class EventKind { delivery, bounce, soft_bounce, open, click, complaint, blocked };

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

std::string events_stream_key(std::string_view tenant);

constexpr std::size_t kDefaultEventsStreamCap = 100000;

// XADD tm:{T}:events MAXLEN ~ CAP * event JSON
std::vector<std::string> build_event_xadd(const Event& event, std::size_t cap);

// Appends; the stream entry id on success, an admin-readable error otherwise.
Result<std::string> append_event(RedisClient& redis, const Event& event,
                                 std::size_t cap = kDefaultEventsStreamCap);

}  // namespace tenantmail
