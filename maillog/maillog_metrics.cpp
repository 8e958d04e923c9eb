// maillog_metrics.cpp — see maillog_metrics.h.
#include "maillog/maillog_metrics.h"

namespace tenantmail::maillog {
namespace {

void add_since(prometheus::Counter& counter, std::uint64_t now, std::uint64_t& before) {
    if (now > before) counter.Increment(static_cast<double>(now - before));
    before = now;
}

}  // namespace

MaillogMetrics::MaillogMetrics(prometheus::Registry& registry)
    : lag_bytes_(prometheus::BuildGauge()
                     .Name("tenantmail_maillog_lag_bytes")
                     .Help("Bytes of the Postfix log not processed yet")
                     .Register(registry)
                     .Add({})),
      lag_seconds_(prometheus::BuildGauge()
                       .Name("tenantmail_maillog_lag_seconds")
                       .Help("How long the log has had bytes not processed yet (0: caught up)")
                       .Register(registry)
                       .Add({})),
      outcomes_(prometheus::BuildCounter()
                    .Name("tenantmail_maillog_outcomes_total")
                    .Help("Delivery log lines of the Postfix log, by what became of them")
                    .Register(registry)),
      recorded_(outcomes_.Add({{"result", "recorded"}})),
      duplicates_(outcomes_.Add({{"result", "duplicate"}})),
      already_final_(outcomes_.Add({{"result", "already_final"}})),
      refused_(outcomes_.Add({{"result", "refused"}})),
      not_ours_(outcomes_.Add({{"result", "not_ours"}})) {}

void MaillogMetrics::update(std::uint64_t lag_bytes, double lag_seconds, const RecorderStats& stats,
                            std::uint64_t not_ours) {
    lag_bytes_.Set(static_cast<double>(lag_bytes));
    lag_seconds_.Set(lag_seconds);
    add_since(recorded_, stats.recorded, seen_.recorded);
    add_since(duplicates_, stats.duplicates, seen_.duplicates);
    add_since(already_final_, stats.already_final, seen_.already_final);
    add_since(refused_, stats.refused, seen_.refused);
    add_since(not_ours_, not_ours, seen_not_ours_);
}

}  // namespace tenantmail::maillog
