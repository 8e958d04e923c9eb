// bounce_decode_command.cpp — `tenantmailctl bounce-decode ADDRESS`: check a
// bounce address (bounces+TOKEN@domain) against the bounce secret and print
// the queue id, sending time and tenant it carries. Exit 1 for a forged, altered or
// expired address, with the reason.
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "common/bounce_address.h"
#include "common/config.h"
#include "common/duration.h"
#include "common/tenants.h"
#include "tenantmailctl/all_options.h"
#include "tenantmailctl/cli_options.h"
#include "tenantmailctl/commands.h"
#include "tenantmailctl/ctl_config.h"

namespace tenantmail::ctl {

namespace po = boost::program_options;

int run_bounce_decode(const Args& args) {
    po::options_description desc("tenantmailctl bounce-decode ADDRESS: authenticate a bounce address");
    std::string address;
    std::string max_age_text;
    long long now = 0;
    desc.add_options()
        ("help,h", "show this help")
        ("address", po::value(&address)->required(), "the bounce address (bounces+TOKEN@domain)")
        ("secret", po::value<std::string>(), "bounce secret file (default: bounce_secret_file from the configuration)")
        ("max-age", po::value(&max_age_text)->default_value("14d"), "oldest token accepted")
        ("now", po::value(&now), "check as if at this time (seconds since the epoch)");
    add_ctl_config_options(desc);
    po::positional_options_description positional;
    positional.add("address", 1);
    po::variables_map vm;
    if (const int status = parse_command_options(args, desc, vm, &positional); status >= 0) return status;

    std::string secret_file;
    if (vm.count("secret")) {
        secret_file = vm["secret"].as<std::string>();
    } else {
        auto config = load_all_options(vm["config"].as<std::string>(), vm["config"].defaulted());
        if (!config) {
            std::fprintf(stderr, "tenantmailctl bounce-decode: %s\n", config.error().c_str());
            return 1;
        }
        secret_file = common_settings(config->options).bounce_secret_file;
    }
    // A token is bound to one of the tenants (--tenants or tenants_file).
    auto registry = load_ctl_registry(vm);
    if (!registry) {
        std::fprintf(stderr, "tenantmailctl bounce-decode: %s\n", registry.error().c_str());
        return 1;
    }
    std::vector<std::string> tenant_ids;
    for (const Tenant& tenant : registry->tenants()) tenant_ids.push_back(tenant.id);
    const auto max_age = parse_duration(max_age_text);
    if (!max_age) {
        std::fprintf(stderr, "tenantmailctl bounce-decode: --max-age: %s\n", max_age.error().c_str());
        return 2;
    }
    auto codec = load_bounce_codec(secret_file);
    if (!codec) {
        std::fprintf(stderr, "tenantmailctl bounce-decode: %s\n", codec.error().c_str());
        return 1;
    }
    if (now == 0) now = static_cast<long long>(std::time(nullptr));
    const auto max_age_seconds = std::chrono::duration_cast<std::chrono::seconds>(*max_age).count();
    auto token = codec->decode(address, now, max_age_seconds, tenant_ids);
    if (!token) {
        std::fprintf(stderr, "tenantmailctl bounce-decode: %s: %s\n", address.c_str(), token.error().c_str());
        return 1;
    }
    std::printf("queue_id=%s sent_at=%lld tenant=%s\n", token->queue_id.c_str(),
                static_cast<long long>(token->sent_at),
                token->tenant.empty() ? "(none: version 1 token)" : token->tenant.c_str());
    return 0;
}

}  // namespace tenantmail::ctl
