// smime_command.cpp — `tenantmailctl smime check TENANT [--ca FILE] [--json]`:
// each of the tenant's S/MIME certificates as the milter would load it,
// with its chain checked against a trust anchor (smime_report.h). Exit 0
// when every certificate loads and verifies, 1 otherwise.
#include <cstdio>
#include <ctime>
#include <iostream>
#include <string>

#include "tenantmailctl/cli_options.h"
#include "tenantmailctl/commands.h"
#include "tenantmailctl/ctl_config.h"
#include "tenantmailctl/ctl_redis.h"
#include "tenantmailctl/exit_status.h"
#include "tenantmailctl/smime_report.h"

namespace tenantmail::ctl {

namespace po = boost::program_options;

int run_smime(const Args& args) {
    if (args.empty() || args.front() != "check") {
        std::fputs("usage: tenantmailctl smime check TENANT [--ca FILE] [--json]\n", stderr);
        return kExitUsage;
    }
    po::options_description desc("tenantmailctl smime check TENANT: the tenant's S/MIME certificates");
    std::string tenant_id;
    std::string ca_file;
    desc.add_options()
        ("help,h", "show this help")
        ("tenant", po::value(&tenant_id)->required(), "tenant id")
        ("ca", po::value(&ca_file)->value_name("FILE"), "PEM trust anchors (default: the system store)")
        ("json", po::bool_switch(), "print JSON");
    add_ctl_config_options(desc);
    po::positional_options_description positional;
    positional.add("tenant", 1);
    po::variables_map vm;
    if (const int status = parse_command_options(Args(args.begin() + 1, args.end()), desc, vm, &positional);
        status >= 0) {
        return status;
    }
    auto tenant = find_ctl_tenant(vm, tenant_id);
    if (!tenant) {
        std::fprintf(stderr, "tenantmailctl smime: %s\n", tenant.error().c_str());
        return kExitConfig;
    }
    const auto checks = check_smime(*tenant, ca_file, static_cast<std::int64_t>(std::time(nullptr)));
    if (vm["json"].as<bool>()) {
        std::cout << smime_json(tenant->id, checks).dump(2) << '\n';
    } else {
        std::fputs(render_smime_text(tenant->id, checks).c_str(), stdout);
    }
    for (const SmimeCheck& check : checks) {
        if (!check.ok()) return kExitFailed;
    }
    return kExitOk;
}

}  // namespace tenantmail::ctl
