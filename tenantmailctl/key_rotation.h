// key_rotation.h — changing which DKIM keys tenants.conf names, safely:
//   start:    new key file beside the current one + "pending" note;
//   activate: selector/key point at the pending key, the old one becomes a
//             "retiring" note (its DNS record must stay until retire);
//   retire:   the old key file is deleted and its note removed;
//   cancel:   a pending key is dropped before activation;
//   assign:   keygen --selector gives a tenant without a key its first one.
// Each step reads tenants.conf, edits it as text (tenants_edit.h), checks the
// result parses as a whole (TenantRegistry::parse), then replaces it with
// one rename. The milter signs with the new key after its next SIGHUP.
// Not for two admins rotating the same file at the same moment.
#pragma once

#include <string>
#include <string_view>

#include "common/dkim_key.h"
#include "common/result.h"
#include "common/tenants.h"
#include "tenantmailctl/rotation_state.h"

namespace tenantmail::ctl {

// UTC date as YYYY-MM-DD.
std::string today_utc();

// "tm" + YYYYMMDD (+ "b", "c", ... when the tenant already uses that name).
std::string default_selector(const Tenant& tenant, const std::vector<RotationMark>& marks, std::string_view date);

struct NewKeyOptions {
    KeyAlgorithm algorithm = KeyAlgorithm::rsa;
    int rsa_bits = 2048;
};

Result<RotationMark> start_rotation(const std::string& tenants_file, std::string_view tenant_id, KeySlot slot,
                                    std::string selector, const NewKeyOptions& key_options);
// Returns the retiring note (the key that was active until now).
Result<RotationMark> activate_rotation(const std::string& tenants_file, std::string_view tenant_id, KeySlot slot);
// Returns the note that was removed; warning is set when the file stayed.
struct Retired {
    RotationMark mark;
    std::string warning;
};
Result<Retired> retire_key(const std::string& tenants_file, std::string_view tenant_id, KeySlot slot);
Result<Retired> cancel_rotation(const std::string& tenants_file, std::string_view tenant_id, KeySlot slot);

// Gives a tenant without a key for slot its first one: writes key to
// <directory of tenants_file>/keys/<tenant>.<selector>.pem (never over an
// existing file), then adds the selector and key lines. Returns the path.
Result<std::string> assign_tenant_key(const std::string& tenants_file, std::string_view tenant_id, KeySlot slot,
                                      const std::string& selector, const DkimKey& key);

}  // namespace tenantmail::ctl
