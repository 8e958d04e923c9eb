// smime_report.h — what `tenantmailctl smime check` says about each of a
// tenant's S/MIME certificates: whether the milter would load it (the same
// checks, common/smime/smime_certificate.h), its subject, rfc822Names and
// issuer, its validity with a warning when it expires within 30 days, and
// whether its chain leads to a trust anchor (--ca, else the system store)
// for S/MIME signing. Reads the files; no network.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "common/tenants.h"

namespace tenantmail::ctl {

struct SmimeCheck {
    std::string sender;
    std::string path;
    std::string load_error;  // "" when the milter would load it
    std::string subject;
    std::string issuer;
    std::vector<std::string> addresses;
    std::int64_t not_before = 0;
    std::int64_t not_after = 0;
    bool expires_soon = false;  // within 30 days
    bool chain_ok = false;
    std::string chain_error;  // why the chain does not verify
    bool ok() const { return load_error.empty() && chain_ok; }
};

// ca_file: PEM trust anchors; "" for the system store.
std::vector<SmimeCheck> check_smime(const Tenant& tenant, const std::string& ca_file, std::int64_t now);
std::string render_smime_text(const std::string& tenant, const std::vector<SmimeCheck>& checks);
nlohmann::json smime_json(const std::string& tenant, const std::vector<SmimeCheck>& checks);

}  // namespace tenantmail::ctl
