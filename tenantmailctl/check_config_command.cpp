// check_config_command.cpp — `tenantmailctl check-config`: validate
// tenantmail.conf (every program's sections), the tenants file, every
// tenant's DKIM key and the bounce secret, exactly as the daemons load them,
// and that bounce.max_token_age does not outlive milter.record_ttl.
// An old option name (common/config.h, kOptionAliases) is a warning.
// Prints "file:line: reason" for the first problem and exits 1. A milter or
// policy socket on TCP is flagged with a warning (exit status unchanged),
// naming the login accounts that could reach it, and so are a Postfix with
// short queue ids (long_queue_ids.h) and a tenant's webhook_url that
// tenantmail-webhookd would refuse (plain http, or a literal loopback,
// private or link-local address; names are only judged when the dispatcher
// connects, see webhookd/destination_policy.h).
#include <cstdio>
#include <string>
#include <vector>

#include "common/options/bounce.h"
#include "common/options/milter.h"
#include "common/options/policyd.h"
#include "common/options/webhookd.h"
#include "common/signing_table.h"
#include "common/socket_exposure.h"
#include "common/text.h"
#include "tenantmailctl/all_options.h"
#include "tenantmailctl/cli_options.h"
#include "tenantmailctl/commands.h"
#include "tenantmailctl/ctl_config.h"
#include "tenantmailctl/long_queue_ids.h"

namespace tenantmail::ctl {

namespace po = boost::program_options;

// Both sockets carry unauthenticated claims of a SASL login (see
// common/socket_exposure.h); say so for each one on TCP.
void warn_about_network_sockets(const LoadedConfig& config) {
    const std::string milter_socket = config.options["milter.socket"].as<milter::SocketOption>().value;
    const std::string policy_socket =
        config.options["policyd.listen"].as<policyd::ListenOption>().value.to_string();
    std::vector<std::string> warnings;
    if (is_network_socket(milter_socket)) warnings.push_back(network_socket_warning("milter socket", milter_socket));
    if (is_network_socket(policy_socket)) warnings.push_back(network_socket_warning("policy socket", policy_socket));
    if (warnings.empty()) return;
    for (const std::string& warning : warnings) std::fprintf(stderr, "warning: %s\n", warning.c_str());
    const std::vector<std::string> accounts = login_accounts();
    if (accounts.empty()) return;
    std::string names;
    for (std::size_t i = 0; i < accounts.size() && i < 5; ++i) names += (i ? ", " : "") + accounts[i];
    if (accounts.size() > 5) names += ", ...";
    std::fprintf(stderr, "warning: this host has %zu login accounts (%s): each of them can reach a TCP socket\n",
                 accounts.size(), names.c_str());
}

void warn_about_webhook_urls(const LoadedConfig& config, const TenantRegistry& registry) {
    auto settings = webhookd::webhook_settings(config);
    if (!settings) return;  // load_all_options has reported it already
    for (const Tenant& tenant : registry.tenants()) {
        if (tenant.webhook_url.empty()) continue;
        const std::string why = webhookd::refused_url(tenant.webhook_url, settings->destinations);
        if (why.empty()) continue;
        std::fprintf(stderr, "warning: tenant %s: webhook_url %s will be refused by tenantmail-webhookd: %s\n",
                     terminal_text(tenant.id).c_str(), terminal_text(tenant.webhook_url).c_str(), why.c_str());
    }
}

int run_check_config(const Args& args) {
    po::options_description desc("tenantmailctl check-config: validate the configuration, tenants and keys");
    desc.add_options()("help,h", "show this help");
    add_ctl_config_options(desc);
    po::variables_map vm;
    if (const int status = parse_command_options(args, desc, vm); status >= 0) return status;

    const std::string path = vm["config"].as<std::string>();
    auto config = load_all_options(path, vm["config"].defaulted());
    if (!config) {
        std::fprintf(stderr, "%s\n", terminal_lines(config.error()).c_str());
        return 1;
    }
    // An old option name still works; say which name replaces it.
    for (const std::string& warning : config->warnings) {
        std::fprintf(stderr, "%s\n", terminal_lines(warning).c_str());
    }
    milter::MilterSettings settings = milter::milter_settings(*config);
    const auto max_token_age = std::chrono::duration_cast<std::chrono::seconds>(
        config->options["bounce.max_token_age"].as<DurationOption>().value);
    if (auto ages = bounce::check_token_age(max_token_age, settings.record_ttl); !ages) {
        std::fprintf(stderr, "%s: %s\n", config->file.empty() ? "(defaults)" : config->file.c_str(),
                     ages.error().c_str());
        return 1;
    }
    if (vm.count("tenants")) settings.common.tenants_file = vm["tenants"].as<std::string>();
    auto table = SigningTable::load(settings.common.tenants_file, settings.common.bounce_secret_file,
                                    settings.common.tracking_secret_file, settings.platform_tenant);
    if (!table) {
        std::fprintf(stderr, "%s\n", terminal_lines(table.error()).c_str());
        return 1;
    }
    warn_about_network_sockets(*config);
    warn_about_webhook_urls(*config, (*table)->registry());
    if (const auto warning = postfix_queue_ids_warning()) std::fprintf(stderr, "%s\n", warning->c_str());
    std::size_t keys = 0;
    for (const Tenant& tenant : (*table)->registry().tenants()) {
        if (tenant.signs()) ++keys;
        if (tenant.signs_ed25519()) ++keys;
    }
    std::printf("%s: OK\n%s: OK, %zu tenants, %zu keys loaded\n%s: OK\n",
                config->file.empty() ? "(no config file, defaults)" : config->file.c_str(),
                settings.common.tenants_file.c_str(), (*table)->registry().tenants().size(), keys,
                settings.common.bounce_secret_file.c_str());
    return 0;
}

}  // namespace tenantmail::ctl
