// network.h — IPv4/IPv6 addresses and CIDR blocks, for identifying a tenant by
// the client address Postfix reports.
// IPv4-mapped IPv6 (::ffff:192.0.2.1) is treated as the IPv4 address it
// carries, in both addresses and blocks; otherwise the families never match
// each other (as in Postfix cidr tables, ::/0 does not match IPv4 clients).
// Blocks with host bits set are refused like Postfix does, with the fix in the message.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace tenantmail {

class IpAddress {
public:
    // Plain textual address ("192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1"),
    // no brackets, no zone, no prefix. nullopt when it is not one.
    static std::optional<IpAddress> parse(std::string_view text);

    bool is_v4() const { return v4_; }
    // 4 bytes for IPv4 (at the front), 16 for IPv6; network byte order.
    const std::array<std::uint8_t, 16>& bytes() const { return bytes_; }
    int max_prefix() const { return v4_ ? 32 : 128; }
    std::string to_string() const;
    bool operator==(const IpAddress&) const = default;

private:
    friend class Network;  // builds masked copies for error messages
    std::array<std::uint8_t, 16> bytes_{};
    bool v4_ = false;
};

class Network {
public:
    // "192.0.2.0/28", "2001:db8::/32", or a plain address (a /32 or /128).
    static Result<Network> parse(std::string_view text);

    bool contains(const IpAddress& address) const;
    // True when some address is in both blocks.
    bool overlaps(const Network& other) const;

    const IpAddress& address() const { return address_; }
    int prefix() const { return prefix_; }
    // Canonical text, "192.0.2.0/28" (mapped blocks come out as IPv4).
    std::string to_string() const;
    bool operator==(const Network&) const = default;

private:
    Network(IpAddress address, int prefix) : address_(address), prefix_(prefix) {}
    IpAddress address_;
    int prefix_ = 0;
};

}  // namespace tenantmail
