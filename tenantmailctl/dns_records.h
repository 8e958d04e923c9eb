// dns_records.h — every DNS record a tenant's onboarding needs, for both ways
// of setting it up: (A) CNAME delegation, where the tenant points names at
// the platform and the platform hosts the DKIM key, SPF and bounce MX; and
// (B) direct records in the tenant's zone. Also the platform's own side of
// (A), the tracking domain's CNAME (the same either way: links, pixel and
// one-click unsubscribe are served by the platform), and the optional DMARC
// record. Pure: keys come in as published text,
// platform names from the [dns] settings; nothing is looked up.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/options/dns.h"

namespace tenantmail::ctl {

// Where a key stands in a rotation (see key_rotation.h).
enum class KeyRole { active, pending, retiring };
std::string_view to_string(KeyRole role);

struct PublishedKey {
    std::string selector;
    std::string algorithm;   // k=: "rsa" or "ed25519"
    std::string txt_value;   // "v=DKIM1; k=rsa; p=..."
    std::string public_key;  // p= decoded, to compare with what DNS holds
    std::string path;        // the private key file, for messages
    KeyRole role = KeyRole::active;
};

struct TenantDns {
    std::string tenant;
    std::vector<std::string> domains;  // signing domains (d=)
    std::string bounce_domain;         // "" for a tenant that does not sign
    std::vector<PublishedKey> keys;    // active first, then pending and retiring
    std::string tracking_domain;       // "" when the tenant has no tracking links
};

enum class Delegation { cname, direct, both };  // both: the record is the same either way
enum class RecordSide { tenant, platform };
std::string_view to_string(Delegation delegation);
std::string_view to_string(RecordSide side);

struct DnsRecord {
    Delegation delegation = Delegation::both;
    RecordSide side = RecordSide::tenant;
    std::string name;   // fully qualified, no trailing dot
    std::string type;   // CNAME, TXT or MX
    std::string value;  // TXT unquoted and unsplit; MX "PREF HOST"; CNAME the target
    std::string purpose;
    bool required = true;
};

// <selector>.<tenant>.<dkim_key_zone>: one name per tenant and selector, so
// tenants never share a key record and a rotation is a new name.
std::string platform_key_name(std::string_view selector, std::string_view tenant, const DnsSettings& settings);
// v=spf1 include:<spf_include> -all
std::string platform_spf_record(const DnsSettings& settings);
// "10 <bounce_mx>"
std::string platform_mx_value(const DnsSettings& settings);
std::string dkim_record_name(std::string_view selector, std::string_view domain);
std::string dmarc_record_name(std::string_view domain);

// In this order: A tenant side, A platform side, B tenant side, the
// tracking CNAME, DMARC. Expects settings.missing() to be empty. Without
// dns.tracking_target the tracking CNAME is left out (a placeholder would
// be pasted into zones): tracking_target_note() says so.
std::vector<DnsRecord> tenant_dns_records(const TenantDns& tenant, const DnsSettings& settings);

// What to do when the tenant has a tracking domain and the platform's
// tracking host is not configured; "" otherwise.
std::string tracking_target_note(const TenantDns& tenant, const DnsSettings& settings);

}  // namespace tenantmail::ctl
