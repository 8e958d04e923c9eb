// duration.h — the time syntax of tenantmail's config files: durations such as
// "100ms", "5s", "3m", "1h", "1d" or plain seconds "30", and rate limits such as
// "500/3m" (at most 500 in any 3-minute window).
// Pure parsing and formatting; integers only (no "1.5s": write "1500ms").
// Fails with a message that quotes the bad text; the caller adds file:line.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace tenantmail {

// Longest rate window accepted. Counters live in Redis with an expiry of one
// window; a year is already far past any sensible sending limit, and the cap
// keeps window arithmetic in milliseconds far from overflow.
inline constexpr std::chrono::seconds kMaxRateWindow = std::chrono::hours(24 * 365);

struct RateLimit {
    std::uint32_t count = 0;         // >= 1
    std::chrono::seconds window{0};  // >= 1s, <= kMaxRateWindow
    bool operator==(const RateLimit&) const = default;
};

// "100ms", "5s", "3m", "1h", "1d", "30" (seconds). Units are lower case (no
// "M" that might be months); no sign, no space between number and unit.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);
// "<count>/<duration>" with count >= 1 and a whole-second window of at least 1s.
Result<RateLimit> parse_rate_limit(std::string_view text);

// Renders in the largest unit that is exact: 180s -> "3m", 90s -> "90s",
// 1500ms -> "1500ms", 0 -> "0s". Parses back to the same value.
std::string format_duration(std::chrono::milliseconds duration);
// "500/3m": the config syntax, parses back to the same RateLimit.
std::string to_string(const RateLimit& limit);
// "500 per 3m": for refusal messages read by people.
std::string describe(const RateLimit& limit);

}  // namespace tenantmail
