// blocked_events.cpp — see blocked_events.h.
#include "policyd/blocked_events.h"

#include <string>
#include <vector>

#include "common/log.h"

namespace tenantmail::policyd {

Event make_blocked_event(const BlockedRecipient& blocked) {
    Event event = make_event(EventKind::blocked, std::string(blocked.tenant), std::string(blocked.recipient));
    event.queue_id.assign(blocked.queue_id);
    event.details = {{"reason", std::string(blocked.reason)}, {"reply", std::string(blocked.reply)}};
    return event;
}

void BlockedEvents::append(AsyncRedis& redis, const BlockedRecipient& blocked) {
    // AsyncRedis copies the arguments at once.
    if (!redis.command(build_event_xadd(make_blocked_event(blocked), stream_cap_), *this)) {
        note_lost("Redis unavailable");
    }
}

void BlockedEvents::on_redis_reply(const redisReply* reply) {
    if (reply == nullptr) {
        note_lost("no reply from Redis");
        return;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        note_lost(std::string_view(reply->str, reply->len));
        return;
    }
    ++appended_;
    if (failing_) {
        failing_ = false;
        LOG_INFO("blocked events are recorded again (%llu lost meanwhile)",
                 static_cast<unsigned long long>(lost_ - lost_before_failure_));
    }
}

void BlockedEvents::note_lost(std::string_view reason) {
    if (!failing_) lost_before_failure_ = lost_;
    ++lost_;
    if (failing_) return;
    failing_ = true;
    LOG_WARNING("cannot record a blocked event: %.*s; refusals go on, their events are lost until Redis takes them "
                "again",
                static_cast<int>(reason.size()), reason.data());
}

}  // namespace tenantmail::policyd
