// quota_calendar.cpp — local days and months with the date library's view
// of the system tzdata (see quota_calendar.h).
#include "common/quota_calendar.h"

#include <date/date.h>
#include <date/tz.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "common/text.h"

namespace tenantmail {

namespace {

using LocalSeconds = date::local_time<std::chrono::seconds>;

std::string in_quotes(std::string_view text) { return "\"" + std::string(text) + "\""; }

bool is_digits(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "05:30" or "05:30:15" (hours 00-23, minutes and seconds 00-59).
Result<std::chrono::seconds> parse_offset(std::string_view text) {
    const auto field = [](std::string_view two, int max) -> int {
        if (two.size() != 2 || !is_digits(two)) return -1;
        const int value = (two[0] - '0') * 10 + (two[1] - '0');
        return value <= max ? value : -1;
    };
    if (text.size() != 5 && text.size() != 8) return make_error("offset must be HH:MM or HH:MM:SS");
    if (text[2] != ':' || (text.size() == 8 && text[5] != ':')) return make_error("offset must be HH:MM or HH:MM:SS");
    const int hours = field(text.substr(0, 2), 23);
    const int minutes = field(text.substr(3, 2), 59);
    const int seconds = text.size() == 8 ? field(text.substr(6, 2), 59) : 0;
    if (hours < 0 || minutes < 0 || seconds < 0) return make_error("offset out of range (at most 23:59:59)");
    return std::chrono::seconds(hours * 3600 + minutes * 60 + seconds);
}

date::year_month_day clamp_day(date::year_month month, unsigned day) {
    const unsigned last = static_cast<unsigned>((month / date::last).day());
    return month / date::day(std::min(day, last));
}

LocalSeconds local_midnight(date::year_month_day day) { return LocalSeconds(date::local_days(day).time_since_epoch()); }

}  // namespace

Result<QuotaTimeZone> QuotaTimeZone::parse(std::string_view text) {
    const std::string_view value = trim(text);
    QuotaTimeZone zone;
    if (value == "UTC") return zone;
    if (value.starts_with("UTC+") || value.starts_with("UTC-")) {
        auto offset = parse_offset(value.substr(4));
        if (!offset) return make_error("invalid time_zone " + in_quotes(value) + ": " + offset.error());
        zone.offset_ = value[3] == '-' ? -*offset : *offset;
        zone.name_ = std::string(value);
        return zone;
    }
    // A name: letters, digits and the few marks IANA names use; no path
    // tricks reach the tzdata directory.
    const bool plausible = !value.empty() && value.size() <= 64 && value.front() != '/' &&
                           value.find("..") == std::string_view::npos &&
                           std::all_of(value.begin(), value.end(), [](char c) {
                               return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                                      c == '/' || c == '_' || c == '-' || c == '+';
                           });
    if (!plausible) return make_error("invalid time_zone " + in_quotes(value));
    try {
        zone.zone_ = date::locate_zone(std::string(value));
    } catch (const std::exception&) {
        return make_error("unknown time_zone " + in_quotes(value) +
                          " (an IANA name such as Europe/London from the system's tzdata, or UTC+HH:MM)");
    }
    zone.name_ = std::string(value);
    return zone;
}

std::chrono::seconds QuotaTimeZone::local_of(SysSeconds instant) const {
    if (zone_ == nullptr) return instant.time_since_epoch() + offset_;
    return zone_->to_local(instant).time_since_epoch();
}

SysSeconds QuotaTimeZone::instant_of(std::chrono::seconds local) const {
    if (zone_ == nullptr) return SysSeconds(local - offset_);
    return zone_->to_sys(LocalSeconds(local), date::choose::earliest);
}

QuotaPeriod quota_period(LimitPeriod period, SysSeconds now, const QuotaTimeZone& zone, unsigned month_start) {
    const LocalSeconds local(zone.local_of(now));
    const date::local_days today = date::floor<date::days>(local);
    LocalSeconds start;
    LocalSeconds end;
    if (period == LimitPeriod::month) {
        const date::year_month_day ymd(today);
        const date::year_month month = ymd.year() / ymd.month();
        const date::year_month_day anchor = clamp_day(month, month_start);
        if (ymd >= anchor) {
            start = local_midnight(anchor);
            end = local_midnight(clamp_day(month + date::months(1), month_start));
        } else {
            start = local_midnight(clamp_day(month - date::months(1), month_start));
            end = local_midnight(anchor);
        }
    } else {
        start = LocalSeconds(today.time_since_epoch());
        end = LocalSeconds((today + date::days(1)).time_since_epoch());
    }
    return {zone.instant_of(start.time_since_epoch()), zone.instant_of(end.time_since_epoch())};
}

std::string format_local_minute(SysSeconds instant, const QuotaTimeZone& zone) {
    const LocalSeconds local(zone.local_of(instant));
    const date::local_days day = date::floor<date::days>(local);
    const date::year_month_day ymd(day);
    const date::hh_mm_ss<std::chrono::seconds> time(local - LocalSeconds(day.time_since_epoch()));
    char text[32];
    std::snprintf(text, sizeof text, "%04d-%02u-%02u %02d:%02d", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()));
    return text;
}

}  // namespace tenantmail
