// track_metrics.cpp — see track_metrics.h.
#include "trackd/track_metrics.h"

namespace tenantmail::trackd {

TrackMetrics::TrackMetrics(prometheus::Registry& registry)
    : requests(prometheus::BuildCounter()
                   .Name("tenantmail_trackd_requests_total")
                   .Help("Tracking requests by result")
                   .Register(registry)),
      events_family(prometheus::BuildCounter()
                        .Name("tenantmail_trackd_events_total")
                        .Help("Open, click and unsubscribe events by what became of them")
                        .Register(registry)),
      opens(requests.Add({{"result", "open"}})),
      clicks(requests.Add({{"result", "click"}})),
      unsubscribes(requests.Add({{"result", "unsubscribe"}})),
      not_found(requests.Add({{"result", "not_found"}})),
      events(events_family.Add({{"result", "recorded"}})),
      repeated_opens(events_family.Add({{"result", "repeated_open"}})),
      lost_events(events_family.Add({{"result", "lost"}})) {}

}  // namespace tenantmail::trackd
