// unsubscribe_delivery.h — one delivery to unsubscribe+TOKEN@<bounce
// domain> (the mailto: of List-Unsubscribe, RFC 8058): the message itself
// is not read, receiving it is the request. An accepted token
// (unsubscribe_request.h) adds its recipient to the tenant's suppression
// list (reason "unsubscribe") and, when newly added, appends one
// unsubscribe event (details: {"via": "mailto"}), both in one atomic step
// (common/suppression_store.h), so a retry records it exactly once.
// Exit statuses as for bounces (bounce_processor.h): 0 when done, already
// suppressed, or refused (forged, altered, wrong kind, no recipient, tenant
// unknown or not using that bounce domain: logged, message discarded, as a
// forged bounce address is, so nothing goes back to a possibly forged
// sender); 75 when the tracking secret cannot be read or Redis fails.
#pragma once

#include "bounce/bounce_processor.h"
#include "common/options/bounce.h"
#include "common/tenants.h"

namespace tenantmail::bounce {

int process_unsubscribe(const BounceSettings& settings, const TenantRegistry& registry, const Delivery& delivery);

}  // namespace tenantmail::bounce
