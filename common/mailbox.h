// mailbox.h — RFC 5322 section 3.4 address parsing, for the From check
// (exactly one mailbox, a real domain name) and later for To/Cc lists.
// Pure: no I/O, linear time and bounded memory on any input up to 64 KB.
// Does not decode RFC 2047 encoded words, resolve domains or accept
// domain literals, source routes or U-label domains: those are errors
// with a reason phrased for the log.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace tenantmail {

struct Mailbox {
    // Decoded phrase (quotes and quoted-pairs removed, folding and comments
    // dropped, words joined by one space); RFC 2047 encoded words as-is.
    std::string display_name;
    // Decoded: `"jane doe"@x` gives `jane doe`. UTF-8 allowed (RFC 6532).
    std::string local_part;
    // Lowercased, no trailing dot, always valid hostname syntax (A-labels).
    std::string domain;

    // local@domain, the local part quoted again where it needs it.
    std::string address() const;
};

// Largest header field value accepted; anything longer is refused unparsed.
inline constexpr std::size_t max_address_field_bytes = 64 * 1024;

// The value after "From:" (may contain folding CRLF WSP): exactly one
// mailbox; groups and several addresses are refused.
Result<Mailbox> parse_single_mailbox(std::string_view field_value);
// An address list (To, Cc): group members are flattened into the list,
// empty groups contribute nothing; at least one mailbox is required.
Result<std::vector<Mailbox>> parse_address_list(std::string_view field_value);
// Hostname syntax: labels of 1..63 [A-Za-z0-9-] not starting or ending
// with '-', at most 253 octets in all, no trailing dot.
bool is_valid_domain(std::string_view domain);

}  // namespace tenantmail
