// signing_table.h — everything the milter decides with, loaded as one
// immutable snapshot: the tenant registry, every tenant's parsed DKIM keys
// the bounce-address and tracking-link codecs and the index of tenant
// identities, and every tenant's S/MIME signing certificates. A reload builds a new snapshot and swaps it in whole; messages in
// flight keep the one they started with (shared_ptr). Loading fails as a whole,
// naming the file and reason, so a broken tenants file or an unreadable key
// never replaces a working table. It lives in
// common/ so that tenantmailctl check-config validates exactly what the
// milter loads.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/bounce_address.h"
#include "common/dkim_key.h"
#include "common/smime/smime_certificate.h"
#include "common/tenants.h"
#include "common/tenant_identities.h"
#include "common/tracking_token.h"

namespace tenantmail {

struct TenantKeys {
    std::optional<DkimKey> rsa;
    std::optional<DkimKey> ed25519;
};

class SigningTable {
public:
    // platform_tenant: milter.platform_tenant ("" for none).
    static Result<std::shared_ptr<const SigningTable>> load(const std::string& tenants_file,
                                                            const std::string& bounce_secret_file,
                                                            const std::string& tracking_secret_file,
                                                            const std::string& platform_tenant);

    const TenantRegistry& registry() const { return registry_; }
    // Every tenant's domains and bounce domains, for mail of no tenant.
    const TenantIdentities& identities() const { return identities_; }
    const BounceAddressCodec& bounce_codec() const { return *bounce_codec_; }
    // The tracking-link codec; nullptr when no tenant has a tracking_domain
    // (the secret is then not read).
    const TrackingTokenCodec* tracking_codec() const { return tracking_codec_ ? &*tracking_codec_ : nullptr; }
    // nullptr for tenants that do not sign.
    const TenantKeys* keys(const Tenant& tenant) const;
    // The tenant's S/MIME identity for a From address: the entry for the
    // address, else the tenant's "@domain" entry for its domain; nullptr
    // when it has neither.
    const SmimeCertificate* smime_certificate(const Tenant& tenant, std::string_view from_address) const;
    // The tenant that signs rewritten mail, or nullptr when none is set.
    const Tenant* platform() const { return platform_; }

private:
    SigningTable() = default;

    TenantRegistry registry_;
    TenantIdentities identities_;
    std::optional<BounceAddressCodec> bounce_codec_;
    std::optional<TrackingTokenCodec> tracking_codec_;
    std::map<std::string, TenantKeys, std::less<>> keys_;
    // "tenant\nsender" -> certificate (sender as in tenants.conf, lower case)
    std::map<std::string, SmimeCertificate, std::less<>> smime_;
    const Tenant* platform_ = nullptr;
};

}  // namespace tenantmail
