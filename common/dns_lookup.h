// dns_lookup.h — the DNS questions the onboarding checks ask, behind an
// interface so the checks stay pure: a DnsResolver answers one query (the
// real one wraps ldns in tenantmailctl/dns_resolver.h; tests use a table),
// and lookup() follows CNAMEs on top of it, as a receiver's resolver would.
// A resolver that does not answer at all is an Error (the whole check stops:
// nothing it says about records could be trusted); NXDOMAIN, no data and
// SERVFAIL are answers, reported per record.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace tenantmail {

enum class DnsType { a, aaaa, cname, mx, txt };
std::string_view to_string(DnsType type);

enum class DnsRcode { noerror, nxdomain, servfail, refused, other };
std::string_view to_string(DnsRcode rcode);

struct DnsRr {
    std::string owner;  // lower case, no trailing dot
    DnsType type = DnsType::txt;
    // TXT: its character-strings concatenated (RFC 7208 3.3, RFC 6376 3.6.2.2);
    // CNAME and MX: the target name, lower case, no trailing dot;
    // A and AAAA: the address as text.
    std::string data;
    std::uint16_t preference = 0;  // MX only
};

struct DnsResponse {
    DnsRcode rcode = DnsRcode::noerror;
    std::vector<DnsRr> answer;  // the answer section, CNAMEs included
};

class DnsResolver {
public:
    virtual ~DnsResolver() = default;
    // One query, name without trailing dot. Error: no response (timeout,
    // network error), phrased for the admin.
    virtual Result<DnsResponse> query(std::string_view name, DnsType type) = 0;
};

// Lower case, trailing dot removed: the form names are compared in.
std::string normalise_dns_name(std::string_view name);

struct DnsLookup {
    enum class Status { found, nxdomain, nodata, failed };
    Status status = Status::nodata;
    std::vector<std::string> cnames;  // names the chain went through after the first, in order
    std::string final_name;           // where the records (or their absence) are
    std::vector<DnsRr> records;       // of the type asked for, at final_name
    std::string failure;              // for failed: "SERVFAIL", "CNAME loop at x", ...
};

// Longest CNAME chain followed; resolvers give up at about this length too.
inline constexpr std::size_t kMaxCnameChain = 8;

// Looks name up, following CNAMEs whether the resolver included the chain
// in one answer or each link needs a query of its own.
Result<DnsLookup> lookup(DnsResolver& resolver, std::string_view name, DnsType type);

// "not found (NXDOMAIN)", "no TXT record", "lookup failed: SERVFAIL", "" when found.
std::string describe_absence(const DnsLookup& lookup, DnsType type);

}  // namespace tenantmail
