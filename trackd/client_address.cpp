// client_address.cpp — see client_address.h.
#include "trackd/client_address.h"

#include <optional>

#include "common/text.h"

namespace tenantmail::trackd {
namespace {

bool trusted(const IpAddress& address, const std::vector<Network>& proxies) {
    for (const Network& proxy : proxies) {
        if (proxy.contains(address)) return true;
    }
    return false;
}

// An X-Forwarded-For entry: an address, maybe with a port ("192.0.2.1:4711",
// "[2001:db8::1]:4711") as some proxies write it.
std::optional<IpAddress> parse_entry(std::string_view entry) {
    entry = trim(entry);
    if (!entry.empty() && entry.front() == '[') {
        const auto close = entry.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        return IpAddress::parse(entry.substr(1, close - 1));
    }
    if (const auto colon = entry.find(':'); colon != std::string_view::npos && entry.find(':', colon + 1) ==
                                                                                  std::string_view::npos) {
        entry = entry.substr(0, colon);  // one colon: IPv4 with a port
    }
    return IpAddress::parse(entry);
}

}  // namespace

IpAddress client_address(const IpAddress& peer, std::string_view forwarded_for,
                         const std::vector<Network>& trusted_proxies) {
    IpAddress current = peer;
    std::string_view rest = forwarded_for;
    while (trusted(current, trusted_proxies) && !trim(rest).empty()) {
        const auto comma = rest.rfind(',');
        const std::string_view entry = comma == std::string_view::npos ? rest : rest.substr(comma + 1);
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
        const std::optional<IpAddress> hop = parse_entry(entry);
        if (!hop) break;
        current = *hop;
    }
    return current;
}

}  // namespace tenantmail::trackd
