#include "tenantmailctl/tenant_keys.h"

#include "common/base64.h"
#include "common/dkim_key.h"

namespace tenantmail::ctl {

std::vector<TenantKeyFile> tenant_key_files(const Tenant& tenant, const std::vector<RotationMark>& marks) {
    std::vector<TenantKeyFile> files;
    if (tenant.signs()) files.push_back({KeySlot::rsa, KeyRole::active, tenant.selector, tenant.key_path});
    if (tenant.signs_ed25519()) {
        files.push_back({KeySlot::ed25519, KeyRole::active, tenant.ed25519_selector, tenant.ed25519_key_path});
    }
    for (const RotationMark& mark : marks) {
        const KeyRole role = mark.state == RotationMark::State::pending ? KeyRole::pending : KeyRole::retiring;
        files.push_back({mark.slot, role, mark.selector, mark.key_path});
    }
    return files;
}

Result<PublishedKey> load_published_key(const TenantKeyFile& file, bool allow_rsa1024) {
    KeyPolicy policy;
    policy.allow_rsa1024 = allow_rsa1024;
    auto key = DkimKey::load_file(file.path, policy);
    if (!key) return Error{key.error()};
    PublishedKey published;
    published.selector = file.selector;
    published.algorithm = key->algorithm() == KeyAlgorithm::ed25519 ? "ed25519" : "rsa";
    published.txt_value = key->dns_txt_value();
    const auto raw = base64_decode(key->public_key_base64());
    if (!raw || raw->empty()) return make_error("key " + file.path + ": cannot encode its public key");
    published.public_key = *raw;
    published.path = file.path;
    published.role = file.role;
    return published;
}

Result<std::vector<PublishedKey>> load_published_keys(const std::vector<TenantKeyFile>& files, bool allow_rsa1024) {
    std::vector<PublishedKey> keys;
    for (const TenantKeyFile& file : files) {
        auto key = load_published_key(file, allow_rsa1024);
        if (!key) return Error{key.error()};
        keys.push_back(std::move(*key));
    }
    return keys;
}

TenantDns tenant_dns(const Tenant& tenant, std::vector<PublishedKey> keys) {
    TenantDns dns;
    dns.tenant = tenant.id;
    dns.domains = tenant.domains;
    dns.bounce_domain = tenant.signs() ? tenant.bounce_domain : "";
    dns.keys = std::move(keys);
    dns.tracking_domain = tenant.tracking_domain;
    return dns;
}

}  // namespace tenantmail::ctl
