// track_metrics.h — tenantmail-trackd's Prometheus metrics, the counts its
// stop line logs:
//   tenantmail_trackd_requests_total{result}: open, click, unsubscribe,
//     not_found (forged, expired, unknown: answered 404);
//   tenantmail_trackd_events_total{result}: recorded, repeated_open (within
//     open_repeat_window: no event), lost (Redis did not take it).
// On the io thread; no tenant label (the events carry the tenant).
#pragma once

#include "common/metrics.h"

namespace tenantmail::trackd {

struct TrackMetrics {
    explicit TrackMetrics(prometheus::Registry& registry);

    prometheus::Family<prometheus::Counter>& requests;
    prometheus::Family<prometheus::Counter>& events_family;
    prometheus::Counter& opens;
    prometheus::Counter& clicks;
    prometheus::Counter& unsubscribes;
    prometheus::Counter& not_found;
    prometheus::Counter& events;
    prometheus::Counter& repeated_opens;
    prometheus::Counter& lost_events;
};

}  // namespace tenantmail::trackd
