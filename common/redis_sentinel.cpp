// redis_sentinel.cpp — see redis_sentinel.h.
#include "common/redis_sentinel.h"

#include <charconv>

#include "common/redis.h"

namespace tenantmail {
namespace {

Result<RedisEndpoint> parse_endpoint(std::string_view text) {
    RedisEndpoint endpoint;
    std::string_view port;
    if (text.starts_with('[')) {
        const std::size_t close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            return make_error("\"" + std::string(text) + "\" is not [ADDRESS]:PORT");
        }
        endpoint.host = std::string(text.substr(1, close - 1));
        port = text.substr(close + 2);
    } else {
        const std::size_t colon = text.rfind(':');
        if (colon == std::string_view::npos || text.find(':') != colon) {
            return make_error("\"" + std::string(text) + "\" is not HOST:PORT (IPv6 addresses go in brackets)");
        }
        endpoint.host = std::string(text.substr(0, colon));
        port = text.substr(colon + 1);
    }
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (endpoint.host.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 ||
        value > 65535) {
        return make_error("\"" + std::string(text) + "\" has no valid host and port 1-65535");
    }
    endpoint.port = static_cast<std::uint16_t>(value);
    return endpoint;
}

}  // namespace

std::string describe_endpoint(const RedisEndpoint& endpoint) {
    const bool v6 = endpoint.host.find(':') != std::string::npos;
    return (v6 ? "[" + endpoint.host + "]" : endpoint.host) + ":" + std::to_string(endpoint.port);
}

Result<std::vector<RedisEndpoint>> parse_redis_endpoints(std::string_view text) {
    std::vector<RedisEndpoint> endpoints;
    std::size_t at = 0;
    while (at < text.size()) {
        const std::size_t end = text.find_first_of(" ,\t", at);
        const std::string_view item = text.substr(at, end == std::string_view::npos ? text.size() - at : end - at);
        if (!item.empty()) {
            auto endpoint = parse_endpoint(item);
            if (!endpoint) return Error{endpoint.error()};
            endpoints.push_back(std::move(*endpoint));
        }
        if (end == std::string_view::npos) break;
        at = end + 1;
    }
    if (endpoints.empty()) return make_error("no HOST:PORT given");
    return endpoints;
}

Result<RedisEndpoint> parse_master_address_reply(const RespValue& reply) {
    if (reply.type == RespValue::Type::nil) return make_error("knows no master of that name");
    if (reply.type == RespValue::Type::error) return make_error(reply.text);
    if (reply.type != RespValue::Type::array || reply.elements.size() != 2 ||
        reply.elements[0].type != RespValue::Type::string || reply.elements[1].type != RespValue::Type::string) {
        return make_error("answered something other than [host, port]");
    }
    const std::string& host = reply.elements[0].text;
    const std::string& port = reply.elements[1].text;
    // The host as the sentinel reports it: IPv6 addresses without brackets.
    auto endpoint = parse_endpoint(host.find(':') != std::string::npos ? "[" + host + "]:" + port : host + ":" + port);
    if (!endpoint) return make_error("answered an unusable address: " + endpoint.error());
    return endpoint;
}

bool is_master_role(const RespValue& reply) {
    return reply.type == RespValue::Type::array && !reply.elements.empty() &&
           reply.elements[0].type == RespValue::Type::string && reply.elements[0].text == "master";
}

bool is_readonly_error(std::string_view error) { return error.starts_with("READONLY"); }

Result<RedisEndpoint> locate_master(const RedisSettings& settings, const std::string& sentinel_password) {
    std::string failures;
    for (const RedisEndpoint& sentinel : settings.sentinels) {
        RedisSettings one;
        one.host = sentinel.host;
        one.port = sentinel.port;
        one.timeout = settings.timeout;
        auto answer = [&]() -> Result<RedisEndpoint> {
            auto client = RedisClient::connect(one, sentinel_password);
            if (!client) return Error{client.error()};
            auto reply = client->call({"SENTINEL", "get-master-addr-by-name", settings.master_name});
            if (!reply) return Error{reply.error()};
            return parse_master_address_reply(*reply);
        }();
        if (answer) return answer;
        if (!failures.empty()) failures += "; ";
        failures += "sentinel " + describe_endpoint(sentinel) + ": " + answer.error();
    }
    return make_error("no sentinel named the master \"" + settings.master_name + "\" (" + failures + ")");
}

Result<std::string> read_sentinel_password(const RedisSettings& settings) {
    RedisSettings file_only;
    file_only.password_file = settings.sentinel_password_file;
    return read_redis_password(file_only);
}

}  // namespace tenantmail
