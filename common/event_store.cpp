// event_store.cpp — see event_store.h.
#include "common/event_store.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "common/redis_keys.h"
#include "common/redis_value.h"

namespace tenantmail {

Result<std::string> append_event(RedisClient& redis, const Event& event, std::size_t cap) {
    auto reply = redis.command(build_event_xadd(event, cap));
    if (!reply) return make_error("tenant " + event.tenant + ": cannot record " +
                                  std::string(event_kind_name(event.kind)) + " event: " + reply.error());
    const redisReply* r = reply->get();
    if (r->type != REDIS_REPLY_STRING)
        return make_error("tenant " + event.tenant + ": XADD " + events_stream_key(event.tenant) +
                          " gave an unexpected reply");
    return std::string(r->str, r->len);
}

Result<std::vector<Event>> load_message_events(RedisClient& redis, const std::string& tenant,
                                               const std::string& queue_id, std::int64_t since,
                                               std::size_t max_scanned) {
    constexpr std::size_t page = 1000;
    std::vector<Event> events;
    std::string start = std::to_string(since > 0 ? since * 1000 : 0);
    for (std::size_t scanned = 0; scanned < max_scanned;) {
        const std::size_t count = std::min(page, max_scanned - scanned);
        auto reply = redis.call({"XRANGE", events_stream_key(tenant), start, "+", "COUNT", std::to_string(count)});
        if (!reply) return Error{reply.error()};
        if (reply->type == RespValue::Type::error) return make_error("Redis at " + redis.where() + ": " + reply->text);
        auto entries = parse_range_reply(*reply);
        if (!entries) return Error{entries.error()};
        for (const StreamEntry& entry : *entries) {
            const std::string* text = entry.field("event");
            if (text == nullptr) continue;
            auto json = nlohmann::json::parse(*text, nullptr, false);
            if (json.is_discarded()) continue;
            auto event = event_from_json(json);
            if (event && event->queue_id == queue_id) events.push_back(std::move(event).value());
        }
        scanned += entries->size();
        if (entries->size() < count) break;
        start = "(" + entries->back().id;  // exclusive: after the last one read
    }
    return events;
}

}  // namespace tenantmail
