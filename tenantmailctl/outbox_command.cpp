// outbox_command.cpp — `tenantmailctl outbox [--tenant T] [--json]
// [--postfix-config DIR | --postqueue CMD]`: what Postfix still holds
// (`postqueue -j`), each queue id joined with its message record for the
// tenant and subject. Mail without a record (not a tenant's, or expired)
// is listed only when no --tenant is given. Two pipelined Redis round trips
// whatever the queue's length.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "common/message_store.h"
#include "tenantmailctl/cli_options.h"
#include "tenantmailctl/commands.h"
#include "tenantmailctl/ctl_config.h"
#include "tenantmailctl/ctl_redis.h"
#include "tenantmailctl/outbox_view.h"

namespace tenantmail::ctl {

namespace po = boost::program_options;

namespace {

std::string string_reply(const RedisReply& reply) {
    return reply->type == REDIS_REPLY_STRING ? std::string(reply->str, reply->len) : std::string();
}

// Tenant, then subject, of every queued message that has a record.
Result<std::vector<OutboxEntry>> join_records(RedisClient& client, std::vector<QueueEntry> queued) {
    std::vector<std::vector<std::string>> lookups;
    for (const QueueEntry& entry : queued) lookups.push_back({"GET", queue_id_key(entry.queue_id)});
    auto tenants = client.pipeline(lookups);
    if (!tenants) return Error{tenants.error()};
    std::vector<OutboxEntry> entries;
    std::vector<std::vector<std::string>> subjects;
    std::vector<std::size_t> with_record;
    for (std::size_t i = 0; i < queued.size(); ++i) {
        OutboxEntry entry;
        entry.tenant = string_reply((*tenants)[i]);
        entry.queued = std::move(queued[i]);
        if (!entry.tenant.empty()) {
            subjects.push_back({"HGET", message_key(entry.tenant, entry.queued.queue_id), "subject"});
            with_record.push_back(entries.size());
        }
        entries.push_back(std::move(entry));
    }
    auto replies = client.pipeline(subjects);
    if (!replies) return Error{replies.error()};
    for (std::size_t i = 0; i < with_record.size(); ++i) entries[with_record[i]].subject = string_reply((*replies)[i]);
    return entries;
}

}  // namespace

int run_outbox(const Args& args) {
    po::options_description desc("tenantmailctl outbox: mail Postfix still holds, with each message's tenant");
    desc.add_options()
        ("help,h", "show this help")
        ("tenant", po::value<std::string>()->value_name("T"), "only this tenant's messages")
        ("postfix-config", po::value<std::string>()->value_name("DIR"),
         "the Postfix instance whose queue to show (postqueue -c DIR -j)")
        ("postqueue", po::value<std::string>()->value_name("CMD"),
         "command printing the queue as postqueue -j does (default: postqueue -j)")
        ("json", po::bool_switch(), "print JSON");
    add_ctl_config_options(desc);
    po::variables_map vm;
    if (const int status = parse_command_options(args, desc, vm); status >= 0) return status;

    const auto fail = [](const std::string& message) {
        std::fprintf(stderr, "tenantmailctl outbox: %s\n", message.c_str());
        return 1;
    };
    std::vector<std::string> command = vm.count("postqueue") ? split_command(vm["postqueue"].as<std::string>())
                                                             : postqueue_command(vm.count("postfix-config")
                                                                                     ? vm["postfix-config"].as<std::string>()
                                                                                     : std::string());
    auto output = run_command(command);
    if (!output) return fail(output.error());
    auto queued = parse_postqueue_json(*output);
    if (!queued) return fail(queued.error());
    auto client = connect_ctl_redis(vm);
    if (!client) return fail(client.error());
    auto joined = join_records(*client, std::move(queued).value());
    if (!joined) return fail(joined.error());
    const std::vector<OutboxEntry> entries =
        filter_outbox(std::move(joined).value(), vm.count("tenant") ? vm["tenant"].as<std::string>() : std::string());

    if (vm["json"].as<bool>()) {
        std::cout << outbox_json(entries).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
        return 0;
    }
    std::cout << outbox_table(entries);
    return 0;
}

}  // namespace tenantmail::ctl
