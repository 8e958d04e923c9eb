// ctl_redis.h — how tenantmailctl reaches Redis: the [redis] section of the
// same tenantmail.conf the daemons read (-c), AUTH password included, over
// the blocking RedisClient (timeouts: redis.timeout). Used by the usage and
// suppression commands.
#pragma once

#include <boost/program_options.hpp>
#include <string>

#include "common/redis.h"
#include "common/result.h"
#include "common/tenants.h"

namespace tenantmail::ctl {

Result<RedisClient> connect_ctl_redis(const boost::program_options::variables_map& vm);

// The tenant named on the command line, which must be in the tenants file
// (catches typos before they create keys nobody reads).
Result<Tenant> find_ctl_tenant(const boost::program_options::variables_map& vm, const std::string& id);

// Redis's clock (TIME), in microseconds since the epoch: the clock the rate
// script counts with.
Result<long long> redis_time_us(RedisClient& client);

}  // namespace tenantmail::ctl
