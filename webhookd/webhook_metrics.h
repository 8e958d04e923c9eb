// webhook_metrics.h — tenantmail-webhookd's Prometheus metrics:
//   tenantmail_webhook_batches_total{tenant,result}: POSTs delivered (2xx),
//     failed (to be retried) and dead (moved to the dead letters);
//   tenantmail_webhook_events_total{tenant,kind}: events delivered, by kind
//     (delivery, bounce, soft_bounce, complaint, open, click, blocked, ...):
//     the bounces and complaints tenantmail-bounce parsed, once each;
//   tenantmail_webhook_oldest_undelivered_seconds{tenant}: the age of the
//     oldest event this dispatcher holds undelivered (0: none).
// On the dispatcher's thread only.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>

#include "common/event_batch.h"
#include "common/metrics.h"

namespace tenantmail::webhookd {

class WebhookMetrics {
public:
    WebhookMetrics(prometheus::Registry& registry, TenantLabels tenant_labels);
    void delivered(std::string_view tenant, const Batch& batch);
    void failed(std::string_view tenant);
    void dead(std::string_view tenant);
    // Ages of the batches held, one call per tenant holding one, between
    // begin_backlog() and end_backlog() (which zeroes the others).
    void begin_backlog();
    void held(std::string_view tenant, std::chrono::milliseconds age);
    void end_backlog();

private:
    TenantLabels tenant_labels_;
    prometheus::Family<prometheus::Counter>& batches_;
    prometheus::Family<prometheus::Counter>& events_;
    prometheus::Family<prometheus::Gauge>& oldest_;
    std::map<std::string, double> ages_;  // this pass's, by tenant label
    std::map<std::string, prometheus::Gauge*> gauges_;
};

}  // namespace tenantmail::webhookd
