// message_command.cpp — `tenantmailctl message QUEUE_ID [--tenant T]
// [--json]`: one message's record and every recipient's history (queued,
// deferrals, delivery or bounce, complaint), as recorded in Redis. The
// tenant is found from the queue id (tm:qid:{QID}) unless given. Then the
// message's opens, clicks and unsubscribes from the tenant's event stream.
#include <cstdio>
#include <iostream>
#include <string>

#include "common/event_store.h"
#include "common/message_outcome.h"
#include "common/message_store.h"
#include "tenantmailctl/cli_options.h"
#include "tenantmailctl/commands.h"
#include "tenantmailctl/ctl_config.h"
#include "tenantmailctl/ctl_redis.h"
#include "tenantmailctl/message_view.h"

namespace tenantmail::ctl {

namespace po = boost::program_options;

int run_message(const Args& args) {
    po::options_description desc("tenantmailctl message QUEUE_ID: one message and each recipient's history");
    std::string queue_id;
    desc.add_options()
        ("help,h", "show this help")
        ("queue-id", po::value(&queue_id)->required(), "Postfix queue id")
        ("tenant", po::value<std::string>()->value_name("T"), "the message's tenant (default: found from the queue id)")
        ("json", po::bool_switch(), "print JSON");
    add_ctl_config_options(desc);
    po::positional_options_description positional;
    positional.add("queue-id", 1);
    po::variables_map vm;
    if (const int status = parse_command_options(args, desc, vm, &positional); status >= 0) return status;

    const auto fail = [](const std::string& message) {
        std::fprintf(stderr, "tenantmailctl message: %s\n", message.c_str());
        return 1;
    };
    auto client = connect_ctl_redis(vm);
    if (!client) return fail(client.error());
    std::string tenant;
    if (vm.count("tenant")) {
        tenant = vm["tenant"].as<std::string>();
    } else {
        auto found = tenant_of_queue_id(*client, queue_id);
        if (!found) return fail(found.error());
        tenant = *found;
    }
    const std::string missing = "no record of queue id " + queue_id + " (not a tenant's message, or expired)";
    if (tenant.empty()) return fail(missing);
    auto loaded = load_messages(*client, tenant, {queue_id});
    if (!loaded) return fail(loaded.error());
    if (loaded->empty()) return fail(missing);

    const StoredMessage& message = loaded->front();
    // Opens, clicks and unsubscribes are not recipient statuses: they come
    // from the tenant's event stream.
    auto events = load_message_events(*client, tenant, queue_id, message.record.time);
    if (!events) return fail(events.error());
    if (vm["json"].as<bool>()) {
        nlohmann::json json = message_json(message, true);
        json["engagement"] = nlohmann::json::array();
        for (const Event& event : *events) {
            if (is_engagement(event)) json["engagement"].push_back(event_to_json(event));
        }
        std::cout << json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
        return 0;
    }
    std::cout << message_details(message) << engagement_details(*events);
    return 0;
}

}  // namespace tenantmail::ctl
