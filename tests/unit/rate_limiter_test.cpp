// rate_limiter_test.cpp — the rate check without Redis: the reading of every
// reply the rate script can give (and of replies it must never give) and
// retry rounding. Key names are in redis_keys_test.cpp, suppression values
// in suppression_test.cpp, recipient normalisation in recipient_test.cpp.
// The script itself runs against a real Redis in
// tests/integration/policyd_redis_test.py.
#include "common/rate_limiter.h"

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
    // The script takes its time from Redis and writes only through ZADD NX.
    EXPECT_NE(rate_script().find("redis.call('TIME')"), std::string_view::npos);
    EXPECT_NE(rate_script().find("'NX'"), std::string_view::npos);
    EXPECT_NE(rate_script().find("PEXPIRE"), std::string_view::npos);
}

TEST(RateReply, Permitted) {
    const RateOutcome outcome = interpret_array({integer(1), integer(42), integer(0)});
    EXPECT_EQ(outcome.kind, RateOutcome::Kind::permitted);
    EXPECT_EQ(outcome.count, 42);
}

TEST(RateReply, LimitedCarriesTheRetryTime) {
    const RateOutcome outcome = interpret_array({integer(0), integer(500), integer(36'200'001)});
    EXPECT_EQ(outcome.kind, RateOutcome::Kind::limited);
    EXPECT_EQ(outcome.count, 500);
    EXPECT_EQ(outcome.retry_after, microseconds(36'200'001));
    // A negative retry cannot come from the script; never pass it on.
    EXPECT_EQ(interpret_array({integer(0), integer(500), integer(-5)}).retry_after, microseconds(0));
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
