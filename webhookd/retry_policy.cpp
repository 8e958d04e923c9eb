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

std::optional<StreamId> parse_stream_id(std::string_view id) {
    const std::size_t dash = id.find('-');
    const std::string_view ms = id.substr(0, dash);
    if (ms.empty()) return std::nullopt;
    StreamId parsed;
    const auto [end, ec] = std::from_chars(ms.data(), ms.data() + ms.size(), parsed.ms);
    if (ec != std::errc() || end != ms.data() + ms.size() || parsed.ms < 0) return std::nullopt;
    if (dash != std::string_view::npos) {
        const std::string_view seq = id.substr(dash + 1);
        const auto [seq_end, seq_ec] = std::from_chars(seq.data(), seq.data() + seq.size(), parsed.seq);
        if (seq.empty() || seq_ec != std::errc() || seq_end != seq.data() + seq.size()) return std::nullopt;
    }
    return parsed;
}

std::optional<std::int64_t> stream_id_ms(std::string_view id) {
    const auto parsed = parse_stream_id(id);
    if (!parsed) return std::nullopt;
    return parsed->ms;
}

}  // namespace tenantmail::webhookd
