// blocked_events.h — a `blocked` event (common/events.h) for each recipient
// refused because it is on the tenant's suppression list, appended to the
// tenant's events stream over policyd's shared AsyncRedis connection.
// Fire-and-forget: the answer to Postfix never waits for it, and a failure
// (Redis down, an error reply) is logged once until an append succeeds
// again; the event is then lost, the refusal itself is not affected.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/events.h"
#include "common/redis.h"

namespace tenantmail::policyd {

// What the event says; views into the caller's buffers, copied at once.
struct BlockedRecipient {
    std::string_view tenant;
    std::string_view recipient;  // as the client sent it
    std::string_view queue_id;   // "" when the request had none
    std::string_view reason;     // the suppression reason
    std::string_view reply;      // the action sent to Postfix
};

// The event, pure (for tests): kind blocked, fresh id, current time,
// details {"reason": ..., "reply": ...}.
Event make_blocked_event(const BlockedRecipient& blocked);

class BlockedEvents final : private RedisReplyHandler {
public:
    explicit BlockedEvents(std::size_t stream_cap = kDefaultEventsStreamCap) : stream_cap_(stream_cap) {}
    BlockedEvents(const BlockedEvents&) = delete;
    BlockedEvents& operator=(const BlockedEvents&) = delete;

    // Must outlive every command it sent: declare it before the AsyncRedis.
    void append(AsyncRedis& redis, const BlockedRecipient& blocked);

    std::uint64_t appended() const { return appended_; }
    std::uint64_t lost() const { return lost_; }

private:
    void on_redis_reply(const redisReply* reply) override;
    void note_lost(std::string_view reason);

    std::size_t stream_cap_;
    bool failing_ = false;
    std::uint64_t appended_ = 0;
    std::uint64_t lost_ = 0;
    std::uint64_t lost_before_failure_ = 0;
};

}  // namespace tenantmail::policyd
