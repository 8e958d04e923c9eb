// spf_check.h — what an onboarding check needs to know about a domain's SPF:
// exactly one record, syntax a receiver accepts, the platform's include
// reached (through include: and redirect= at any depth), and the whole tree
// within RFC 7208's limit of 10 DNS-querying terms (4.6.4).
// Static analysis, not evaluation for one IP: every branch is walked and
// counted, as a receiver evaluating the worst-case address would.
// Pure over a DnsResolver; Error only when the resolver stops answering.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/dns_lookup.h"
#include "common/result.h"

namespace tenantmail {

inline constexpr std::size_t kSpfLookupLimit = 10;

struct SpfCheck {
    std::vector<std::string> records;   // SPF records at the domain itself
    std::vector<std::string> cnames;    // CNAMEs the domain's TXT lookup went through
    std::size_t dns_lookups = 0;        // counted terms in the whole tree
    bool includes_required = false;     // required_include reached
    std::vector<std::string> problems;  // each one fails the check, in the order found
    std::vector<std::string> notes;     // worth showing, not failures (macros not followed)

    bool ok() const { return problems.empty(); }
};

Result<SpfCheck> check_spf(DnsResolver& resolver, std::string_view domain, std::string_view required_include);

}  // namespace tenantmail
