// unsubscribe_address.h — the mailto: half of RFC 8058 one-click
// unsubscribe: unsubscribe+TOKEN@<bounce domain>, TOKEN a tracking token of
// kind unsubscribe (tracking_token.h). The milter writes it into
// List-Unsubscribe; tenantmail-bounce receives mail to it. Only the address
// form lives here, so both agree on it; what the token says is decided by
// the receiver.
// TOKEN is base64url and case-sensitive: an MTA that folds the local part's
// case breaks it (Postfix keeps it as received). It is longer than RFC
// 5321's 64-octet local-part limit for any real recipient (about 110
// characters for a 20-octet address); Postfix and the large mailbox
// providers accept such local parts, a strict relay may not.
// Pure; parsing bounds the input before looking at it and refuses anything
// but "unsubscribe+" (any case), base64url characters, '@' and a domain.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.h"

namespace tenantmail {

inline constexpr std::string_view kUnsubscribeLocalPrefix = "unsubscribe+";
// A token for 255-octet tenant, queue id and recipient fields is about
// 1,070 characters; nothing the milter makes is longer.
inline constexpr std::size_t kMaxUnsubscribeTokenLength = 1100;
inline constexpr std::size_t kMaxUnsubscribeDomainLength = 253;

struct UnsubscribeAddress {
    std::string token;   // as received: case matters
    std::string domain;  // lower case, no trailing dot
};

// "unsubscribe+TOKEN@DOMAIN" (domain lower-cased).
std::string make_unsubscribe_address(std::string_view token, std::string_view bounce_domain);

// Cheap test on the prefix alone (case-insensitive), to route a delivery.
bool is_unsubscribe_address(std::string_view address);

// Splits and checks an address; refuses overlong or malformed input.
Result<UnsubscribeAddress> parse_unsubscribe_address(std::string_view address);

}  // namespace tenantmail
