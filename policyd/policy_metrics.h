// policy_metrics.h — tenantmail-policyd's Prometheus metrics:
//   tenantmail_policyd_decisions_total{tenant,class,decision}
//     decision: permit, limit, pause, suppress, fallback (redis_error_action);
//   tenantmail_policyd_unchecked_total{reason}: requests answered without a
//     check (no tenant, no recipient, ...: policyd/decision.h's reasons).
// On the io thread only: the counters of a tenant are looked up once and
// kept, so a decision costs one hash lookup and an atomic add.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/metrics.h"
#include "common/rate_limiter.h"
#include "common/tenants.h"

namespace tenantmail::policyd {

class PolicyMetrics {
public:
    PolicyMetrics(prometheus::Registry& registry, TenantLabels tenant_labels);
    void decision(std::string_view tenant, TrafficClass traffic_class, RateOutcome::Kind kind);
    void unchecked(const char* reason);

private:
    static constexpr std::size_t kDecisions = 5;
    using TenantCounters = std::array<prometheus::Counter*, kTrafficClasses.size() * kDecisions>;
    TenantCounters& counters_of(std::string_view tenant);

    TenantLabels tenant_labels_;
    prometheus::Family<prometheus::Counter>& decisions_;
    prometheus::Family<prometheus::Counter>& unchecked_;
    std::unordered_map<std::string, TenantCounters> tenants_;
    std::unordered_map<const char*, prometheus::Counter*> reasons_;
};

}  // namespace tenantmail::policyd
