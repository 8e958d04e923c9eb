// tenant_identities.h — every tenant's domains and bounce domains, indexed
// once per signing table: claim() names the tenant a sender domain belongs to
// (the domain itself or any parent, longest match first, as the From policy
// decides). Used by the milter's checks on mail of no tenant
// (milter/foreign_sender.h). Pure: no I/O, a few hash lookups per domain.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/tenants.h"

namespace tenantmail {

struct IdentityClaim {
    std::string tenant;           // id of the tenant the domain belongs to
    std::string domain;           // its configured domain or bounce domain that matched
    bool bounce_domain = false;   // which of the two it is
};

class TenantIdentities {
public:
    TenantIdentities() = default;  // no tenants: nothing is claimed
    explicit TenantIdentities(const TenantRegistry& registry);

    // Case-insensitive; one trailing dot ignored. Empty labels do not stop the
    // walk to the parents: refusing "x..beta.example" is the safe reading.
    std::optional<IdentityClaim> claim(std::string_view domain) const;

private:
    std::unordered_map<std::string, IdentityClaim> by_domain_;
};

}  // namespace tenantmail
