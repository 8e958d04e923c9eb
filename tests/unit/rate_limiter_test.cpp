// rate_limiter_test.cpp — tenantmail's Redis data without Redis: key names
// (tenant in a hash tag), the reading of every reply the rate script can
// give (and of replies it must never give), retry rounding, and the
// suppression value format tenantmailctl and the bounce processor share.
// Recipient normalisation is in recipient_test.cpp. The script itself runs
// against a real Redis in tests/integration/policyd_redis_test.py.
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

TEST(RateKeys, CarryTheTenantInAHashTag) {
    EXPECT_EQ(rate_key("acme", TrafficClass::bulk), "tm:{acme}:rate:bulk");
    EXPECT_EQ(rate_key("acme", TrafficClass::transactional), "tm:{acme}:rate:transactional");
    EXPECT_EQ(suppression_key("acme"), "tm:{acme}:suppressed");
    std::string reused = "something long left over from before";
    build_rate_key(reused, "shop-2", TrafficClass::bulk);
    EXPECT_EQ(reused, "tm:{shop-2}:rate:bulk");
    build_suppression_key(reused, "x");
    EXPECT_EQ(reused, "tm:{x}:suppressed");
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

TEST(SuppressionValue, RoundTripsAsJson) {
    const std::string value = encode_suppression({"hard bounce \"550 5.1.1\"\nuser unknown", 1700000000});
    EXPECT_EQ(value, R"({"reason":"hard bounce \"550 5.1.1\"\nuser unknown","time":1700000000})");
    const SuppressionEntry entry = decode_suppression(value);
    EXPECT_EQ(entry.reason, "hard bounce \"550 5.1.1\"\nuser unknown");
    EXPECT_EQ(entry.time, 1700000000);
}

TEST(SuppressionValue, InvalidUtf8IsReplacedNotThrown) {
    const std::string value = encode_suppression({"bad \xff byte", 1});
    EXPECT_NE(value.find("\xef\xbf\xbd"), std::string::npos) << value;  // U+FFFD
}

TEST(SuppressionValue, ForeignValuesAreTheReason) {
    EXPECT_EQ(decode_suppression("complained via FBL").reason, "complained via FBL");
    EXPECT_EQ(decode_suppression("complained via FBL").time, 0);
    EXPECT_EQ(decode_suppression(R"({"time":5})").reason, R"({"time":5})");
    EXPECT_EQ(decode_suppression(R"({"reason":"x","time":"soon"})").time, 0);
    EXPECT_EQ(decode_suppression("").reason, "");
}

TEST(Printable, ReplacesControlAndNonAsciiAndCuts) {
    std::string out = "<";
    append_printable(out, "a\r\nb\x01\xc3\xa9", 100);
    EXPECT_EQ(out, "<a??b???");
    out.clear();
    append_printable(out, "abcdef", 3);
    EXPECT_EQ(out, "abc...");
}

}  // namespace
}  // namespace tenantmail
