#include "common/outage.h"

#include <algorithm>

namespace tenantmail {

Outage::Outage(std::chrono::milliseconds first_delay, std::chrono::milliseconds max_delay)
    : first_delay_(first_delay), max_delay_(std::max(first_delay, max_delay)), next_delay_(first_delay) {}

Outage::Failure Outage::on_failure(Clock::time_point now) {
    const bool first = failures_ == 0;
    if (first) started_ = now;
    ++failures_;
    const std::chrono::milliseconds delay = next_delay_;
    next_delay_ = std::min(next_delay_ * 2, max_delay_);
    return {delay, first};
}

std::optional<Outage::Summary> Outage::on_success(Clock::time_point now) {
    next_delay_ = first_delay_;
    if (failures_ == 0) return std::nullopt;
    const Summary summary{now - started_, failures_};
    failures_ = 0;
    return summary;
}

}  // namespace tenantmail
