// quota_calendar.h — where a tenant's calendar quotas start and end: its
// time zone (tenants.conf time_zone: an IANA name from the system's tzdata,
// read by the date library, or a fixed offset "UTC+05:30"), its local
// midnight, and its monthly reset day (quota_month_start: 1 by default; a
// plan bought on the 15th renews on the 15th; in shorter months a day past
// the month's end means its last day). Pure: the time is an argument, so
// tests can put a boundary wherever they need one.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/sending_limit.h"

namespace date {
class time_zone;
}

namespace tenantmail {

using SysSeconds = std::chrono::time_point<std::chrono::system_clock, std::chrono::seconds>;

class QuotaTimeZone {
public:
    QuotaTimeZone() = default;  // UTC

    // "UTC", "Europe/London", "UTC+05:30", "UTC-03:00:20" (offsets up to
    // 23:59:59 either way; seconds allowed, as old zones had them).
    static Result<QuotaTimeZone> parse(std::string_view text);

    const std::string& name() const { return name_; }
    // The local wall-clock time of an instant, as seconds since a local epoch.
    std::chrono::seconds local_of(SysSeconds instant) const;
    // The instant a local wall-clock time happens: the earlier one when a
    // clock change makes it happen twice, the change itself when it skips it.
    SysSeconds instant_of(std::chrono::seconds local) const;

private:
    const date::time_zone* zone_ = nullptr;  // null: the fixed offset
    std::chrono::seconds offset_{0};
    std::string name_ = "UTC";
};

struct QuotaPeriod {
    SysSeconds start;
    SysSeconds end;  // exclusive: the instant the quota resets
};

// The day or month holding now. period must be day or month; month_start
// 1..31.
QuotaPeriod quota_period(LimitPeriod period, SysSeconds now, const QuotaTimeZone& zone, unsigned month_start);

// "2027-01-01 00:00" in zone's wall-clock time, for refusal messages.
std::string format_local_minute(SysSeconds instant, const QuotaTimeZone& zone);

}  // namespace tenantmail
