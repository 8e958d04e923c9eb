// webhookd_retry_test.cpp — the backoff schedule and the dead-letter
// decision of tenantmail-webhookd, from stream entry times and attempt counts.
#include "webhookd/retry_policy.h"

#include <gtest/gtest.h>

namespace tenantmail::webhookd {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

const RetrySchedule kDefault{seconds(10), hours(1), hours(24)};

TEST(WebhookBackoff, DoublesFromInitialAndStopsAtTheCap) {
    EXPECT_EQ(backoff_after(1, kDefault), seconds(10));
    EXPECT_EQ(backoff_after(2, kDefault), seconds(20));
    EXPECT_EQ(backoff_after(3, kDefault), seconds(40));
    EXPECT_EQ(backoff_after(4, kDefault), seconds(80));
    EXPECT_EQ(backoff_after(9, kDefault), seconds(2560));
    EXPECT_EQ(backoff_after(10, kDefault), hours(1));  // 5120s capped
    EXPECT_EQ(backoff_after(11, kDefault), hours(1));
}

TEST(WebhookBackoff, ZeroAttemptsCountsAsOneAndHugeCountsDoNotOverflow) {
    EXPECT_EQ(backoff_after(0, kDefault), seconds(10));
    EXPECT_EQ(backoff_after(1'000'000'000'000ULL, kDefault), hours(1));
    EXPECT_EQ(backoff_after(UINT64_MAX, kDefault), hours(1));
}

TEST(WebhookBackoff, InitialAboveCapIsCapped) {
    EXPECT_EQ(backoff_after(1, RetrySchedule{minutes(5), minutes(1), hours(1)}), minutes(1));
}

TEST(WebhookRetryDecision, RetriesAfterTheBackoffWhileTimeIsLeft) {
    const std::int64_t first = 1'700'000'000'000;
    const RetryDecision d = decide_after_failure(first, first + 1000, 1, kDefault);
    EXPECT_FALSE(d.dead_letter);
    EXPECT_EQ(d.retry_at_ms, first + 1000 + 10'000);
    const RetryDecision later = decide_after_failure(first, first + 600'000, 5, kDefault);
    EXPECT_FALSE(later.dead_letter);
    EXPECT_EQ(later.retry_at_ms, first + 600'000 + 160'000);
}

TEST(WebhookRetryDecision, LastAttemptHappensWhenTimeIsUpNotAfterIt) {
    const std::int64_t first = 1'700'000'000'000;
    const std::int64_t deadline = first + 24LL * 3'600'000;
    const RetryDecision d = decide_after_failure(first, deadline - 60'000, 20, kDefault);
    EXPECT_FALSE(d.dead_letter);
    EXPECT_EQ(d.retry_at_ms, deadline);
}

TEST(WebhookRetryDecision, DeadLetterOnceRetryForHasPassedSinceTheOldestEvent) {
    const std::int64_t first = 1'700'000'000'000;
    const std::int64_t deadline = first + 24LL * 3'600'000;
    EXPECT_TRUE(decide_after_failure(first, deadline, 20, kDefault).dead_letter);
    EXPECT_TRUE(decide_after_failure(first, deadline + 1, 1, kDefault).dead_letter);
    EXPECT_FALSE(decide_after_failure(first, deadline - 1, 20, kDefault).dead_letter);
}

TEST(WebhookRetryDecision, ShortRetryForGivesUpQuickly) {
    const RetrySchedule quick{seconds(1), seconds(2), seconds(5)};
    const std::int64_t first = 1'000'000;
    EXPECT_EQ(decide_after_failure(first, first + 100, 1, quick).retry_at_ms, first + 1100);
    EXPECT_EQ(decide_after_failure(first, first + 4500, 3, quick).retry_at_ms, first + 5000);
    EXPECT_TRUE(decide_after_failure(first, first + 5000, 4, quick).dead_letter);
}

TEST(WebhookStreamId, MillisecondsOfAStreamEntryId) {
    EXPECT_EQ(stream_id_ms("1700000000123-4"), 1700000000123);
    EXPECT_EQ(stream_id_ms("0-1"), 0);
    EXPECT_EQ(stream_id_ms("1700000000123"), 1700000000123);
    EXPECT_FALSE(stream_id_ms("").has_value());
    EXPECT_FALSE(stream_id_ms("-1").has_value());
    EXPECT_FALSE(stream_id_ms("abc-1").has_value());
    EXPECT_FALSE(stream_id_ms("12-").has_value());
    EXPECT_FALSE(stream_id_ms("12-x").has_value());
}

TEST(WebhookStreamId, OrdersByTimeThenSequenceNotAsText) {
    EXPECT_LT(*parse_stream_id("9-5"), *parse_stream_id("10-0"));
    EXPECT_LT(*parse_stream_id("10-2"), *parse_stream_id("10-10"));
    EXPECT_EQ(*parse_stream_id("10"), *parse_stream_id("10-0"));
}

}  // namespace
}  // namespace tenantmail::webhookd
