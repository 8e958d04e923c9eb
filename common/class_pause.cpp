// class_pause.cpp — pause and resume by hand (see class_pause.h).
#include "common/class_pause.h"

#include "common/events.h"
#include "common/redis.h"
#include "common/redis_keys.h"
#include "common/sending_health.h"

namespace tenantmail {

namespace {

// KEYS: paused hash, events stream. ARGV: class, reason, event JSON,
// stream cap. The event is only added when the hash changed.
constexpr std::string_view kPauseScript =
    "if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return 0 end "
    "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) "
    "redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'event', ARGV[3]) return 1";

// KEYS: paused hash, events stream, then the health buckets to clear.
// ARGV: class, event JSON, stream cap.
constexpr std::string_view kResumeScript =
    "for i = 3, #KEYS do redis.call('DEL', KEYS[i]) end "
    "if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end "
    "redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'event', ARGV[2]) return 1";

std::string event_json(EventKind kind, std::string_view tenant, TrafficClass traffic_class, std::string_view reason,
                       std::int64_t now_unix) {
    Event event = make_event(kind, std::string(tenant), "");
    event.timestamp = now_unix;
    event.details = {{"class", std::string(to_string(traffic_class))}, {"automatic", false}};
    if (kind == EventKind::paused) event.details["reason"] = std::string(reason);
    return event_to_json(event).dump();
}

}  // namespace

std::string check_pause_reason(std::string_view reason) {
    if (reason.empty()) return "is empty";
    if (reason.size() > kMaxPauseReasonLength) {
        return "is longer than " + std::to_string(kMaxPauseReasonLength) + " characters";
    }
    for (const char c : reason) {
        if (c < 0x20 || c >= 0x7f) return "holds a control or non-ASCII character (it goes into an SMTP reply)";
    }
    return {};
}

std::vector<std::string> build_pause_command(std::string_view tenant, TrafficClass traffic_class,
                                             std::string_view reason, std::int64_t now_unix) {
    return {"EVAL",
            std::string(kPauseScript),
            "2",
            paused_key(tenant),
            events_stream_key(tenant),
            std::string(to_string(traffic_class)),
            std::string(reason),
            event_json(EventKind::paused, tenant, traffic_class, reason, now_unix),
            std::to_string(kDefaultEventsStreamCap)};
}

std::vector<std::string> build_resume_command(std::string_view tenant, TrafficClass traffic_class,
                                              std::int64_t now_unix) {
    std::vector<std::string> buckets;
    if (traffic_class == TrafficClass::bulk) {
        const std::int64_t hour = health_hour(now_unix);
        const auto hours = std::chrono::duration_cast<std::chrono::hours>(kHealthBucketTtl).count();
        for (std::int64_t h = 0; h <= hours; ++h) buckets.push_back(health_bucket_key(tenant, hour - h));
    }
    std::vector<std::string> argv{"EVAL", std::string(kResumeScript), std::to_string(2 + buckets.size()),
                                  paused_key(tenant), events_stream_key(tenant)};
    argv.insert(argv.end(), buckets.begin(), buckets.end());
    argv.insert(argv.end(), {std::string(to_string(traffic_class)),
                             event_json(EventKind::resumed, tenant, traffic_class, "", now_unix),
                             std::to_string(kDefaultEventsStreamCap)});
    return argv;
}

Result<bool> run_class_pause(RedisClient& redis, const std::vector<std::string>& argv) {
    auto reply = redis.command(argv);
    if (!reply) return Error{reply.error()};
    if ((*reply)->type != REDIS_REPLY_INTEGER) return make_error("unexpected reply from Redis");
    return (*reply)->integer == 1;
}

}  // namespace tenantmail
