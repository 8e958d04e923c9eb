// suppression_command.cpp — `tenantmailctl suppression list|add|remove
// TENANT [ADDRESS] [--reason TEXT] [--json]`: the tenant's suppression list,
// the Redis hash tm:{TENANT}:suppressed that policyd checks at RCPT
// (suppressed recipients get REJECT 5.1.1). Addresses are stored lower-cased;
// values are JSON {"reason":"...","time":UNIX_SECONDS} (rate_limiter.h), the
// time taken from Redis's clock. Listing walks the hash with HSCAN, so a long
// list does not stall Redis.
#include <cstdio>
#include <ctime>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "common/rate_limiter.h"
#include "common/recipient.h"
#include "common/suppression.h"
#include "common/text.h"
#include "tenantmailctl/cli_options.h"
#include "tenantmailctl/commands.h"
#include "tenantmailctl/ctl_config.h"
#include "tenantmailctl/ctl_redis.h"

namespace tenantmail::ctl {

namespace po = boost::program_options;

namespace {

int fail(const std::string& message) {
    std::fprintf(stderr, "tenantmailctl suppression: %s\n", message.c_str());
    return 1;
}

// A plain addr-spec as Postfix passes it in "recipient": something@domain,
// printable, no spaces, at most 254 octets (RFC 5321's path limit).
std::string check_address(const std::string& address) {
    const std::size_t at = address.rfind('@');
    if (at == std::string::npos || at == 0 || at + 1 == address.size()) return "is not user@domain";
    if (address.size() > 254) return "is longer than 254 characters";
    for (const char c : address) {
        if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>') return "contains spaces, brackets or control characters";
    }
    return {};
}

std::string format_time(std::int64_t seconds) {
    if (seconds <= 0) return "-";
    const std::time_t time = static_cast<std::time_t>(seconds);
    std::tm utc{};
    ::gmtime_r(&time, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

int list(RedisClient& client, const std::string& tenant, bool json) {
    const std::string key = suppression_key(tenant);
    std::map<std::string, SuppressionEntry> entries;
    std::string cursor = "0";
    do {
        auto reply = client.command({"HSCAN", key, cursor, "COUNT", "1000"});
        if (!reply) return fail(reply.error());
        const redisReply* r = reply->get();
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[1]->type != REDIS_REPLY_ARRAY) {
            return fail("unexpected reply to HSCAN from Redis");
        }
        cursor.assign(r->element[0]->str, r->element[0]->len);
        const redisReply* items = r->element[1];
        for (std::size_t i = 0; i + 1 < items->elements; i += 2) {
            entries[std::string(items->element[i]->str, items->element[i]->len)] =
                decode_suppression(std::string_view(items->element[i + 1]->str, items->element[i + 1]->len));
        }
    } while (cursor != "0");

    if (json) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& [address, entry] : entries) {
            list.push_back({{"address", address}, {"reason", entry.reason}, {"time", entry.time}});
        }
        const nlohmann::json out = {{"tenant", tenant}, {"suppressions", list}};
        std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
        return 0;
    }
    for (const auto& [address, entry] : entries) {
        std::printf("%s\t%s\t%s\n", terminal_cell(address, 320).c_str(), format_time(entry.time).c_str(),
                    terminal_cell(entry.reason, 200).c_str());
    }
    if (entries.empty()) std::fprintf(stderr, "%s: no suppressed addresses\n", tenant.c_str());
    return 0;
}

int add(RedisClient& client, const std::string& tenant, const std::string& address, const std::string& reason,
        bool json) {
    auto now = redis_time_us(client);
    if (!now) return fail(now.error());
    const SuppressionEntry entry{reason, *now / 1'000'000};
    auto reply = client.command({"HSET", suppression_key(tenant), address, encode_suppression(entry)});
    if (!reply) return fail(reply.error());
    const bool added = (*reply)->integer == 1;
    if (json) {
        const nlohmann::json out = {{"tenant", tenant}, {"address", address}, {"added", added}, {"reason", reason},
                                    {"time", entry.time}};
        std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    } else {
        std::printf("%s: %s %s\n", tenant.c_str(), address.c_str(), added ? "suppressed" : "suppressed (reason updated)");
    }
    return 0;
}

int remove(RedisClient& client, const std::string& tenant, const std::string& address, bool json) {
    auto reply = client.command({"HDEL", suppression_key(tenant), address});
    if (!reply) return fail(reply.error());
    const bool removed = (*reply)->integer == 1;
    if (json) {
        const nlohmann::json out = {{"tenant", tenant}, {"address", address}, {"removed", removed}};
        std::cout << out.dump(2) << '\n';
    } else {
        std::printf("%s: %s %s\n", tenant.c_str(), address.c_str(),
                    removed ? "removed from the suppression list" : "was not on the suppression list");
    }
    return 0;
}

}  // namespace

int run_suppression(const Args& args) {
    po::options_description desc(
        "tenantmailctl suppression list|add|remove TENANT [ADDRESS]: the tenant's suppressed recipients");
    std::string action;
    std::string tenant_id;
    std::string address;
    std::string reason;
    desc.add_options()
        ("help,h", "show this help")
        ("action", po::value(&action)->required(), "list, add or remove")
        ("tenant", po::value(&tenant_id)->required(), "tenant id")
        ("address", po::value(&address), "recipient address (add, remove)")
        ("reason", po::value(&reason)->default_value("added by tenantmailctl"), "why (add); shown in the 5.1.1 reply")
        ("json", po::bool_switch(), "print JSON");
    add_ctl_config_options(desc);
    po::positional_options_description positional;
    positional.add("action", 1).add("tenant", 1).add("address", 1);
    po::variables_map vm;
    if (const int status = parse_command_options(args, desc, vm, &positional); status >= 0) return status;

    if (action != "list" && action != "add" && action != "remove") {
        std::fprintf(stderr, "tenantmailctl suppression: unknown action \"%s\" (list, add or remove)\n", action.c_str());
        return 2;
    }
    if (action != "list") {
        if (address.empty()) {
            std::fprintf(stderr, "tenantmailctl suppression %s: an ADDRESS is required\n", action.c_str());
            return 2;
        }
        if (const std::string problem = check_address(address); !problem.empty()) {
            std::fprintf(stderr, "tenantmailctl suppression %s: \"%s\" %s\n", action.c_str(), address.c_str(),
                         problem.c_str());
            return 2;
        }
        address = normalise_recipient(address);
    }
    auto tenant = find_ctl_tenant(vm, tenant_id);
    if (!tenant) return fail(tenant.error());
    auto client = connect_ctl_redis(vm);
    if (!client) return fail(client.error());
    const bool json = vm["json"].as<bool>();
    if (action == "list") return list(*client, tenant->id, json);
    if (action == "add") return add(*client, tenant->id, address, reason, json);
    return remove(*client, tenant->id, address, json);
}

}  // namespace tenantmail::ctl
