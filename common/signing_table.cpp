// signing_table.cpp — see signing_table.h.
#include "common/signing_table.h"

#include <algorithm>
#include <ctime>

#include "common/text.h"

namespace tenantmail {
namespace {

Result<std::optional<DkimKey>> load_key(const Tenant& tenant, const std::string& path, KeyAlgorithm expected) {
    if (path.empty()) return std::optional<DkimKey>();
    KeyPolicy policy;
    policy.allow_rsa1024 = tenant.allow_rsa1024;
    auto key = DkimKey::load_file(path, policy);
    if (!key) return make_error("tenant " + tenant.id + ": " + key.error());
    if (key->algorithm() != expected) {
        return make_error("tenant " + tenant.id + ": key " + path + " is not an " +
                          (expected == KeyAlgorithm::rsa ? "RSA" : "Ed25519") + " key");
    }
    return std::optional<DkimKey>(std::move(key).value());
}

Result<TenantKeys> load_tenant_keys(const Tenant& tenant) {
    TenantKeys keys;
    auto rsa = load_key(tenant, tenant.key_path, KeyAlgorithm::rsa);
    if (!rsa) return Error{rsa.error()};
    auto ed25519 = load_key(tenant, tenant.ed25519_key_path, KeyAlgorithm::ed25519);
    if (!ed25519) return Error{ed25519.error()};
    keys.rsa = std::move(rsa).value();
    keys.ed25519 = std::move(ed25519).value();
    return keys;
}

std::string smime_key(std::string_view tenant, std::string_view sender) {
    return std::string(tenant) + "\n" + std::string(sender);
}

}  // namespace

Result<std::shared_ptr<const SigningTable>> SigningTable::load(const std::string& tenants_file,
                                                              const std::string& bounce_secret_file,
                                                              const std::string& tracking_secret_file,
                                                              const std::string& platform_tenant) {
    std::shared_ptr<SigningTable> table(new SigningTable());
    auto registry = TenantRegistry::load_file(tenants_file);
    if (!registry) return Error{registry.error()};
    table->registry_ = std::move(registry).value();
    table->identities_ = TenantIdentities(table->registry_);

    auto codec = load_bounce_codec(bounce_secret_file);
    if (!codec) return Error{codec.error()};
    table->bounce_codec_ = std::move(codec).value();

    const auto& tenants = table->registry_.tenants();
    if (std::any_of(tenants.begin(), tenants.end(), [](const Tenant& t) { return !t.tracking_domain.empty(); })) {
        auto tracking = load_tracking_codec(tracking_secret_file);
        if (!tracking) return Error{tracking.error()};
        table->tracking_codec_ = std::move(tracking).value();
    }

    for (const Tenant& tenant : table->registry_.tenants()) {
        if (!tenant.signs() && !tenant.signs_ed25519()) continue;
        auto keys = load_tenant_keys(tenant);
        if (!keys) return Error{keys.error()};
        table->keys_.emplace(tenant.id, std::move(keys).value());
    }

    // Checked against the clock of the load: an expired certificate is
    // refused now rather than answered with a 451 for every message.
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    for (const Tenant& tenant : table->registry_.tenants()) {
        for (const SmimeSender& entry : tenant.smime) {
            auto certificate = SmimeCertificate::load_file(entry.path, entry.sender, now);
            if (!certificate) return make_error("tenant " + tenant.id + ": smime " + entry.sender + ": " + certificate.error());
            table->smime_.emplace(smime_key(tenant.id, entry.sender), std::move(certificate).value());
        }
    }

    if (!platform_tenant.empty()) {
        table->platform_ = table->registry_.find(platform_tenant);
        if (table->platform_ == nullptr || table->keys(*table->platform_) == nullptr) {
            return make_error("milter.platform_tenant: '" + platform_tenant +
                              "' is not a tenant with a DKIM key in " + tenants_file);
        }
    }
    // A rewritten From must be signable by the platform, or DMARC fails anyway.
    for (const Tenant& tenant : table->registry_.tenants()) {
        if (tenant.from_rewrite.empty()) continue;
        const std::string domain = tenant.from_rewrite.substr(tenant.from_rewrite.rfind('@') + 1);
        if (table->platform_ == nullptr || !table->registry_.may_send_as(*table->platform_, domain)) {
            return make_error("tenant " + tenant.id + ": from_rewrite " + tenant.from_rewrite +
                              " needs milter.platform_tenant set to the tenant owning " + domain);
        }
    }
    return std::shared_ptr<const SigningTable>(std::move(table));
}

const SmimeCertificate* SigningTable::smime_certificate(const Tenant& tenant, std::string_view from_address) const {
    if (tenant.smime.empty()) return nullptr;
    const std::string address = to_lower(from_address);
    if (const auto it = smime_.find(smime_key(tenant.id, address)); it != smime_.end()) return &it->second;
    const std::size_t at = address.rfind('@');
    if (at == std::string::npos) return nullptr;
    const auto it = smime_.find(smime_key(tenant.id, address.substr(at)));
    return it == smime_.end() ? nullptr : &it->second;
}

const TenantKeys* SigningTable::keys(const Tenant& tenant) const {
    const auto it = keys_.find(tenant.id);
    return it == keys_.end() ? nullptr : &it->second;
}

}  // namespace tenantmail
