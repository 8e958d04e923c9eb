// dns_check.h — does DNS hold what a tenant's mail needs? One CheckLine per
// record: each DKIM key (followed through CNAMEs, compared with the private
// key on disk), SPF on the bounce domain (spf_check.h), the bounce domain's
// MX reaching the platform, the tracking domain's CNAME to dns.tracking_target
// (an A record instead fails; without tracking_target: not checked, not
// required), and DMARC if published. Accepts either way of
// setting up (CNAME delegation or direct records) since receivers only see
// the end of the chain. Pure over a DnsResolver; Error when it stops answering.
#pragma once

#include <string>
#include <vector>

#include "common/dns_lookup.h"
#include "common/result.h"
#include "tenantmailctl/dns_records.h"
#include "common/options/dns.h"

namespace tenantmail::ctl {

// absent: an optional record that is not published, which is fine.
enum class CheckStatus { pass, fail, absent };
std::string_view to_string(CheckStatus status);

struct CheckLine {
    std::string check;  // "DKIM", "SPF", "MX", "Track", "DMARC"
    std::string name;   // the name looked up
    CheckStatus status = CheckStatus::fail;
    bool required = true;
    std::string found;
    std::string expected;
    std::vector<std::string> via;  // CNAMEs followed
    std::string selector;          // DKIM lines: which key
    KeyRole role = KeyRole::active;
};

Result<std::vector<CheckLine>> check_tenant_dns(DnsResolver& resolver, const TenantDns& tenant,
                                                const DnsSettings& settings);

// Only the DKIM lines of one key, one per signing domain: what `rotate
// --activate` must see pass (published, and the same key as on disk)
// before it lets the milter sign with that key.
Result<std::vector<CheckLine>> check_key_published(DnsResolver& resolver, const TenantDns& tenant,
                                                   const PublishedKey& key, const DnsSettings& settings);

// Exit 0 only when this holds: every line passes or is an absent optional one.
bool all_green(const std::vector<CheckLine>& lines);
// True when every DKIM line of this selector passes (a pending key is live).
bool selector_published(const std::vector<CheckLine>& lines, std::string_view selector);

// "MIIBIjANBg…QIDAQAB": enough of a key to tell two apart in one line.
std::string abbreviate_key(std::string_view base64);

}  // namespace tenantmail::ctl
