// milter_metrics.cpp — see milter_metrics.h.
#include "milter/milter_metrics.h"

namespace tenantmail::milter {

MilterMetrics::MilterMetrics(prometheus::Registry& registry, TenantLabels tenant_labels)
    : tenant_labels_(tenant_labels),
      messages_(prometheus::BuildCounter()
                    .Name("tenantmail_milter_messages_total")
                    .Help("Messages decided by the milter, by tenant, result and reason")
                    .Register(registry)),
      signing_(prometheus::BuildHistogram()
                   .Name("tenantmail_milter_signing_seconds")
                   .Help("End-of-message work (signing, rewriting, tracking) per accepted message")
                   .Register(registry)
                   .Add({}, latency_buckets())),
      record_queue_(prometheus::BuildGauge()
                        .Name("tenantmail_milter_record_queue_depth")
                        .Help("Message records waiting to be written to Redis")
                        .Register(registry)
                        .Add({})) {}

void MilterMetrics::message(std::string_view tenant, const char* result, const char* reason) {
    messages_.Add({{"tenant", tenant_labels_(tenant)}, {"result", result}, {"reason", reason}}).Increment();
}

}  // namespace tenantmail::milter
