// tenant_identities.cpp — see tenant_identities.h.
#include "common/tenant_identities.h"

#include "common/text.h"

namespace tenantmail {

TenantIdentities::TenantIdentities(const TenantRegistry& registry) {
    // Tenant domains first: where a bounce domain is also a tenant domain,
    // the tenant that owns it is the one to name.
    for (const Tenant& tenant : registry.tenants()) {
        for (const std::string& domain : tenant.domains) by_domain_.emplace(domain, IdentityClaim{tenant.id, domain, false});
    }
    for (const Tenant& tenant : registry.tenants()) {
        if (tenant.bounce_domain.empty()) continue;
        by_domain_.emplace(tenant.bounce_domain, IdentityClaim{tenant.id, tenant.bounce_domain, true});
    }
}

std::optional<IdentityClaim> TenantIdentities::claim(std::string_view domain) const {
    if (by_domain_.empty()) return std::nullopt;
    std::string candidate = to_lower(domain);
    if (!candidate.empty() && candidate.back() == '.') candidate.pop_back();
    std::string_view rest = candidate;
    while (!rest.empty()) {
        if (const auto it = by_domain_.find(std::string(rest)); it != by_domain_.end()) return it->second;
        const std::size_t dot = rest.find('.');
        if (dot == std::string_view::npos) break;
        rest.remove_prefix(dot + 1);
    }
    return std::nullopt;
}

}  // namespace tenantmail
