// maillog_metrics.h — tenantmail-maillog's Prometheus metrics:
//   tenantmail_maillog_lag_bytes: bytes of the log not yet processed;
//   tenantmail_maillog_lag_seconds: how long the log has had unprocessed
//     bytes (0 when caught up): the longest an outcome has waited;
//   tenantmail_maillog_outcomes_total{result}: recorded, duplicate,
//     already_final, refused (the record is another message's), not_ours
//     (a queue id without a tenant's record).
// Updated by the runner's thread as it goes (update()).
#pragma once

#include <cstdint>

#include "common/metrics.h"
#include "maillog/maillog_runner.h"

namespace tenantmail::maillog {

class MaillogMetrics {
public:
    explicit MaillogMetrics(prometheus::Registry& registry);
    void update(std::uint64_t lag_bytes, double lag_seconds, const RecorderStats& stats, std::uint64_t not_ours);

private:
    prometheus::Gauge& lag_bytes_;
    prometheus::Gauge& lag_seconds_;
    prometheus::Family<prometheus::Counter>& outcomes_;
    prometheus::Counter& recorded_;
    prometheus::Counter& duplicates_;
    prometheus::Counter& already_final_;
    prometheus::Counter& refused_;
    prometheus::Counter& not_ours_;
    RecorderStats seen_;  // counted so far
    std::uint64_t seen_not_ours_ = 0;
};

}  // namespace tenantmail::maillog
