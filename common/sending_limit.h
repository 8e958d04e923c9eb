// sending_limit.h — one limit on a tenant's (or a login's) mail, as
// tenants.conf writes it: a sliding window ("500/3m", exact: at most 500 in
// ANY 3 minutes) or a calendar quota ("10000/day", "200000/month": a fixed
// counter that starts again at the tenant's local midnight or month start).
// Each counts recipients (default) or messages (":messages" suffix: one per
// message, however many recipients it has). Pure parsing and wording; the
// Redis side is rate_limiter.h, the calendar quota_calendar.h.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/duration.h"
#include "common/result.h"

namespace tenantmail {

enum class LimitPeriod { window, day, month };
enum class LimitCounts { recipients, messages };

struct SendingLimit {
    std::uint32_t count = 0;  // >= 1
    LimitPeriod period = LimitPeriod::window;
    std::chrono::seconds window{0};  // period == window only
    LimitCounts counts = LimitCounts::recipients;
    // The first recipients window of its class (tenant-wide, no login):
    // its Redis key keeps the plain name tm:{T}:rate:CLASS, which
    // deployments from before several limits already hold.
    bool primary = false;
    bool operator==(const SendingLimit&) const = default;

    bool is_quota() const { return period != LimitPeriod::window; }
};

// "500/3m", "100/1m:messages" (windows as in duration.h); with quotas
// allowed also "10000/day", "200000/month:messages".
enum class LimitSyntax { window_only, quota_only };
Result<SendingLimit> parse_sending_limit(std::string_view text, LimitSyntax syntax);

// The config syntax, parses back to the same limit (primary aside).
std::string to_string(const SendingLimit& limit);
// For refusals and tenantmailctl: "limit 500 per 3m", "limit 100 messages
// per 1m", "daily quota 10000", "monthly quota 200000 messages".
std::string describe(const SendingLimit& limit);

// "day", "month" or "window" (JSON, logs).
std::string_view period_name(LimitPeriod period);

}  // namespace tenantmail
