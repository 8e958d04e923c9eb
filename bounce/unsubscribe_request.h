// unsubscribe_request.h — what mail to unsubscribe+TOKEN@<bounce domain>
// (common/unsubscribe_address.h) asks for: suppress one recipient of one
// tenant. Accepted only when the address is well formed, the token decodes
// under the tracking secret (so it was made by the milter and not altered),
// is of kind unsubscribe, names a recipient, and its tenant exists and owns
// the domain the mail came to: its own bounce_domain, or, for a tenant with
// none (from_rewrite tenants use the platform's), the bounce domain of a
// tenant that signs. Tokens do not expire: RFC 8058 links must keep working
// long after the message; the token's AES-GCM authentication is what stops
// a forged or altered one.
// Pure: the caller supplies codec and registry, and does the writing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/tenants.h"
#include "common/tracking_token.h"

namespace tenantmail::bounce {

struct UnsubscribeRequest {
    std::string tenant;
    std::string recipient;  // normalised (recipient.h), the suppression hash's field
    std::string queue_id;   // of the message that carried the link ("" when unknown)
    std::int64_t issued_at = 0;
};

// The error says why, for the log line (no secret in it).
Result<UnsubscribeRequest> unsubscribe_request(std::string_view address, const TrackingTokenCodec& codec,
                                               const TenantRegistry& registry);

}  // namespace tenantmail::bounce
