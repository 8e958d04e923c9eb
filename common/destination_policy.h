// destination_policy.h — where tenant-chosen webhook URLs may send requests.
// Tenants pick their URLs, so without a rule the dispatcher is a blind SSRF
// tool: it would POST to the cloud metadata service (169.254.169.254), to
// loopback daemons or to the private network behind the platform. The rule
// is applied to the address actually connected to (every connection attempt,
// after name resolution; see http_poster.cpp), because a name can resolve to
// anything; the URL checks here only catch what is visible before that:
// plain http, and hosts written as a refused literal address.
// Special-purpose ranges (RFC 6890 and successors) are refused unless an
// admin lists them in webhookd.allowed_networks; IPv6 forms that carry an
// IPv4 address (mapped, NAT64, 6to4) are judged by that IPv4 address.
// Pure: no I/O. In common/ (namespace webhookd, which applies it) because the
// [webhookd] option declarations hold it (common/options/webhookd.h) and
// tenantmailctl check-config judges URLs with it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/network.h"

namespace tenantmail::webhookd {

struct DestinationPolicy {
    bool allow_http = false;               // webhookd.allow_http
    std::vector<Network> allowed_networks;  // webhookd.allowed_networks: admitted whatever their range
};

// A special-purpose block an address falls in.
struct SpecialRange {
    std::string block;  // "127.0.0.0/8"
    std::string name;   // "loopback"
};

// The special-purpose block of an address; nullopt for a public unicast one.
std::optional<SpecialRange> special_range(const IpAddress& address);

// "" when the dispatcher may connect to address; otherwise the reason, e.g.
// "destination 127.0.0.1 is refused: loopback (127.0.0.0/8); list it in
// webhookd.allowed_networks to allow it".
std::string refused_address(const IpAddress& address, const DestinationPolicy& policy);

// What a URL shows before any lookup: "" when nothing is wrong yet, else the
// reason (a scheme other than https without allow_http, or http(s) only; a
// host that is a refused literal address, in any form libcurl accepts:
// "[::1]", "127.1", "2130706433", "0x7f.0.0.1").
std::string refused_url(std::string_view url, const DestinationPolicy& policy);

// The host part of an http(s) URL, brackets removed ("" when there is none).
std::string url_host(std::string_view url);

}  // namespace tenantmail::webhookd
