// messages_command.cpp — `tenantmailctl messages [--tenant T] [--status
// sent|failed|deferred] [--since DURATION|DATE] [--json]`: the sent and
// failed views, from the message records the milter writes and the outcomes
// recorded against them (common/message_store.h). Without --tenant, every
// tenant in the tenants file. Read only; records are loaded in pipelined
// chunks, so a week of mail is a few hundred round trips, not a million.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "common/message_store.h"
#include "tenantmailctl/cli_options.h"
#include "tenantmailctl/commands.h"
#include "tenantmailctl/ctl_config.h"
#include "tenantmailctl/ctl_redis.h"
#include "tenantmailctl/message_view.h"

namespace tenantmail::ctl {

namespace po = boost::program_options;

namespace {

constexpr std::size_t kChunk = 500;  // messages per pipelined round trip

int fail(const std::string& message) {
    std::fprintf(stderr, "tenantmailctl messages: %s\n", message.c_str());
    return 1;
}

Result<std::vector<std::string>> tenants_to_show(const po::variables_map& vm) {
    if (vm.count("tenant")) {
        auto tenant = find_ctl_tenant(vm, vm["tenant"].as<std::string>());
        if (!tenant) return Error{tenant.error()};
        return std::vector<std::string>{tenant->id};
    }
    auto registry = load_ctl_registry(vm);
    if (!registry) return Error{registry.error()};
    std::vector<std::string> ids;
    for (const Tenant& tenant : registry->tenants()) ids.push_back(tenant.id);
    return ids;
}

Result<std::vector<StoredMessage>> load_tenant(RedisClient& client, const std::string& tenant, std::int64_t since,
                                               std::optional<MessageStatus> filter) {
    auto ids = list_message_ids(client, tenant, since);
    if (!ids) return Error{ids.error()};
    std::vector<StoredMessage> shown;
    for (std::size_t start = 0; start < ids->size(); start += kChunk) {
        const std::vector<std::string> chunk(ids->begin() + static_cast<std::ptrdiff_t>(start),
                                             ids->begin() + static_cast<std::ptrdiff_t>(std::min(start + kChunk, ids->size())));
        auto messages = load_messages(client, tenant, chunk);
        if (!messages) return Error{messages.error()};
        for (StoredMessage& message : *messages) {
            if (!filter || matches_status(message.recipients, *filter)) shown.push_back(std::move(message));
        }
    }
    return shown;
}

}  // namespace

int run_messages(const Args& args) {
    po::options_description desc(
        "tenantmailctl messages: messages sent for tenants and what became of them (oldest first)");
    desc.add_options()
        ("help,h", "show this help")
        ("tenant", po::value<std::string>()->value_name("T"), "only this tenant (default: every tenant)")
        ("status", po::value<std::string>()->value_name("S"),
         "sent (all recipients delivered), failed (any bounced, complained or blocked) or deferred (any deferred)")
        ("since", po::value<std::string>()->value_name("WHEN"),
         "only messages since then: a duration back from now (90m, 2d) or a UTC date (2024-01-31, 2024-01-31T12:00)")
        ("json", po::bool_switch(), "print JSON");
    add_ctl_config_options(desc);
    po::variables_map vm;
    if (const int status = parse_command_options(args, desc, vm); status >= 0) return status;

    std::optional<MessageStatus> filter;
    if (vm.count("status")) {
        filter = parse_status_filter(vm["status"].as<std::string>());
        if (!filter) {
            std::fprintf(stderr, "tenantmailctl messages: --status must be sent, failed or deferred\n");
            return 2;
        }
    }
    std::int64_t since = 0;
    if (vm.count("since")) {
        auto parsed = parse_since(vm["since"].as<std::string>(), static_cast<std::int64_t>(std::time(nullptr)));
        if (!parsed) {
            std::fprintf(stderr, "tenantmailctl messages: %s\n", parsed.error().c_str());
            return 2;
        }
        since = *parsed;
    }
    auto tenants = tenants_to_show(vm);
    if (!tenants) return fail(tenants.error());
    auto client = connect_ctl_redis(vm);
    if (!client) return fail(client.error());

    std::vector<StoredMessage> messages;
    for (const std::string& tenant : *tenants) {
        auto loaded = load_tenant(*client, tenant, since, filter);
        if (!loaded) return fail(loaded.error());
        std::move(loaded->begin(), loaded->end(), std::back_inserter(messages));
    }
    std::stable_sort(messages.begin(), messages.end(), [](const StoredMessage& a, const StoredMessage& b) {
        return a.record.time < b.record.time;
    });

    if (vm["json"].as<bool>()) {
        nlohmann::json list = nlohmann::json::array();
        for (const StoredMessage& message : messages) list.push_back(message_json(message, false));
        const nlohmann::json out = {{"messages", std::move(list)}};
        std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
        return 0;
    }
    std::cout << messages_table(messages);
    return 0;
}

}  // namespace tenantmail::ctl
