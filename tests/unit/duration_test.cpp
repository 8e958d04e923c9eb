// duration_test.cpp — durations ("100ms" .. "1d") and rate limits ("500/3m"):
// what parses, what is refused and why, overflow, and formatting that
// parses back to the same value.
#include "common/duration.h"

#include <gtest/gtest.h>

namespace tenantmail {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

milliseconds duration_ok(std::string_view text) {
    auto parsed = parse_duration(text);
    EXPECT_TRUE(parsed.ok()) << text << ": " << parsed.error();
    return parsed.ok() ? *parsed : milliseconds(-1);
}

std::string duration_error(std::string_view text) {
    auto parsed = parse_duration(text);
    EXPECT_FALSE(parsed.ok()) << text;
    return parsed.ok() ? std::string() : parsed.error();
}

std::string rate_error(std::string_view text) {
    auto parsed = parse_rate_limit(text);
    EXPECT_FALSE(parsed.ok()) << text;
    return parsed.ok() ? std::string() : parsed.error();
}

TEST(Duration, ParsesEveryUnit) {
    EXPECT_EQ(duration_ok("100ms"), milliseconds(100));
    EXPECT_EQ(duration_ok("5s"), seconds(5));
    EXPECT_EQ(duration_ok("3m"), minutes(3));
    EXPECT_EQ(duration_ok("1h"), hours(1));
    EXPECT_EQ(duration_ok("1d"), hours(24));
}

TEST(Duration, PlainNumberIsSeconds) { EXPECT_EQ(duration_ok("30"), seconds(30)); }

TEST(Duration, SurroundingWhitespaceIsIgnored) { EXPECT_EQ(duration_ok(" 5s\t"), seconds(5)); }

TEST(Duration, ZeroIsADuration) { EXPECT_EQ(duration_ok("0s"), milliseconds(0)); }

TEST(Duration, RejectsJunkWithTheTextInTheMessage) {
    EXPECT_EQ(duration_error("100x"), "invalid duration \"100x\": unknown unit \"x\" (use ms, s, m, h or d)");
    EXPECT_EQ(duration_error(""), "invalid duration \"\": empty");
    EXPECT_EQ(duration_error("ms"), "invalid duration \"ms\": must start with a number");
    EXPECT_EQ(duration_error("-5s"), "invalid duration \"-5s\": no sign allowed");
    EXPECT_EQ(duration_error("+5s"), "invalid duration \"+5s\": no sign allowed");
    duration_error("1.5s");
    duration_error("5 s");
    duration_error("5S");
    duration_error("5M");
    duration_error("5sec");
    duration_error("5s5");
}

TEST(Duration, RejectsOverflowInsteadOfWrapping) {
    EXPECT_EQ(duration_error("99999999999999999999"), "invalid duration \"99999999999999999999\": value too large");
    duration_error("9223372036854776d");
    duration_error("9223372036854775808ms");
    EXPECT_EQ(duration_ok("9223372036854775807ms"), milliseconds(9223372036854775807LL));
}

TEST(Duration, FormatUsesLargestExactUnit) {
    EXPECT_EQ(format_duration(minutes(3)), "3m");
    EXPECT_EQ(format_duration(seconds(90)), "90s");
    EXPECT_EQ(format_duration(milliseconds(1500)), "1500ms");
    EXPECT_EQ(format_duration(hours(48)), "2d");
    EXPECT_EQ(format_duration(hours(25)), "25h");
    EXPECT_EQ(format_duration(milliseconds(0)), "0s");
}

TEST(Duration, FormatParsesBackToTheSameValue) {
    for (const milliseconds value : {milliseconds(1), milliseconds(999), milliseconds(61000), milliseconds(3600000),
                                     milliseconds(86400000 * 3LL)}) {
        EXPECT_EQ(duration_ok(format_duration(value)), value);
    }
}

TEST(RateLimit, ParsesCountAndWindow) {
    auto parsed = parse_rate_limit("500/3m");
    ASSERT_TRUE(parsed.ok()) << parsed.error();
    EXPECT_EQ(parsed->count, 500u);
    EXPECT_EQ(parsed->window, minutes(3));
}

TEST(RateLimit, WindowInPlainSecondsAndLargestCount) {
    auto parsed = parse_rate_limit(" 4294967295/30 ");
    ASSERT_TRUE(parsed.ok()) << parsed.error();
    EXPECT_EQ(parsed->count, 4294967295u);
    EXPECT_EQ(parsed->window, seconds(30));
}

TEST(RateLimit, RejectsMissingParts) {
    EXPECT_EQ(rate_error("500"), "invalid rate limit \"500\": expected <count>/<window>, e.g. 500/3m");
    EXPECT_EQ(rate_error("500/"), "invalid rate limit \"500/\": missing window after '/'");
    EXPECT_EQ(rate_error("/3m"), "invalid rate limit \"/3m\": missing count before '/'");
    rate_error("");
    rate_error("/");
}

TEST(RateLimit, RejectsZeroCountAndZeroWindow) {
    EXPECT_EQ(rate_error("0/3m"),
              "invalid rate limit \"0/3m\": count must be at least 1 (to stop a tenant, remove it)");
    EXPECT_EQ(rate_error("500/0s"), "invalid rate limit \"500/0s\": window must be at least 1s");
    rate_error("500/0");
}

TEST(RateLimit, RejectsSubSecondWindows) {
    EXPECT_EQ(rate_error("500/100ms"), "invalid rate limit \"500/100ms\": window must be at least 1s");
    EXPECT_EQ(rate_error("500/1500ms"), "invalid rate limit \"500/1500ms\": window must be whole seconds");
    EXPECT_TRUE(parse_rate_limit("500/2000ms").ok());
}

TEST(RateLimit, RejectsNegativeAndJunk) {
    EXPECT_EQ(rate_error("-5/3m"), "invalid rate limit \"-5/3m\": no sign allowed");
    EXPECT_EQ(rate_error("500/-3m"), "invalid rate limit \"500/-3m\": window: no sign allowed");
    EXPECT_EQ(rate_error("5x/3m"), "invalid rate limit \"5x/3m\": not a number: \"5x\"");
    EXPECT_EQ(rate_error("500/3q"), "invalid rate limit \"500/3q\": window: unknown unit \"q\" (use ms, s, m, h or d)");
    rate_error("500/3m/1");
    rate_error("500 / 3m");
    rate_error("five/3m");
}

TEST(RateLimit, RejectsOverflow) {
    EXPECT_EQ(rate_error("4294967296/3m"), "invalid rate limit \"4294967296/3m\": count too large");
    rate_error("1/99999999999999999999d");
    EXPECT_EQ(rate_error("1/366d"), "invalid rate limit \"1/366d\": window longer than 365d");
    EXPECT_TRUE(parse_rate_limit("1/365d").ok());
}

TEST(RateLimit, RendersBackToConfigSyntaxAndPlainWords) {
    const RateLimit limit{500, minutes(3)};
    EXPECT_EQ(to_string(limit), "500/3m");
    EXPECT_EQ(describe(limit), "500 per 3m");
    EXPECT_EQ(to_string(RateLimit{7, seconds(90)}), "7/90s");
    auto round_trip = parse_rate_limit(to_string(RateLimit{120, hours(2)}));
    ASSERT_TRUE(round_trip.ok());
    EXPECT_EQ(*round_trip, (RateLimit{120, hours(2)}));
}

}  // namespace
}  // namespace tenantmail
