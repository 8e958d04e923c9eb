// sending_health.h — a tenant's sending health and the automatic pause.
//
// The outcome script (message_outcome.h) counts every recipient's first
// delivered, bounced (hard bounce) and complained status into an hourly
// bucket of the tenant, tm:{T}:health:HOUR. Over the tenant's pause period
// (tenants.conf pause_period, 24h by default, in whole hours: the current
// hour and the ones before it) two rates follow:
//   hard-bounce rate = bounced / (delivered + bounced)
//   complaint rate   = complained / delivered
// Once at least pause_min_delivered recipients (delivered + bounced) have an
// outcome in the period, a rate that reaches its threshold (5% and 0.3% by
// default) pauses the tenant's bulk class: tm:{T}:paused gets
// "bulk -> complaint rate 0.41% over 24h", which policyd's rate script
// answers with a deferral, and a `paused` event goes out to the tenant.
// tenantmail-bounce checks after every report it records (Postfix's own
// DSN of a bounced recipient included), in one script, so two reports
// arriving together pause once and send one event.
//
// Parsing of the tenants.conf values and the argv builders are pure; the
// two functions at the end do the I/O over a blocking RedisClient.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace tenantmail {

class RedisClient;             // common/redis.h
enum class RecipientStatus;   // common/message_store.h (tenants.h includes this file)

// The health buckets outlive the longest period by a day.
inline constexpr std::chrono::hours kMaxPausePeriod{7 * 24};
inline constexpr std::chrono::seconds kHealthBucketTtl{kMaxPausePeriod + std::chrono::hours(24)};

struct PausePolicy {
    std::chrono::hours period{24};
    std::uint32_t min_outcomes = 200;
    // Parts per million (5% = 50000); 0: this rate never pauses.
    std::uint32_t bounce_rate_ppm = 50'000;
    std::uint32_t complaint_rate_ppm = 3'000;
    bool operator==(const PausePolicy&) const = default;
};

// pause_period: "24h", "2d", "90m" is refused (whole hours), 1h..7d.
Result<std::chrono::hours> parse_pause_period(std::string_view value);
// pause_bounce_rate, pause_complaint_rate: "5%", "0.3%", "0.0125%" (up to
// four decimals), "off"; 0% < rate <= 100%.
Result<std::uint32_t> parse_rate_threshold(std::string_view value);
// pause_min_delivered: 1..1000000000.
Result<std::uint32_t> parse_min_outcomes(std::string_view value);
// "0.3%", "5%", "off": parses back to the same value.
std::string format_rate_threshold(std::uint32_t ppm);
// "24h", "36h", "2d", "7d".
std::string format_pause_period(std::chrono::hours period);

// The bucket field a recipient's status counts into: "delivered",
// "bounced", "complained", or "" (queued, deferred, blocked count nowhere).
std::string_view health_counter(RecipientStatus status);

// The hour bucket an instant counts into (Unix seconds / 3600).
std::int64_t health_hour(std::int64_t unix_seconds);

struct HealthCounts {
    std::int64_t delivered = 0;
    std::int64_t bounced = 0;
    std::int64_t complained = 0;
};

// "1.18%" of part in whole, two decimals; "-" when whole is 0.
std::string format_rate(std::int64_t part, std::int64_t whole);

// The EVALSHA of the check for a tenant at now (pure, for tests). The
// paused event's JSON is prepared here (events.h's one shape) with a marker
// where the script writes the reason.
std::string_view health_check_script();
std::vector<std::string> build_health_check(std::string_view tenant, const PausePolicy& policy,
                                            std::int64_t now_unix, std::size_t stream_cap);

struct HealthVerdict {
    enum class Kind { healthy, paused_now, already_paused } kind = Kind::healthy;
    std::string reason;  // paused_now / already_paused: tm:{T}:paused's bulk reason
    HealthCounts counts; // over the period (healthy and paused_now)
};

// One check (EVALSHA, EVAL on NOSCRIPT). An error means nothing changed.
Result<HealthVerdict> check_sending_health(RedisClient& redis, std::string_view tenant, const PausePolicy& policy,
                                           std::size_t stream_cap);

// The counts over the period ending now (tenantmailctl usage).
Result<HealthCounts> read_sending_health(RedisClient& redis, std::string_view tenant, std::chrono::hours period);

}  // namespace tenantmail
