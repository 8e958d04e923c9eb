// milter_metrics.h — tenantmail-milter's Prometheus metrics:
//   tenantmail_milter_messages_total{tenant,result,reason}
//     result: signed, unsigned (a signing failure let through by
//     error_action = accept), refused (5xx), tempfailed (4xx); reason for
//     the last three: no_tenant, foreign_sender, headers, body,
//     signing_failed, mta_refused_change, internal_error;
//   tenantmail_milter_signing_seconds: the end-of-message work (signing,
//     rewriting, tracking) per accepted message;
//   tenantmail_milter_record_queue_depth: message records waiting for Redis.
// Called from libmilter's threads: prometheus-cpp's metrics are atomic and
// its families lock their own map.
#pragma once

#include <chrono>
#include <string_view>

#include "common/metrics.h"

namespace tenantmail::milter {

class MilterMetrics {
public:
    MilterMetrics(prometheus::Registry& registry, TenantLabels tenant_labels);
    void message(std::string_view tenant, const char* result, const char* reason = "");
    void signing_took(std::chrono::nanoseconds elapsed) {
        signing_.Observe(std::chrono::duration<double>(elapsed).count());
    }
    prometheus::Gauge& record_queue_depth() { return record_queue_; }

private:
    TenantLabels tenant_labels_;
    prometheus::Family<prometheus::Counter>& messages_;
    prometheus::Histogram& signing_;
    prometheus::Gauge& record_queue_;
};

}  // namespace tenantmail::milter
