#include "common/sending_health.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/message_store.h"
#include "common/redis_keys.h"

namespace tenantmail {
namespace {

TEST(PausePeriod, WholeHoursFromOneHourToAWeek) {
    EXPECT_EQ(parse_pause_period("24h").value(), std::chrono::hours(24));
    EXPECT_EQ(parse_pause_period(" 2d ").value(), std::chrono::hours(48));
    EXPECT_EQ(parse_pause_period("7d").value(), std::chrono::hours(168));
    EXPECT_EQ(parse_pause_period("1h").value(), std::chrono::hours(1));
    for (const char* bad : {"90m", "0h", "8d", "30s", "", "h", "-1h", "24"}) {
        EXPECT_FALSE(parse_pause_period(bad).ok()) << bad;
    }
    EXPECT_EQ(parse_pause_period("90m").error(), "\"90m\" is not a whole number of hours from 1h to 7d");
}

TEST(PausePeriod, FormatsBackToWhatParses) {
    for (const int hours : {1, 12, 24, 36, 48, 168}) {
        const std::string text = format_pause_period(std::chrono::hours(hours));
        EXPECT_EQ(parse_pause_period(text).value(), std::chrono::hours(hours)) << text;
    }
    EXPECT_EQ(format_pause_period(std::chrono::hours(24)), "24h");
    EXPECT_EQ(format_pause_period(std::chrono::hours(36)), "36h");
    EXPECT_EQ(format_pause_period(std::chrono::hours(48)), "2d");
}

TEST(RateThreshold, PercentagesBecomePartsPerMillion) {
    EXPECT_EQ(parse_rate_threshold("5%").value(), 50'000u);
    EXPECT_EQ(parse_rate_threshold("0.3%").value(), 3'000u);
    EXPECT_EQ(parse_rate_threshold("0.0125%").value(), 125u);
    EXPECT_EQ(parse_rate_threshold("100%").value(), 1'000'000u);
    EXPECT_EQ(parse_rate_threshold(" 12.5% ").value(), 125'000u);
    EXPECT_EQ(parse_rate_threshold("off").value(), 0u);
}

TEST(RateThreshold, RefusesWhatIsNotAPercentage) {
    for (const char* bad : {"", "%", "5", "0.3", "5 %", "-1%", "1e2%", ".5%", "5.%", "abc%", "1000%", "5%%",
                            "0x10%", "Off"}) {
        EXPECT_FALSE(parse_rate_threshold(bad).ok()) << bad;
    }
    EXPECT_EQ(parse_rate_threshold("0%").error(), "\"0%\": must be above 0% (off turns the check off)");
    EXPECT_EQ(parse_rate_threshold("0.00001%").error(), "\"0.00001%\": at most four decimals");
    EXPECT_EQ(parse_rate_threshold("100.5%").error(), "\"100.5%\": above 100%");
}

TEST(RateThreshold, FormatsBackToWhatParses) {
    for (const std::uint32_t ppm : {0u, 1u, 125u, 3'000u, 50'000u, 125'000u, 1'000'000u}) {
        const std::string text = format_rate_threshold(ppm);
        EXPECT_EQ(parse_rate_threshold(text).value(), ppm) << text;
    }
    EXPECT_EQ(format_rate_threshold(3'000), "0.3%");
    EXPECT_EQ(format_rate_threshold(50'000), "5%");
    EXPECT_EQ(format_rate_threshold(0), "off");
}

TEST(MinOutcomes, ACountFromOne) {
    EXPECT_EQ(parse_min_outcomes("200").value(), 200u);
    EXPECT_EQ(parse_min_outcomes("1").value(), 1u);
    EXPECT_EQ(parse_min_outcomes("1000000000").value(), 1'000'000'000u);
    for (const char* bad : {"0", "", "-5", "1000000001", "99999999999", "2e3", "20 0"}) {
        EXPECT_FALSE(parse_min_outcomes(bad).ok()) << bad;
    }
}

TEST(SendingHealth, OnlyFinalOutcomesCount) {
    EXPECT_EQ(health_counter(RecipientStatus::delivered), "delivered");
    EXPECT_EQ(health_counter(RecipientStatus::bounced), "bounced");
    EXPECT_EQ(health_counter(RecipientStatus::complained), "complained");
    EXPECT_EQ(health_counter(RecipientStatus::deferred), "");
    EXPECT_EQ(health_counter(RecipientStatus::queued), "");
    EXPECT_EQ(health_counter(RecipientStatus::blocked), "");
}

TEST(SendingHealth, HoursAreFloorOfUnixTime) {
    EXPECT_EQ(health_hour(0), 0);
    EXPECT_EQ(health_hour(3599), 0);
    EXPECT_EQ(health_hour(3600), 1);
    EXPECT_EQ(health_hour(-1), -1);
    EXPECT_EQ(health_hour(1'700'000'000), 472'222);
}

TEST(SendingHealth, RatesHaveTwoDecimals) {
    EXPECT_EQ(format_rate(41, 10'000), "0.41%");
    EXPECT_EQ(format_rate(1, 3), "33.33%");
    EXPECT_EQ(format_rate(0, 5), "0.00%");
    EXPECT_EQ(format_rate(3, 0), "-");
}

TEST(SendingHealth, TheCheckReadsEveryHourOfThePeriod) {
    PausePolicy policy;
    policy.period = std::chrono::hours(3);
    policy.min_outcomes = 20;
    policy.complaint_rate_ppm = 100'000;
    const std::int64_t now = 1'700'000'000;  // hour 472222
    const auto argv = build_health_check("acme", policy, now, 1000);
    ASSERT_EQ(argv.size(), 3u + 2u + 3u + 8u);
    EXPECT_EQ(argv[0], "EVALSHA");
    EXPECT_EQ(argv[1].size(), 40u);
    EXPECT_EQ(argv[2], "5");
    EXPECT_EQ(argv[3], paused_key("acme"));
    EXPECT_EQ(argv[4], events_stream_key("acme"));
    EXPECT_EQ(argv[5], health_bucket_key("acme", 472'222));
    EXPECT_EQ(argv[6], health_bucket_key("acme", 472'221));
    EXPECT_EQ(argv[7], health_bucket_key("acme", 472'220));
    EXPECT_EQ(argv[8], "20");
    EXPECT_EQ(argv[9], "50000");
    EXPECT_EQ(argv[10], "100000");
    EXPECT_EQ(argv[11], "3h");
    EXPECT_EQ(argv[15], "1000");
    // The event is events.h's shape; the script fills the two markers.
    const nlohmann::json event = nlohmann::json::parse(argv[12]);
    EXPECT_EQ(event["kind"], "paused");
    EXPECT_EQ(event["tenant"], "acme");
    EXPECT_EQ(event["timestamp"], now);
    EXPECT_EQ(event["details"]["class"], "bulk");
    EXPECT_EQ(event["details"]["automatic"], true);
    EXPECT_EQ(event["details"]["period"], "3h");
    EXPECT_NE(argv[12].find(argv[13]), std::string::npos);
    EXPECT_NE(argv[12].find(argv[14]), std::string::npos);
    EXPECT_NE(argv[13], argv[14]);
}

TEST(SendingHealth, EveryKeyIsInTheTenantsSlot) {
    const auto argv = build_health_check("acme", PausePolicy{}, 1'700'000'000, 1000);
    const std::size_t keys = std::stoul(argv[2]);
    EXPECT_EQ(keys, 2u + 24u);
    for (std::size_t i = 3; i < 3 + keys; ++i) EXPECT_NE(argv[i].find("{acme}"), std::string::npos) << argv[i];
}

TEST(SendingHealth, TheScriptChecksComplaintsFirstAndLeavesAHeldPauseAlone) {
    const std::string_view script = health_check_script();
    const std::size_t held = script.find("if held then return");
    const std::size_t complaint = script.find("complaint rate");
    const std::size_t bounce = script.find("hard-bounce rate");
    const std::size_t write = script.find("redis.call('HSET'");
    ASSERT_NE(held, std::string_view::npos);
    EXPECT_LT(held, write);
    EXPECT_LT(complaint, bounce);
    EXPECT_LT(bounce, write);
}

}  // namespace
}  // namespace tenantmail
