// client_address.h — who made a request, when trackd sits behind the
// administrator's TLS proxy: the TCP peer, unless the peer is a trusted
// proxy, in which case X-Forwarded-For is read from its right end (the entry
// the trusted proxy itself appended) leftwards, past every trusted proxy, to
// the first address that is not one. Entries further left were written by
// the client and prove nothing, so they are never used while an untrusted
// hop stands to their right. An entry that is not an address stops the walk
// at the last trusted hop (that is then the best we know). Several
// X-Forwarded-For fields count as one list, joined with commas in order.
// Pure: no sockets; the caller passes the peer address.
#pragma once

#include <string_view>
#include <vector>

#include "common/network.h"

namespace tenantmail::trackd {

IpAddress client_address(const IpAddress& peer, std::string_view forwarded_for,
                         const std::vector<Network>& trusted_proxies);

}  // namespace tenantmail::trackd
