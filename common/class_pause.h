// class_pause.h — pausing and resuming a tenant's traffic class by hand
// (tenantmailctl pause / resume). tm:{T}:paused maps a class to the reason
// policyd defers it with ("4.7.1 acme bulk mail paused: REASON"); each
// change is announced to the tenant with a `paused` or `resumed` event, in
// the same script, so the hash and the stream cannot disagree. The
// automatic pause (sending_health.h) writes the same hash and event.
//
// Resuming bulk also clears the tenant's health buckets: the rates start
// afresh, or the next report would pause the tenant again at once.
// Builders are pure; run_class_pause() does the I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/tenants.h"

namespace tenantmail {

class RedisClient;  // common/redis.h

inline constexpr std::size_t kMaxPauseReasonLength = 200;

// "" when reason may be the text of a 4.7.1 reply (printable ASCII, at
// most kMaxPauseReasonLength), else what is wrong with it.
std::string check_pause_reason(std::string_view reason);

// EVAL argv. Reply: 1 changed (and announced), 0 nothing to change (pause:
// already paused with this reason; resume: not paused).
std::vector<std::string> build_pause_command(std::string_view tenant, TrafficClass traffic_class,
                                             std::string_view reason, std::int64_t now_unix);
std::vector<std::string> build_resume_command(std::string_view tenant, TrafficClass traffic_class,
                                              std::int64_t now_unix);

// Runs one of the above: true when something changed.
Result<bool> run_class_pause(RedisClient& redis, const std::vector<std::string>& argv);

}  // namespace tenantmail
