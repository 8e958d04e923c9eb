// metrics.cpp — see metrics.h.
#include "common/metrics.h"

#include <exception>
#include <prometheus/exposer.h>

namespace tenantmail {

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(const std::string& listen) {
    if (auto ok = check_metrics_listen(listen); !ok) return Error{ok.error()};
    std::unique_ptr<MetricsServer> server(new MetricsServer());
    server->registry_ = std::make_shared<prometheus::Registry>();
    try {
        // civetweb's options: two threads, and a scrape that stalls is cut
        // off rather than holding one.
        server->exposer_ = std::make_unique<prometheus::Exposer>(std::vector<std::string>{
            "listening_ports", listen, "num_threads", "2", "request_timeout_ms", "10000"});
    } catch (const std::exception& e) {
        return make_error("cannot serve metrics at " + listen + ": " + e.what());
    }
    server->exposer_->RegisterCollectable(server->registry_);
    return server;
}

MetricsServer::~MetricsServer() = default;

prometheus::Histogram::BucketBoundaries latency_buckets() {
    return {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
}

RedisMetrics::RedisMetrics(prometheus::Registry& registry, const std::string& program)
    : round_trip_(prometheus::BuildHistogram()
                      .Name("tenantmail_redis_round_trip_seconds")
                      .Help("Time from sending a Redis command to its reply")
                      .Register(registry)
                      .Add({{"program", program}}, latency_buckets())),
      failed_(prometheus::BuildCounter()
                  .Name("tenantmail_redis_failed_commands_total")
                  .Help("Redis commands that got no reply (timeout, connection lost, Redis down)")
                  .Register(registry)
                  .Add({{"program", program}})),
      outages_(prometheus::BuildCounter()
                   .Name("tenantmail_redis_outages_total")
                   .Help("Times a Redis server became unreachable (each followed by reconnecting)")
                   .Register(registry)
                   .Add({{"program", program}})),
      failovers_(prometheus::BuildCounter()
                     .Name("tenantmail_redis_failovers_total")
                     .Help("Sentinel master changes and Cluster slot map changes followed")
                     .Register(registry)
                     .Add({{"program", program}})) {}

void RedisMetrics::on_round_trip(std::chrono::nanoseconds elapsed) {
    round_trip_.Observe(std::chrono::duration<double>(elapsed).count());
}
void RedisMetrics::on_command_failed() { failed_.Increment(); }
void RedisMetrics::on_outage() { outages_.Increment(); }
void RedisMetrics::on_failover() { failovers_.Increment(); }

}  // namespace tenantmail
