// retry_policy.cpp — see retry_policy.h.
#include "webhookd/retry_policy.h"

#include <algorithm>
#include <charconv>

namespace tenantmail::webhookd {

std::chrono::milliseconds backoff_after(std::uint64_t attempts, const RetrySchedule& schedule) {
    std::chrono::milliseconds wait = schedule.initial;
    // Doubling stops at the cap, so no shift can overflow however large
    // the delivery counter grows.
    for (std::uint64_t i = 1; i < attempts && wait < schedule.max; ++i) wait *= 2;
    return std::min(wait, schedule.max);
}

RetryDecision decide_after_failure(std::int64_t first_ms, std::int64_t now_ms, std::uint64_t attempts,
                                   const RetrySchedule& schedule) {
    const std::int64_t deadline = first_ms + schedule.retry_for.count();
    if (now_ms >= deadline) return {true, 0};
    const std::int64_t next = now_ms + backoff_after(attempts, schedule).count();
    return {false, std::min(next, deadline)};
}

}  // namespace tenantmail::webhookd
