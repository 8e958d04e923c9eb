// unsubscribe_request.cpp — see unsubscribe_request.h.
#include "bounce/unsubscribe_request.h"

#include "common/recipient.h"
#include "common/text.h"
#include "common/unsubscribe_address.h"

namespace tenantmail::bounce {
namespace {

bool owns_bounce_domain(const Tenant& tenant, std::string_view domain, const TenantRegistry& registry) {
    if (!tenant.bounce_domain.empty()) return iequals(tenant.bounce_domain, domain);
    // No bounce domain of its own: the milter gives its mail the signing
    // (platform) tenant's, so that is where its unsubscribes arrive.
    for (const Tenant& other : registry.tenants()) {
        if (other.signs() && iequals(other.bounce_domain, domain)) return true;
    }
    return false;
}

}  // namespace

Result<UnsubscribeRequest> unsubscribe_request(std::string_view address, const TrackingTokenCodec& codec,
                                               const TenantRegistry& registry) {
    auto parsed = parse_unsubscribe_address(address);
    if (!parsed) return Error{parsed.error()};
    auto link = codec.decode(parsed->token);
    if (!link) return make_error("token refused: " + link.error());
    if (link->kind != TrackingLinkKind::unsubscribe) {
        return make_error("token is a /" + std::string(tracking_path_letter(link->kind)) +
                          "/ link, not an unsubscribe one");
    }
    if (link->recipient.empty()) return make_error("token names no recipient");
    const Tenant* tenant = registry.find(link->tenant);
    if (tenant == nullptr) return make_error("token's tenant " + link->tenant + " is not in the tenants file");
    if (!owns_bounce_domain(*tenant, parsed->domain, registry)) {
        return make_error("token's tenant " + tenant->id + " does not use bounce domain " + parsed->domain);
    }
    return UnsubscribeRequest{tenant->id, normalise_recipient(link->recipient), link->queue_id, link->issued_at};
}

}  // namespace tenantmail::bounce
