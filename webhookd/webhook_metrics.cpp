// webhook_metrics.cpp — see webhook_metrics.h.
#include "webhookd/webhook_metrics.h"

#include <algorithm>

namespace tenantmail::webhookd {

WebhookMetrics::WebhookMetrics(prometheus::Registry& registry, TenantLabels tenant_labels)
    : tenant_labels_(tenant_labels),
      batches_(prometheus::BuildCounter()
                   .Name("tenantmail_webhook_batches_total")
                   .Help("Webhook POSTs by tenant and result: delivered, failed (retried later), dead")
                   .Register(registry)),
      events_(prometheus::BuildCounter()
                  .Name("tenantmail_webhook_events_total")
                  .Help("Events delivered to webhooks, by tenant and kind")
                  .Register(registry)),
      oldest_(prometheus::BuildGauge()
                  .Name("tenantmail_webhook_oldest_undelivered_seconds")
                  .Help("Age of the oldest event this dispatcher holds undelivered (0: none)")
                  .Register(registry)) {}

void WebhookMetrics::delivered(std::string_view tenant, const Batch& batch) {
    const std::string label = tenant_labels_(tenant);
    batches_.Add({{"tenant", label}, {"result", "delivered"}}).Increment();
    for (const Event& event : batch.events) {
        events_.Add({{"tenant", label}, {"kind", std::string(event_kind_name(event.kind))}}).Increment();
    }
}

void WebhookMetrics::failed(std::string_view tenant) {
    batches_.Add({{"tenant", tenant_labels_(tenant)}, {"result", "failed"}}).Increment();
}

void WebhookMetrics::dead(std::string_view tenant) {
    batches_.Add({{"tenant", tenant_labels_(tenant)}, {"result", "dead"}}).Increment();
}

void WebhookMetrics::begin_backlog() { ages_.clear(); }

void WebhookMetrics::held(std::string_view tenant, std::chrono::milliseconds age) {
    double& oldest = ages_[tenant_labels_(tenant)];
    oldest = std::max(oldest, std::chrono::duration<double>(age).count());
}

void WebhookMetrics::end_backlog() {
    for (auto& [label, gauge] : gauges_) {
        const auto found = ages_.find(label);
        gauge->Set(found == ages_.end() ? 0.0 : found->second);
    }
    for (const auto& [label, age] : ages_) {
        auto& gauge = gauges_[label];
        if (gauge == nullptr) {
            gauge = &oldest_.Add({{"tenant", label}});
            gauge->Set(age);
        }
    }
}

}  // namespace tenantmail::webhookd
