// tracking_rewrite.cpp — see tracking_rewrite.h.
#include "milter/tracking_rewrite.h"

namespace tenantmail::milter {

// Pass-through until the MIME and HTML rewriting lands: the message is sent
// as it came, signed.
RewriteResult rewrite_for_tracking(std::string_view, std::string_view, const TrackingPlan&) {
    RewriteResult result;
    result.skipped = "tracking rewrite not available";
    return result;
}

}  // namespace tenantmail::milter
