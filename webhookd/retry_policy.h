// retry_policy.h — when a failed webhook batch is tried again, and when it
// is given up as a dead letter. Stateless on purpose: the first attempt's
// time is the millisecond part of the oldest stream entry id (the time the
// event was appended), the attempt count is Redis's delivery counter for
// the entries (XPENDING), so any dispatcher, restarted or not, reaches the
// same decision. Pure arithmetic in milliseconds since the epoch.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/redis_value.h"  // StreamId: the first attempt's time is in the entry id

namespace tenantmail::webhookd {

struct RetrySchedule {
    std::chrono::milliseconds initial{std::chrono::seconds(10)};
    std::chrono::milliseconds max{std::chrono::hours(1)};
    std::chrono::milliseconds retry_for{std::chrono::hours(24)};
};

// Wait after the attempts-th failed attempt (attempts >= 1; 0 counts as 1):
// initial * 2^(attempts-1), capped at max.
std::chrono::milliseconds backoff_after(std::uint64_t attempts, const RetrySchedule& schedule);

struct RetryDecision {
    bool dead_letter = false;
    std::int64_t retry_at_ms = 0;  // when not a dead letter
};

// After a failed attempt at now_ms. The batch is a dead letter once
// retry_for has passed since first_ms; otherwise it is retried after the
// backoff, but never later than first_ms + retry_for, so the last attempt
// happens when the time is up rather than up to retry_max after it.
RetryDecision decide_after_failure(std::int64_t first_ms, std::int64_t now_ms, std::uint64_t attempts,
                                   const RetrySchedule& schedule);

}  // namespace tenantmail::webhookd
