// redis_sentinel.h — finding the Redis master through Redis Sentinel
// ([redis] sentinels, master_name, sentinel_password_file). Every client
// (RedisClient and AsyncRedis, redis.h) asks before each connection:
//   1. the sentinels in the configured order, the first that answers
//      SENTINEL get-master-addr-by-name NAME wins;
//   2. then, on the master's connection, ROLE must say "master": a sentinel
//      can answer with a stale address for a moment after a failover, and
//      writing to a replica only earns READONLY errors;
//   3. a READONLY reply, a lost connection or a timeout later makes the
//      client drop the connection and ask again (with its usual backoff).
// The parsing here is pure; locate_master() does the blocking asking.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "common/redis_value.h"
#include "common/result.h"

namespace tenantmail {

// "host:port" or "[v6]:port", for messages.
std::string describe_endpoint(const RedisEndpoint& endpoint);

// "host:port [v6]:port ..." separated by spaces and/or commas; at least one.
Result<std::vector<RedisEndpoint>> parse_redis_endpoints(std::string_view text);

// The reply to SENTINEL get-master-addr-by-name: [host, port]; nil when the
// sentinel knows no master of that name.
Result<RedisEndpoint> parse_master_address_reply(const RespValue& reply);

// Whether the reply to ROLE names a master ("master" first).
bool is_master_role(const RespValue& reply);

// Whether an error reply means we are talking to a replica.
bool is_readonly_error(std::string_view error);

// Asks settings.sentinels in order (each bounded by settings.timeout,
// connecting included) and returns the first answer; the error names each
// sentinel's failure.
Result<RedisEndpoint> locate_master(const RedisSettings& settings, const std::string& sentinel_password);

// The AUTH password for the sentinels from sentinel_password_file (as for
// read_redis_password); "" when none is configured.
Result<std::string> read_sentinel_password(const RedisSettings& settings);

}  // namespace tenantmail
