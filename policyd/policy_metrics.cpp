// policy_metrics.cpp — see policy_metrics.h.
#include "policyd/policy_metrics.h"

namespace tenantmail::policyd {
namespace {

constexpr std::array<const char*, 5> kDecisionNames{"permit", "limit", "pause", "suppress", "fallback"};

std::size_t decision_index(RateOutcome::Kind kind) {
    switch (kind) {
        case RateOutcome::Kind::permitted: return 0;
        case RateOutcome::Kind::limited: return 1;
        case RateOutcome::Kind::paused: return 2;
        case RateOutcome::Kind::suppressed: return 3;
        default: return 4;  // the fallback answer
    }
}

}  // namespace

PolicyMetrics::PolicyMetrics(prometheus::Registry& registry, TenantLabels tenant_labels)
    : tenant_labels_(tenant_labels),
      decisions_(prometheus::BuildCounter()
                     .Name("tenantmail_policyd_decisions_total")
                     .Help("Recipients decided, by tenant, class and decision")
                     .Register(registry)),
      unchecked_(prometheus::BuildCounter()
                     .Name("tenantmail_policyd_unchecked_total")
                     .Help("Requests answered without a rate check, by reason")
                     .Register(registry)) {}

PolicyMetrics::TenantCounters& PolicyMetrics::counters_of(std::string_view tenant) {
    const std::string label = tenant_labels_(tenant);
    auto found = tenants_.find(label);
    if (found != tenants_.end()) return found->second;
    TenantCounters counters{};
    for (std::size_t c = 0; c < kTrafficClasses.size(); ++c) {
        for (std::size_t d = 0; d < kDecisions; ++d) {
            counters[c * kDecisions + d] = &decisions_.Add(
                {{"tenant", label}, {"class", std::string(kTrafficClasses[c].name)}, {"decision", kDecisionNames[d]}});
        }
    }
    return tenants_.emplace(label, counters).first->second;
}

void PolicyMetrics::decision(std::string_view tenant, TrafficClass traffic_class, RateOutcome::Kind kind) {
    counters_of(tenant)[static_cast<std::size_t>(traffic_class) * kDecisions + decision_index(kind)]->Increment();
}

void PolicyMetrics::unchecked(const char* reason) {
    auto& counter = reasons_[reason];
    if (counter == nullptr) counter = &unchecked_.Add({{"reason", reason}});
    counter->Increment();
}

}  // namespace tenantmail::policyd
