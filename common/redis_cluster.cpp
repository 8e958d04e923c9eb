// redis_cluster.cpp — see redis_cluster.h.
#include "common/redis_cluster.h"

#include <boost/crc.hpp>
#include <charconv>

namespace tenantmail {
namespace {

bool same_word(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const char x = a[i] >= 'a' && a[i] <= 'z' ? static_cast<char>(a[i] - 32) : a[i];
        if (x != b[i]) return false;
    }
    return true;
}

std::optional<std::int64_t> to_integer(std::string_view text) {
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

// The hash tag of a SCAN MATCH pattern, when it names one literally: a tag
// with glob characters or escapes could match keys of many slots.
std::optional<std::uint16_t> pattern_slot(std::string_view pattern) {
    const std::size_t open = pattern.find('{');
    if (open == std::string_view::npos) return std::nullopt;
    const std::size_t close = pattern.find('}', open + 1);
    if (close == std::string_view::npos || close == open + 1) return std::nullopt;
    const std::string_view tag = pattern.substr(open + 1, close - open - 1);
    if (tag.find_first_of("*?[]\\") != std::string_view::npos) return std::nullopt;
    if (pattern.substr(0, open).find_first_of("*?[]\\") != std::string_view::npos) return std::nullopt;
    return key_hash_slot(pattern.substr(0, close + 1));
}

}  // namespace

std::uint16_t key_hash_slot(std::string_view key) {
    const std::size_t open = key.find('{');
    if (open != std::string_view::npos) {
        const std::size_t close = key.find('}', open + 1);
        if (close != std::string_view::npos && close != open + 1) key = key.substr(open + 1, close - open - 1);
    }
    // Poly 0x1021, initial 0, not reflected: the cluster specification's
    // CRC16 (Boost's own "xmodem" typedef is a reflected variant).
    boost::crc_optimal<16, 0x1021, 0, 0, false, false> crc;
    crc.process_bytes(key.data(), key.size());
    return static_cast<std::uint16_t>(crc.checksum() % kClusterSlots);
}

std::optional<std::uint16_t> command_slot(int argc, const char* const* argv, const std::size_t* lengths) {
    const auto arg = [&](int i) { return std::string_view(argv[i], lengths[i]); };
    if (argc < 2) return std::nullopt;
    const std::string_view name = arg(0);
    if (same_word(name, "EVAL") || same_word(name, "EVALSHA")) {
        if (argc < 4) return std::nullopt;
        const auto keys = to_integer(arg(2));
        if (!keys || *keys <= 0) return std::nullopt;
        return key_hash_slot(arg(3));
    }
    if (same_word(name, "XREADGROUP") || same_word(name, "XREAD")) {
        for (int i = 1; i + 1 < argc; ++i) {
            if (same_word(arg(i), "STREAMS")) return key_hash_slot(arg(i + 1));
        }
        return std::nullopt;
    }
    if (same_word(name, "SCAN")) {
        for (int i = 2; i + 1 < argc; ++i) {
            if (same_word(arg(i), "MATCH")) return pattern_slot(arg(i + 1));
        }
        return std::nullopt;
    }
    if (same_word(name, "XGROUP") || same_word(name, "XINFO") || same_word(name, "OBJECT") ||
        same_word(name, "MEMORY")) {
        if (argc < 3) return std::nullopt;
        return key_hash_slot(arg(2));
    }
    for (const std::string_view keyless : {"PING", "ROLE", "INFO", "SCRIPT", "CLIENT", "CLUSTER", "AUTH", "MULTI",
                                           "EXEC", "DISCARD", "TIME", "ASKING", "READONLY", "COMMAND", "CONFIG",
                                           "DBSIZE", "FLUSHALL", "FLUSHDB", "HELLO", "SELECT", "ECHO", "WAIT"}) {
        if (same_word(name, keyless)) return std::nullopt;
    }
    return key_hash_slot(arg(1));
}

std::optional<std::uint16_t> command_slot(const std::vector<std::string>& args) {
    std::vector<const char*> pointers;
    std::vector<std::size_t> lengths;
    pointers.reserve(args.size());
    lengths.reserve(args.size());
    for (const std::string& arg : args) {
        pointers.push_back(arg.data());
        lengths.push_back(arg.size());
    }
    return command_slot(static_cast<int>(args.size()), pointers.data(), lengths.data());
}

std::uint16_t SlotMap::index_of(const RedisEndpoint& master) {
    for (std::size_t i = 0; i < masters.size(); ++i) {
        if (masters[i] == master) return static_cast<std::uint16_t>(i);
    }
    masters.push_back(master);
    return static_cast<std::uint16_t>(masters.size() - 1);
}

bool SlotMap::covers_all() const {
    for (const std::uint16_t index : owner) {
        if (index == kNoOwner) return false;
    }
    return true;
}

Result<SlotMap> parse_cluster_slots(const RespValue& reply, std::string_view asked_host) {
    if (reply.type == RespValue::Type::error) return make_error("CLUSTER SLOTS: " + reply.text);
    if (!reply.is_array()) return make_error("CLUSTER SLOTS: not a list of slot ranges");
    SlotMap map;
    for (const RespValue& range : reply.elements) {
        if (!range.is_array() || range.elements.size() < 3 || range.elements[0].type != RespValue::Type::integer ||
            range.elements[1].type != RespValue::Type::integer || !range.elements[2].is_array() ||
            range.elements[2].elements.size() < 2) {
            return make_error("CLUSTER SLOTS: a range is not [start, end, [host, port, ...], ...]");
        }
        const std::int64_t first = range.elements[0].integer;
        const std::int64_t last = range.elements[1].integer;
        if (first < 0 || last < first || last >= static_cast<std::int64_t>(kClusterSlots)) {
            return make_error("CLUSTER SLOTS: a range outside 0-16383");
        }
        const RespValue& node = range.elements[2];
        if (node.elements[0].type != RespValue::Type::string || node.elements[1].type != RespValue::Type::integer ||
            node.elements[1].integer <= 0 || node.elements[1].integer > 65535) {
            return make_error("CLUSTER SLOTS: a master is not [host, port, ...]");
        }
        RedisEndpoint master{node.elements[0].text, static_cast<std::uint16_t>(node.elements[1].integer)};
        if (master.host.empty()) master.host = std::string(asked_host);
        if (master.host == "?") return make_error("CLUSTER SLOTS: a master's address is unknown to the node asked");
        const std::uint16_t index = map.index_of(master);
        for (std::int64_t slot = first; slot <= last; ++slot) map.owner[static_cast<std::size_t>(slot)] = index;
    }
    return map;
}

std::optional<ClusterRedirect> parse_cluster_redirect(std::string_view error) {
    ClusterRedirect redirect;
    if (error.starts_with("MOVED ")) {
        redirect.kind = ClusterRedirect::Kind::moved;
        error.remove_prefix(6);
    } else if (error.starts_with("ASK ")) {
        redirect.kind = ClusterRedirect::Kind::ask;
        error.remove_prefix(4);
    } else {
        return std::nullopt;
    }
    const std::size_t space = error.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    const auto slot = to_integer(error.substr(0, space));
    const std::string_view address = error.substr(space + 1);
    // The host may be an IPv6 address, unbracketed: the port follows the last colon.
    const std::size_t colon = address.rfind(':');
    if (!slot || *slot < 0 || *slot >= static_cast<std::int64_t>(kClusterSlots) || colon == std::string_view::npos ||
        colon == 0) {
        return std::nullopt;
    }
    const auto port = to_integer(address.substr(colon + 1));
    if (!port || *port <= 0 || *port > 65535) return std::nullopt;
    redirect.slot = static_cast<std::uint16_t>(*slot);
    std::string_view host = address.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    redirect.node = RedisEndpoint{std::string(host), static_cast<std::uint16_t>(*port)};
    return redirect;
}

bool is_cluster_retry_error(std::string_view error) {
    return error.starts_with("TRYAGAIN") || error.starts_with("CLUSTERDOWN");
}

}  // namespace tenantmail
