// transport_route.cpp — checking a CLASS_route value (see transport_route.h).
#include "common/transport_route.h"

#include <algorithm>

namespace tenantmail {

namespace {

constexpr std::size_t kMaxTransportLength = 64;

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

bool valid_transport(std::string_view name) {
    if (name.empty() || name.size() > kMaxTransportLength || !is_alnum(name.front())) return false;
    return std::all_of(name.begin(), name.end(), [](char c) { return is_alnum(c) || c == '.' || c == '_' || c == '-'; });
}

// Printable ASCII; not ',' or ';' (list separators in Postfix parameters).
bool valid_nexthop_octet(char c) { return c > ' ' && c < 0x7f && c != ',' && c != ';'; }

}  // namespace

Result<std::string> parse_transport_route(std::string_view value) {
    if (value.size() > kMaxRouteLength) {
        return make_error("longer than " + std::to_string(kMaxRouteLength) + " characters");
    }
    const std::size_t colon = value.find(':');
    if (colon == std::string_view::npos) {
        return make_error("not TRANSPORT:NEXTHOP (e.g. smtp-pool-a: or relay:[smtp.relay.example]:587)");
    }
    if (!valid_transport(value.substr(0, colon))) {
        return make_error("the transport must be a master.cf service name: letters, digits, '.', '_', '-'");
    }
    const std::string_view nexthop = value.substr(colon + 1);
    if (!std::all_of(nexthop.begin(), nexthop.end(), valid_nexthop_octet)) {
        return make_error("the nexthop may hold no white space, control characters, ',' or ';'");
    }
    return std::string(value);
}

}  // namespace tenantmail
