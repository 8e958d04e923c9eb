// redis_call.h — one AsyncRedis script call whose reply goes to a function:
// the reply (an error reply included), or nullptr when the command failed
// (no reply within redis.timeout, connection lost, client stopped). The
// call goes by EVALSHA; a NOSCRIPT answer (Redis restarted, SCRIPT FLUSH,
// a failover) is repaired once with EVAL and the script's body. The
// function is called exactly once, unless send_script_command returns
// false (Redis known to be unavailable), in which case it is never called.
#pragma once

#include <functional>

#include "common/redis.h"
#include "common/redis_script.h"

namespace tenantmail::trackd {

using RedisDone = std::function<void(const redisReply* reply)>;

bool send_script_command(AsyncRedis& redis, ScriptCommand command, RedisDone done);

// How many NOSCRIPT answers were repaired with EVAL since the start.
unsigned long long script_reloads();

}  // namespace tenantmail::trackd
