// destination_policy.cpp — see destination_policy.h.
#include "common/destination_policy.h"

#include <arpa/inet.h>

#include <cstring>

#include "common/text.h"

namespace tenantmail::webhookd {
namespace {

struct RangeRow {
    const char* block;
    const char* name;
};

// IANA's special-purpose registries (RFC 6890 and later), the blocks a
// webhook has no business reaching; the first match names the address.
// More specific blocks come before the ones that contain them.
constexpr RangeRow kRanges[] = {
    {"0.0.0.0/8", "\"this network\" (RFC 791)"},
    {"10.0.0.0/8", "private network (RFC 1918)"},
    {"100.64.0.0/10", "carrier-grade NAT shared space (RFC 6598)"},
    {"127.0.0.0/8", "loopback"},
    {"169.254.0.0/16", "link-local, cloud metadata services live here (RFC 3927)"},
    {"172.16.0.0/12", "private network (RFC 1918)"},
    {"192.0.0.0/24", "IETF protocol assignments (RFC 6890)"},
    {"192.0.2.0/24", "documentation (RFC 5737)"},
    {"192.88.99.0/24", "6to4 relay anycast (RFC 7526)"},
    {"192.168.0.0/16", "private network (RFC 1918)"},
    {"198.18.0.0/15", "benchmarking (RFC 2544)"},
    {"198.51.100.0/24", "documentation (RFC 5737)"},
    {"203.0.113.0/24", "documentation (RFC 5737)"},
    {"224.0.0.0/4", "multicast"},
    {"255.255.255.255/32", "broadcast"},
    {"240.0.0.0/4", "reserved (RFC 1112)"},
    {"::/128", "unspecified"},
    {"::1/128", "loopback"},
    {"::/96", "IPv4-compatible IPv6, deprecated (RFC 4291)"},
    {"64:ff9b:1::/48", "local-use NAT64 (RFC 8215)"},
    {"100::/64", "discard-only (RFC 6666)"},
    {"2001::/23", "IETF protocol assignments: Teredo, benchmarking, ORCHID (RFC 6890)"},
    {"2001:db8::/32", "documentation (RFC 3849)"},
    {"3fff::/20", "documentation (RFC 9637)"},
    {"fc00::/7", "unique local (RFC 4193)"},
    {"fe80::/10", "link-local"},
    {"fec0::/10", "site-local, deprecated (RFC 3879)"},
    {"ff00::/8", "multicast"},
};

struct Range {
    Network network;
    std::string name;
};

const std::vector<Range>& ranges() {
    static const std::vector<Range> table = [] {
        std::vector<Range> parsed;
        for (const RangeRow& row : kRanges) parsed.push_back({*Network::parse(row.block), row.name});
        return parsed;
    }();
    return table;
}

// IPv6 forms that carry an IPv4 address the packets end up at.
struct Embedding {
    const char* block;
    const char* name;
    std::size_t offset;  // of the IPv4 address in the IPv6 bytes
};
constexpr Embedding kEmbeddings[] = {
    {"64:ff9b::/96", "NAT64 (RFC 6052)", 12},
    {"2002::/16", "6to4 (RFC 3056)", 2},
};

std::optional<IpAddress> embedded_v4(const IpAddress& address, const Embedding& embedding) {
    if (address.is_v4() || !Network::parse(embedding.block)->contains(address)) return std::nullopt;
    const auto& b = address.bytes();
    const std::size_t o = embedding.offset;
    return IpAddress::parse(std::to_string(b[o]) + "." + std::to_string(b[o + 1]) + "." + std::to_string(b[o + 2]) +
                            "." + std::to_string(b[o + 3]));
}

bool allowed(const IpAddress& address, const DestinationPolicy& policy) {
    for (const Network& network : policy.allowed_networks) {
        if (network.contains(address)) return true;
    }
    return false;
}

// A host written as an address, in the forms libcurl (inet_pton, then
// inet_aton's shorthand: "127.1", "2130706433", "0x7f.1") takes for one.
std::optional<IpAddress> literal_address(const std::string& host) {
    const std::string without_zone = host.substr(0, host.find('%'));
    if (auto address = IpAddress::parse(without_zone)) return address;
    in_addr v4{};
    if (host.empty() || host.find_first_not_of("0123456789abcdefABCDEFxX.") != std::string::npos ||
        ::inet_aton(host.c_str(), &v4) == 0) {
        return std::nullopt;
    }
    char text[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &v4, text, sizeof text);
    return IpAddress::parse(text);
}

}  // namespace

std::optional<SpecialRange> special_range(const IpAddress& address) {
    for (const Embedding& embedding : kEmbeddings) {
        const auto inner = embedded_v4(address, embedding);
        if (!inner) continue;
        const auto range = special_range(*inner);
        if (!range) return std::nullopt;
        return SpecialRange{embedding.block, std::string(embedding.name) + " form of " + inner->to_string() + ", " +
                                                 range->name + " (" + range->block + ")"};
    }
    for (const Range& range : ranges()) {
        if (range.network.contains(address)) return SpecialRange{range.network.to_string(), range.name};
    }
    return std::nullopt;
}

std::string refused_address(const IpAddress& address, const DestinationPolicy& policy) {
    if (allowed(address, policy)) return "";
    const auto range = special_range(address);
    if (!range) return "";
    return "destination " + address.to_string() + " is refused: " + range->name + " (" + range->block +
           "); list it in webhookd.allowed_networks to allow it";
}

std::string url_host(std::string_view url) {
    const std::size_t scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) return "";
    std::string_view authority = url.substr(scheme_end + 3);
    authority = authority.substr(0, authority.find_first_of("/?#"));
    if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
    if (authority.starts_with('[')) {
        const std::size_t close = authority.find(']');
        return close == std::string_view::npos ? "" : std::string(authority.substr(1, close - 1));
    }
    return std::string(authority.substr(0, authority.find(':')));
}

std::string refused_url(std::string_view url, const DestinationPolicy& policy) {
    const std::size_t scheme_end = url.find("://");
    const std::string scheme = to_lower(url.substr(0, scheme_end == std::string_view::npos ? 0 : scheme_end));
    if (scheme == "http" && !policy.allow_http) {
        return "plain http is refused (events would cross the network unencrypted): use https, or set "
               "webhookd.allow_http = yes";
    }
    if (scheme != "https" && scheme != "http") return "not an http(s) URL";
    const auto literal = literal_address(url_host(url));
    return literal ? refused_address(*literal, policy) : "";
}

}  // namespace tenantmail::webhookd
