// sending_limit_test.cpp — the limit syntax of tenants.conf (windows,
// quotas, messages mode, login limits, their bounds) and the calendar of
// quotas: local midnights and month starts in IANA zones across clock
// changes, fixed offsets, reset days past a month's end. The Redis side
// runs in tests/integration/policyd_limits_test.py.
#include <gtest/gtest.h>

#include "common/quota_calendar.h"
#include "common/sending_limit.h"
#include "common/tenant_limits.h"
#include "common/tenants.h"

namespace tenantmail {
namespace {

using std::chrono::seconds;

SysSeconds utc(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0) {
    // days_from_civil (proleptic Gregorian), so the test does not lean on
    // the code it checks.
    const int year = static_cast<int>(m) <= 2 ? y - 1 : y;
    const int era = (year >= 0 ? year : year - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(year - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    const long long days = static_cast<long long>(era) * 146097 + static_cast<long long>(doe) - 719468;
    return SysSeconds(seconds(days * 86400 + hh * 3600 + mm * 60 + ss));
}

QuotaTimeZone zone(std::string_view name) {
    auto parsed = QuotaTimeZone::parse(name);
    EXPECT_TRUE(parsed) << parsed.error();
    return parsed ? *parsed : QuotaTimeZone{};
}

TEST(SendingLimit, WindowsQuotasAndMessagesMode) {
    auto window = parse_sending_limit("500/3m", LimitSyntax::window_only);
    ASSERT_TRUE(window) << window.error();
    EXPECT_EQ(window->period, LimitPeriod::window);
    EXPECT_EQ(window->window, seconds(180));
    EXPECT_EQ(window->counts, LimitCounts::recipients);
    EXPECT_EQ(describe(*window), "limit 500 per 3m");

    auto messages = parse_sending_limit("100/1m:messages", LimitSyntax::window_only);
    ASSERT_TRUE(messages) << messages.error();
    EXPECT_EQ(messages->counts, LimitCounts::messages);
    EXPECT_EQ(describe(*messages), "limit 100 messages per 1m");
    EXPECT_EQ(to_string(*messages), "100/1m:messages");

    auto day = parse_sending_limit("10000/day", LimitSyntax::quota_only);
    ASSERT_TRUE(day) << day.error();
    EXPECT_EQ(day->period, LimitPeriod::day);
    EXPECT_EQ(describe(*day), "daily quota 10000");
    auto month = parse_sending_limit("200000/month:messages", LimitSyntax::quota_only);
    ASSERT_TRUE(month) << month.error();
    EXPECT_EQ(describe(*month), "monthly quota 200000 messages");
    EXPECT_EQ(to_string(*month), "200000/month:messages");
    EXPECT_EQ(to_string(*parse_sending_limit("5/day:recipients", LimitSyntax::quota_only)), "5/day");
}

TEST(SendingLimit, HostileAndWrongValuesAreRefused) {
    for (const char* text : {"", "/", "0/day", "-1/day", "10/week", "10/Day", "10/day:bytes", "10/days",
                             "99999999999/day", "10/day:messages:messages", "1e3/day", "10/ day"}) {
        EXPECT_FALSE(parse_sending_limit(text, LimitSyntax::quota_only)) << text;
    }
    for (const char* text : {"10/day", "10/month", "0/1m", "10/0s", "10/1m:", "10/1m:msgs", "10"}) {
        EXPECT_FALSE(parse_sending_limit(text, LimitSyntax::window_only)) << text;
    }
}

TEST(TenantLimits, ListsHaveAPrimaryWindowAndNoRepeats) {
    auto rates = parse_rate_list("100/1m:messages, 500/3m 5000/1h");
    ASSERT_TRUE(rates) << rates.error();
    ASSERT_EQ(rates->size(), 3u);
    EXPECT_FALSE((*rates)[0].primary);  // messages-counted: not the class's plain key
    EXPECT_TRUE((*rates)[1].primary);
    EXPECT_FALSE((*rates)[2].primary);
    EXPECT_FALSE(parse_rate_list("500/3m 600/3m"));
    EXPECT_TRUE(parse_rate_list("500/3m 600/3m:messages"));
    EXPECT_FALSE(parse_rate_list("1/1s 2/2s 3/3s 4/4s 5/5s"));
    EXPECT_FALSE(parse_quota_list("10/day 20/day"));
    EXPECT_TRUE(parse_quota_list("10/day 20/day:messages 300/month"));
}

TEST(TenantLimits, LoginLimitsSplitAtTheLastEquals) {
    auto limits = parse_login_limits("app1=100/1m app1=2000/day a=b=5/1s:messages");
    ASSERT_TRUE(limits) << limits.error();
    ASSERT_EQ(limits->size(), 3u);
    EXPECT_EQ((*limits)[0].login, "app1");
    EXPECT_EQ((*limits)[1].limit.period, LimitPeriod::day);
    EXPECT_EQ((*limits)[2].login, "a=b");
    EXPECT_EQ((*limits)[2].limit.counts, LimitCounts::messages);
    for (const char* text : {"app1", "=100/1m", "app1=", "app1=100/1m app1=200/1m", "app1=10/week"}) {
        EXPECT_FALSE(parse_login_limits(text)) << text;
    }
    std::string nine;
    for (int i = 1; i <= 9; ++i) nine += "x=" + std::to_string(i) + "/" + std::to_string(i) + "s ";
    EXPECT_FALSE(parse_login_limits(nine));
}

TEST(TenantLimits, MonthStartIsADayOfTheMonth) {
    EXPECT_EQ(*parse_month_start("15"), 15u);
    for (const char* text : {"0", "32", "", "-1", "1.5", "001", "x"}) EXPECT_FALSE(parse_month_start(text)) << text;
}

TEST(TenantLimits, TenantsFileKeysAndLoginCheck) {
    const std::string base =
        "[acme]\ndomains = acme.example\nfrom_rewrite = acme@platform.example\nsasl_users = app1 tx:transactional\n";
    auto registry = TenantRegistry::parse(base +
                                              "bulk_rate = 500/3m 5000/1h\n"
                                              "bulk_quota = 10000/day 200000/month\n"
                                              "transactional_quota = 50000/month:messages\n"
                                              "login_limits = app1=100/1m tx=10/day\n"
                                              "time_zone = America/New_York\n"
                                              "quota_month_start = 15\n",
                                          "tenants.conf");
    ASSERT_TRUE(registry) << registry.error();
    const Tenant& acme = *registry->find("acme");
    EXPECT_EQ(acme.rates_of(TrafficClass::bulk).size(), 2u);
    EXPECT_EQ(acme.quotas_of(TrafficClass::bulk).size(), 2u);
    EXPECT_EQ(acme.quotas_of(TrafficClass::transactional).size(), 1u);
    EXPECT_EQ(to_string(acme.rates_of(TrafficClass::transactional).at(0)), "500/3m");  // default kept
    EXPECT_EQ(acme.login_limits.size(), 2u);
    EXPECT_EQ(acme.time_zone.name(), "America/New_York");
    EXPECT_EQ(acme.quota_month_start, 15u);

    auto stranger = TenantRegistry::parse(base + "login_limits = someone=1/1s\n", "tenants.conf");
    ASSERT_FALSE(stranger);
    EXPECT_NE(stranger.error().find("tenants.conf:5:"), std::string::npos) << stranger.error();
    EXPECT_NE(stranger.error().find("not one of the tenant's sasl_users"), std::string::npos) << stranger.error();
    for (const char* line : {"time_zone = Mars/Olympus\n", "time_zone = ../../etc/passwd\n", "time_zone = UTC+24:00\n",
                             "bulk_quota = 10/fortnight\n", "quota_month_start = 0\n"}) {
        EXPECT_FALSE(TenantRegistry::parse(base + line, "tenants.conf")) << line;
    }
}

TEST(QuotaCalendar, DaysStartAtLocalMidnight) {
    const QuotaPeriod utc_day = quota_period(LimitPeriod::day, utc(2026, 12, 5, 12), QuotaTimeZone{}, 1);
    EXPECT_EQ(utc_day.start, utc(2026, 12, 5));
    EXPECT_EQ(utc_day.end, utc(2026, 12, 6));
    // Tokyo is UTC+9: at 20:00 UTC on the 5th it is already the 6th there.
    const QuotaPeriod tokyo = quota_period(LimitPeriod::day, utc(2026, 12, 5, 20), zone("Asia/Tokyo"), 1);
    EXPECT_EQ(tokyo.start, utc(2026, 12, 5, 15));
    EXPECT_EQ(tokyo.end, utc(2026, 12, 6, 15));
    // A fixed offset with seconds puts a boundary anywhere a test wants it.
    const QuotaPeriod odd = quota_period(LimitPeriod::day, utc(2026, 12, 5, 12), zone("UTC-03:00:20"), 1);
    EXPECT_EQ(odd.start, utc(2026, 12, 5, 3, 0, 20));
    EXPECT_EQ(odd.end, utc(2026, 12, 6, 3, 0, 20));
}

TEST(QuotaCalendar, ClockChangesMakeShortAndLongDays) {
    // London leaves summer time on 2026-10-25: that day has 25 hours.
    const QuotaPeriod autumn = quota_period(LimitPeriod::day, utc(2026, 10, 25, 12), zone("Europe/London"), 1);
    EXPECT_EQ(autumn.end - autumn.start, seconds(25 * 3600));
    // And enters it on 2026-03-29: 23 hours.
    const QuotaPeriod spring = quota_period(LimitPeriod::day, utc(2026, 3, 29, 12), zone("Europe/London"), 1);
    EXPECT_EQ(spring.end - spring.start, seconds(23 * 3600));
    // Santiago's clocks skip midnight itself (2026-09-06 00:00 -> 01:00):
    // the day starts at the change.
    const QuotaPeriod skipped = quota_period(LimitPeriod::day, utc(2026, 9, 6, 12), zone("America/Santiago"), 1);
    EXPECT_EQ(skipped.start, utc(2026, 9, 6, 4));
}

TEST(QuotaCalendar, MonthsResetOnTheirDayOrTheLastDay) {
    const QuotaPeriod december = quota_period(LimitPeriod::month, utc(2026, 12, 5, 12), zone("Europe/London"), 1);
    EXPECT_EQ(december.start, utc(2026, 12, 1));
    EXPECT_EQ(december.end, utc(2027, 1, 1));
    EXPECT_EQ(format_local_minute(december.end, zone("Europe/London")), "2027-01-01 00:00");
    // Renewing on the 15th: on the 5th the period began on November 15.
    const QuotaPeriod anchored = quota_period(LimitPeriod::month, utc(2026, 12, 5, 12), QuotaTimeZone{}, 15);
    EXPECT_EQ(anchored.start, utc(2026, 11, 15));
    EXPECT_EQ(anchored.end, utc(2026, 12, 15));
    // The 31st in February means its last day, and March 31 after it.
    const QuotaPeriod february = quota_period(LimitPeriod::month, utc(2027, 3, 1, 12), QuotaTimeZone{}, 31);
    EXPECT_EQ(february.start, utc(2027, 2, 28));
    EXPECT_EQ(february.end, utc(2027, 3, 31));
    // A month in summer time starts at local midnight, 23:00 UTC the day before.
    const QuotaPeriod july = quota_period(LimitPeriod::month, utc(2026, 7, 10), zone("Europe/London"), 1);
    EXPECT_EQ(july.start, utc(2026, 6, 30, 23));
    EXPECT_EQ(format_local_minute(july.start, zone("Europe/London")), "2026-07-01 00:00");
}

}  // namespace
}  // namespace tenantmail
