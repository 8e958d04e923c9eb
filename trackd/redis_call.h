// redis_call.h — one AsyncRedis command whose reply goes to a function:
// the reply (an error reply included), or nullptr when the command failed
// (no reply within redis.timeout, connection lost, client stopped). The
// function is called exactly once, unless send_redis_command returns false
// (Redis known to be unavailable), in which case it is never called.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/redis.h"

namespace tenantmail::trackd {

using RedisDone = std::function<void(const redisReply* reply)>;

bool send_redis_command(AsyncRedis& redis, const std::vector<std::string>& args, RedisDone done);

}  // namespace tenantmail::trackd
