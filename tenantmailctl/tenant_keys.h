// tenant_keys.h — the DKIM keys of one tenant that DNS must show: the active
// ones tenants.conf names, plus the next and previous keys its rotation
// notes list (rotation_state.h). Loads each private key to derive the public
// half; a key that cannot be loaded is an error naming the file.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "common/tenants.h"
#include "tenantmailctl/dns_records.h"
#include "tenantmailctl/rotation_state.h"

namespace tenantmail::ctl {

struct TenantKeyFile {
    KeySlot slot = KeySlot::rsa;
    KeyRole role = KeyRole::active;
    std::string selector;
    std::string path;
};

std::vector<TenantKeyFile> tenant_key_files(const Tenant& tenant, const std::vector<RotationMark>& marks);
Result<PublishedKey> load_published_key(const TenantKeyFile& file, bool allow_rsa1024);
Result<std::vector<PublishedKey>> load_published_keys(const std::vector<TenantKeyFile>& files, bool allow_rsa1024);
// Domains and bounce domain from the tenant, keys as given.
TenantDns tenant_dns(const Tenant& tenant, std::vector<PublishedKey> keys);

}  // namespace tenantmail::ctl
