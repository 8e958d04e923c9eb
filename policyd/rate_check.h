// rate_check.h — one recipient's limits/suppression check in Redis: sends the
// script by EVALSHA on the shared AsyncRedis connection, falls back to EVAL
// (which also puts the script back into Redis's cache) when Redis answers
// NOSCRIPT (after SCRIPT FLUSH, a restart, a failover), computes the quota
// periods again from Redis's clock when the script says the host's clock
// put them in the wrong day or month, and hands the interpreted outcome to
// its handler. Each retry happens at most once and keeps the first deadline.
// One RateCheck serves one request at a time; the owner keeps it alive
// until the handler has been called (always within redis.timeout).
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "common/rate_limiter.h"
#include "common/redis.h"

namespace tenantmail::policyd {

class RateCheckHandler {
public:
    // outcome.detail is valid only during the call.
    virtual void on_rate_outcome(const RateOutcome& outcome) = 0;

protected:
    ~RateCheckHandler() = default;
};

class RateCheck final : private RedisReplyHandler {
public:
    explicit RateCheck(RateCheckHandler& handler) : handler_(handler) {}
    RateCheck(const RateCheck&) = delete;
    RateCheck& operator=(const RateCheck&) = delete;

    // The limits of the next check: select() them here before start().
    RateRequest& request() { return request_; }
    const RateRequest& request() const { return request_; }

    // recipient: already normalised (normalise_recipient). Returns false,
    // without calling the handler, when Redis is unavailable right now.
    bool start(AsyncRedis& redis, std::string_view tenant, TrafficClass traffic_class, std::string_view recipient);

    // How many NOSCRIPT answers were repaired with EVAL (for the log).
    static unsigned long long script_reloads();

private:
    void on_redis_reply(const redisReply* reply) override;
    bool send(bool with_body);

    RateCheckHandler& handler_;
    AsyncRedis* redis_ = nullptr;
    AsyncRedis::Clock::time_point deadline_;
    bool reloaded_ = false;    // NOSCRIPT answered once
    bool recomputed_ = false;  // stale period answered once
    RateRequest request_;
    std::string tenant_;
    TrafficClass traffic_class_ = TrafficClass::bulk;
    std::string recipient_;
};

}  // namespace tenantmail::policyd
