// network.cpp — address parsing via inet_pton/inet_ntop and prefix arithmetic
// on byte arrays (no host byte order games, same code for both families).
#include "common/network.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "common/text.h"

namespace tenantmail {
namespace {

// ::ffff:0:0/96 — RFC 4291 section 2.5.5.2.
constexpr std::array<std::uint8_t, 12> kMappedPrefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool is_v4_mapped(const std::uint8_t* v6) { return std::equal(kMappedPrefix.begin(), kMappedPrefix.end(), v6); }

// True when the first prefix bits of a and b are equal.
bool same_prefix(const std::array<std::uint8_t, 16>& a, const std::array<std::uint8_t, 16>& b, int prefix) {
    const auto full = static_cast<std::size_t>(prefix / 8);
    if (!std::equal(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(full), b.begin())) return false;
    const int rest = prefix % 8;
    if (rest == 0) return true;
    const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
    return (a[full] & mask) == (b[full] & mask);
}

std::array<std::uint8_t, 16> masked(std::array<std::uint8_t, 16> bytes, int prefix) {
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        const int bits_kept = std::clamp(prefix - static_cast<int>(i) * 8, 0, 8);
        bytes[i] = static_cast<std::uint8_t>(bytes[i] & (0xff << (8 - bits_kept)));
    }
    return bytes;
}

std::string in_quotes(std::string_view text) { return "\"" + std::string(text) + "\""; }

Result<int> parse_prefix(std::string_view text, int max) {
    if (text.empty() || text.size() > 3) return make_error("bad prefix length " + in_quotes(text));
    int value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return make_error("bad prefix length " + in_quotes(text));
        value = value * 10 + (c - '0');
    }
    if (value > max) return make_error("prefix length /" + std::string(text) + " exceeds " + std::to_string(max));
    return value;
}

}  // namespace

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    // inet_pton needs a NUL-terminated string; the longest valid IPv6 text
    // (with an embedded IPv4 part) is 45 characters.
    char buffer[INET6_ADDRSTRLEN + 1];
    if (text.empty() || text.size() >= sizeof buffer) return std::nullopt;
    std::memcpy(buffer, text.data(), text.size());
    buffer[text.size()] = '\0';

    IpAddress address;
    if (inet_pton(AF_INET, buffer, address.bytes_.data()) == 1) {
        address.v4_ = true;
        return address;
    }
    std::array<std::uint8_t, 16> v6{};
    if (inet_pton(AF_INET6, buffer, v6.data()) != 1) return std::nullopt;
    if (is_v4_mapped(v6.data())) {
        // Postfix sometimes reports IPv4 clients of a dual-stack socket this way.
        std::copy(v6.begin() + 12, v6.end(), address.bytes_.begin());
        address.v4_ = true;
    } else {
        address.bytes_ = v6;
    }
    return address;
}

std::string IpAddress::to_string() const {
    char buffer[INET6_ADDRSTRLEN];
    inet_ntop(v4_ ? AF_INET : AF_INET6, bytes_.data(), buffer, sizeof buffer);
    return buffer;
}

Result<Network> Network::parse(std::string_view text) {
    text = trim(text);
    const std::size_t slash = text.find('/');
    const std::string_view address_text = text.substr(0, slash);
    const auto parsed = IpAddress::parse(address_text);
    if (!parsed) return make_error("not an IP address: " + in_quotes(address_text));
    IpAddress address = *parsed;

    int prefix = address.max_prefix();
    if (slash != std::string_view::npos) {
        // The prefix is read against the family as written, so that
        // ::ffff:192.0.2.0/120 means 192.0.2.0/24.
        const bool written_as_v6 = address_text.find(':') != std::string_view::npos;
        auto parsed_prefix = parse_prefix(text.substr(slash + 1), written_as_v6 ? 128 : 32);
        if (!parsed_prefix) return make_error("in " + in_quotes(text) + ": " + parsed_prefix.error());
        prefix = *parsed_prefix;
        if (written_as_v6 && address.is_v4()) {
            if (prefix < 96) {
                return make_error(in_quotes(text) +
                                  " covers more than the IPv4-mapped range ::ffff:0:0/96;"
                                  " write the IPv6 and IPv4 blocks separately");
            }
            prefix -= 96;
        }
    }
    if (masked(address.bytes(), prefix) != address.bytes()) {
        IpAddress base = address;
        base.bytes_ = masked(address.bytes(), prefix);
        return make_error("non-null host address bits in " + in_quotes(text) + ", did you mean " +
                          in_quotes(Network(base, prefix).to_string()) + "?");
    }
    return Network(address, prefix);
}

bool Network::contains(const IpAddress& address) const {
    return address.is_v4() == address_.is_v4() && same_prefix(address.bytes(), address_.bytes(), prefix_);
}

bool Network::overlaps(const Network& other) const {
    if (address_.is_v4() != other.address_.is_v4()) return false;
    // Two CIDR blocks either nest or are disjoint: compare on the shorter prefix.
    return same_prefix(address_.bytes(), other.address_.bytes(), std::min(prefix_, other.prefix_));
}

std::string Network::to_string() const { return address_.to_string() + "/" + std::to_string(prefix_); }

}  // namespace tenantmail
