// transport_route.h — a tenants.conf CLASS_route value: the Postfix
// "transport:nexthop" that policyd hands to Postfix with the policy
// protocol's FILTER action, so a tenant's bulk and transactional mail leave
// through their own master.cf transports (IP pools, a cloud relay).
// Pure parsing; the answer goes verbatim into a policy reply line, so only
// characters that master.cf service names and nexthop syntax use are
// accepted (no white space, no control octets, nothing to end a line).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.h"

namespace tenantmail {

inline constexpr std::size_t kMaxRouteLength = 300;

// "smtp-pool-a:" (nexthop empty: Postfix 2.7 and later use the recipient
// domain), "relay:[smtp.relay.example]:587", "lmtp:unix:/run/lmtp". The
// transport is 1-64 of [A-Za-z0-9._-] starting with a letter or digit; the
// nexthop is printable ASCII without white space, ',' or ';'.
// Returns the value unchanged.
Result<std::string> parse_transport_route(std::string_view value);

}  // namespace tenantmail
