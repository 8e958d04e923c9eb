// rate_limiter_test.cpp — the rate check without Redis: the reading of every
// reply the rate script can give (and of replies it must never give) and
// retry rounding. Key names are in redis_keys_test.cpp, suppression values
// in suppression_test.cpp, recipient normalisation in recipient_test.cpp.
// The script itself runs against a real Redis in
// tests/integration/policyd_redis_test.py.
#include "common/rate_limiter.h"
#include "common/reservation.h"

#include <gtest/gtest.h>

#include <vector>

namespace tenantmail {
namespace {

using Type = ReplyElement::Type;
using std::chrono::microseconds;

ReplyElement integer(long long value) {
    ReplyElement element;
    element.type = Type::integer;
    element.integer = value;
    return element;
}

ReplyElement string(std::string_view text, Type type = Type::string) {
    ReplyElement element;
    element.type = type;
    element.text = text;
    return element;
}

RateOutcome interpret_array(const std::vector<ReplyElement>& elements) {
    ReplyElement top;
    top.type = Type::array;
    top.elements = elements.size();
    return interpret_rate_reply(top, elements);
}

TEST(RateScript, HasAStableSha1ForEvalsha) {
    const std::string& sha1 = rate_script_sha1();
    ASSERT_EQ(sha1.size(), 40u);
    EXPECT_EQ(sha1.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_EQ(&sha1, &rate_script_sha1());
    // The script takes its time from Redis, writes windows only through
    // ZADD NX and gives every key an expiry.
    EXPECT_NE(rate_script().find("redis.call('TIME')"), std::string_view::npos);
    EXPECT_NE(rate_script().find("'NX'"), std::string_view::npos);
    EXPECT_NE(rate_script().find("'PEXPIRE'"), std::string_view::npos);
    EXPECT_NE(rate_script().find("'PEXPIREAT'"), std::string_view::npos);
}

TEST(RateReply, PermittedCarriesTheFirstLimitsCount) {
    const RateOutcome outcome = interpret_array({integer(1), integer(0), integer(0), integer(42), integer(7)});
    EXPECT_EQ(outcome.kind, RateOutcome::Kind::permitted);
    EXPECT_EQ(outcome.count, 42);
    // No limit left to count (a later recipient of a counted message).
    EXPECT_EQ(interpret_array({integer(1), integer(0), integer(0)}).kind, RateOutcome::Kind::permitted);
}

TEST(RateReply, LimitedSaysWhichLimitAndTheRetryTime) {
    const RateOutcome outcome = interpret_array({integer(0), integer(2), integer(36'200'001), integer(500)});
    EXPECT_EQ(outcome.kind, RateOutcome::Kind::limited);
    EXPECT_EQ(outcome.limit_index, 1u);
    EXPECT_EQ(outcome.count, 500);
    EXPECT_EQ(outcome.retry_after, microseconds(36'200'001));
    // A negative retry cannot come from the script; never pass it on.
    EXPECT_EQ(interpret_array({integer(0), integer(1), integer(-5), integer(500)}).retry_after, microseconds(0));
    // Which limit is not optional.
    EXPECT_EQ(interpret_array({integer(0), integer(0), integer(5), integer(500)}).kind, RateOutcome::Kind::error);
    EXPECT_EQ(interpret_array({integer(0), integer(1), integer(5)}).kind, RateOutcome::Kind::error);
}

TEST(RateReply, PausedCarriesTheReason) {
    const RateOutcome outcome = interpret_array({integer(3), integer(0), integer(0), string("complaint rate 0.41% over 24h")});
    EXPECT_EQ(outcome.kind, RateOutcome::Kind::paused);
    EXPECT_EQ(outcome.detail, "complaint rate 0.41% over 24h");
    EXPECT_EQ(interpret_array({integer(3), integer(0), integer(0)}).kind, RateOutcome::Kind::error);
}

TEST(RateReply, StalePeriodCarriesRedisTime) {
    const RateOutcome outcome = interpret_array({integer(4), integer(0), integer(1'796'472'000'000'000)});
    EXPECT_EQ(outcome.kind, RateOutcome::Kind::stale_period);
    EXPECT_EQ(outcome.redis_now, microseconds(1'796'472'000'000'000));
    EXPECT_EQ(interpret_array({integer(4), integer(0), integer(0)}).kind, RateOutcome::Kind::error);
}

TEST(RateReply, SuppressedCarriesTheEntry) {
    const RateOutcome outcome =
        interpret_array({integer(2), integer(0), integer(0), string(R"({"reason":"bounced","time":1})")});
    EXPECT_EQ(outcome.kind, RateOutcome::Kind::suppressed);
    EXPECT_EQ(outcome.detail, R"({"reason":"bounced","time":1})");
}

TEST(RateReply, NoscriptAsksForEval) {
    ReplyElement top = string("NOSCRIPT No matching script. Please use EVAL.", Type::error);
    EXPECT_EQ(interpret_rate_reply(top, {}).kind, RateOutcome::Kind::noscript);
}

TEST(RateReply, OtherErrorsAreErrorsWithTheirText) {
    ReplyElement top = string("ERR Error running script: OOM command not allowed", Type::error);
    const RateOutcome outcome = interpret_rate_reply(top, {});
    EXPECT_EQ(outcome.kind, RateOutcome::Kind::error);
    EXPECT_EQ(outcome.detail, "ERR Error running script: OOM command not allowed");
}

TEST(RateReply, WrongShapesAreErrorsNotGuesses) {
    EXPECT_EQ(interpret_rate_reply(integer(1), {}).kind, RateOutcome::Kind::error);
    EXPECT_EQ(interpret_rate_reply(string("OK", Type::status), {}).kind, RateOutcome::Kind::error);
    EXPECT_EQ(interpret_array({}).kind, RateOutcome::Kind::error);
    EXPECT_EQ(interpret_array({integer(1), integer(2)}).kind, RateOutcome::Kind::error);
    EXPECT_EQ(interpret_array({string("1"), integer(2), integer(0)}).kind, RateOutcome::Kind::error);
    EXPECT_EQ(interpret_array({integer(7), integer(2), integer(0)}).kind, RateOutcome::Kind::error);
    EXPECT_EQ(interpret_array({integer(-1), integer(2), integer(0)}).kind, RateOutcome::Kind::error);
    // Suppressed without its entry, or with a non-string entry.
    EXPECT_EQ(interpret_array({integer(2), integer(0), integer(0)}).kind, RateOutcome::Kind::error);
    EXPECT_EQ(interpret_array({integer(2), integer(0), integer(0), integer(5)}).kind, RateOutcome::Kind::error);
    // The caller copied fewer elements than the array has.
    ReplyElement top;
    top.type = Type::array;
    top.elements = 4;
    const std::vector<ReplyElement> two = {integer(1), integer(1)};
    EXPECT_EQ(interpret_rate_reply(top, two).kind, RateOutcome::Kind::error);
}

// The argv for a tenant with two windows, a daily quota and a login limit
// counted in messages, at 2026-12-05 12:00:00 UTC in UTC+01:00.
TEST(RateRequest, ArgvNamesEveryLimitsKeyAndPeriod) {
    auto registry = TenantRegistry::parse(
        "[acme]\n"
        "domains = acme.example\n"
        "from_rewrite = acme@platform.example\n"
        "sasl_users = app1\n"
        "bulk_rate = 500/3m 5000/1h\n"
        "bulk_quota = 10000/day\n"
        "login_limits = app1=50/1m:messages\n"
        "time_zone = UTC+01:00\n",
        "tenants.conf");
    ASSERT_TRUE(registry) << registry.error();
    RateRequest request;
    request.select(*registry->find("acme"), TrafficClass::bulk, "app1", true);
    ASSERT_EQ(request.limits().size(), 4u);
    EXPECT_TRUE(request.counts_messages());
    request.set_time(SysSeconds(std::chrono::seconds(1'796'472'000)));
    request.build_argv("acme", TrafficClass::bulk, "bob@example.org", false);
    std::vector<std::string> argv;
    for (int i = 0; i < request.argc(); ++i) argv.emplace_back(request.argv()[i], request.lengths()[i]);
    // Local midnight of 2026-12-05 in UTC+01:00 is 2026-12-04 23:00 UTC.
    const std::vector<std::string> expected = {
        "EVALSHA", rate_script_sha1(), "7", "tm:{acme}:suppressed", "tm:{acme}:paused", "tm:{acme}:held:",
        "tm:{acme}:rate:bulk", "tm:{acme}:rate:bulk:3600s", "tm:{acme}:quota:bulk:day:1796425200",
        "tm:{acme}:rate:bulk:messages:60s:login:app1",
        "bob@example.org", "bulk", "4", "0",
        "w", "500", "180000", "0",
        "w", "5000", "3600000", "0",
        "q", "10000", "1796425200000", "1796511600000",
        "W", "50", "60000", "0"};
    EXPECT_EQ(argv, expected);

    // Accepted-only: the connection's reservation record and a hold time.
    request.hold_for("192.0.2.10,40312,192.0.2.25");
    request.build_argv("acme", TrafficClass::bulk, "bob@example.org", false);
    EXPECT_EQ(std::string_view(request.argv()[5], request.lengths()[5]), "tm:{acme}:held:192.0.2.10,40312,192.0.2.25");
    EXPECT_EQ(std::string_view(request.argv()[13], request.lengths()[13]), std::to_string(kReservationTtl.count()));
    request.hold_for("");

    // A later recipient of the same message: the messages limit is left out,
    // and a shorter argv reuses the buffers.
    request.select(*registry->find("acme"), TrafficClass::bulk, "app1", false);
    EXPECT_EQ(request.limits().size(), 3u);
    EXPECT_FALSE(request.counts_messages());
    request.build_argv("acme", TrafficClass::bulk, "", true);
    ASSERT_EQ(request.argc(), 3 + 6 + 4 + 12);
    EXPECT_EQ(std::string(request.argv()[0]), "EVAL");
    EXPECT_EQ(std::string_view(request.argv()[1], request.lengths()[1]), rate_script());
    EXPECT_EQ(std::string_view(request.argv()[2], request.lengths()[2]), "6");
    // Another login gets none of app1's limits.
    request.select(*registry->find("acme"), TrafficClass::bulk, "other", true);
    EXPECT_EQ(request.limits().size(), 3u);
}

TEST(RetrySeconds, RoundUpAndNeverZero) {
    EXPECT_EQ(retry_seconds(microseconds(0)), 1);
    EXPECT_EQ(retry_seconds(microseconds(1)), 1);
    EXPECT_EQ(retry_seconds(microseconds(1'000'000)), 1);
    EXPECT_EQ(retry_seconds(microseconds(1'000'001)), 2);
    EXPECT_EQ(retry_seconds(microseconds(36'200'000)), 37);
    EXPECT_EQ(retry_seconds(microseconds(180'000'000)), 180);
}

}  // namespace
}  // namespace tenantmail
