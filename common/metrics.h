// metrics.h — Prometheus metrics, on prometheus-cpp (Debian
// prometheus-cpp-dev): the metrics server each daemon runs when its section
// has metrics_listen, the tenant label rule, and the Redis metrics every
// daemon on AsyncRedis shares. The daemons' own metrics live with them
// (milter/milter_metrics.h, policyd/policy_metrics.h, ...).
//
// The server is prometheus-cpp's exposer (civetweb, two threads of its
// own) on a loopback address only: whoever reaches it learns every tenant's
// volume, so it stays as private as the policy socket (a Prometheus on
// another host scrapes through a proxy that authenticates). It answers
// GET /metrics in the text format and nothing else.
//
// Tenant labels: per tenant and reason, so the series grow with the tenants
// file (a few per tenant and daemon; see the README, "Metrics"). With
// metrics_tenant_labels = no, every series is summed under tenant="".
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "common/options/metrics.h"
#include "common/redis.h"
#include "common/result.h"

namespace prometheus {
class Exposer;
}

namespace tenantmail {

// A daemon's registry and the server of it. Metrics refer into the
// registry: declare the server before them.
class MetricsServer {
public:
    // Listens at listen (check_metrics_listen()).
    static Result<std::unique_ptr<MetricsServer>> start(const std::string& listen);
    ~MetricsServer();
    prometheus::Registry& registry() { return *registry_; }
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

private:
    MetricsServer() = default;
    std::shared_ptr<prometheus::Registry> registry_;
    std::unique_ptr<prometheus::Exposer> exposer_;
};

// The tenant label's value: the tenant, or "" when tenant labels are off.
class TenantLabels {
public:
    explicit TenantLabels(bool enabled) : enabled_(enabled) {}
    std::string operator()(std::string_view tenant) const { return enabled_ ? std::string(tenant) : std::string(); }

private:
    bool enabled_;
};

// Latency buckets from 50 µs to 2.5 s, for Redis round trips and signing.
prometheus::Histogram::BucketBoundaries latency_buckets();

// tenantmail_redis_*{program}: round trips, failed commands, outages and
// failovers as AsyncRedis reports them.
class RedisMetrics final : public RedisObserver {
public:
    RedisMetrics(prometheus::Registry& registry, const std::string& program);
    void on_round_trip(std::chrono::nanoseconds elapsed) override;
    void on_command_failed() override;
    void on_outage() override;
    void on_failover() override;

private:
    prometheus::Histogram& round_trip_;
    prometheus::Counter& failed_;
    prometheus::Counter& outages_;
    prometheus::Counter& failovers_;
};

}  // namespace tenantmail
