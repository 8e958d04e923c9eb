// pause_command.cpp — `tenantmailctl pause TENANT [--class C] [--reason TEXT]`
// and `tenantmailctl resume TENANT [--class C]`: stop and restart a tenant's
// bulk (default) or transactional mail by hand. policyd defers a paused
// class at RCPT with "4.7.1 TENANT CLASS mail paused: REASON"; the tenant
// gets a paused or resumed event (common/class_pause.h). Resuming bulk also
// starts the bounce and complaint rates afresh. The time is Redis's, like
// every other time the programs write.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "common/class_pause.h"
#include "tenantmailctl/cli_options.h"
#include "tenantmailctl/commands.h"
#include "tenantmailctl/ctl_config.h"
#include "tenantmailctl/ctl_redis.h"

namespace tenantmail::ctl {

namespace po = boost::program_options;

namespace {

constexpr const char* kDefaultReason = "paused by the platform";

int run_pause_or_resume(const Args& args, bool pause) {
    const std::string name = pause ? "pause" : "resume";
    po::options_description desc(pause ? "tenantmailctl pause TENANT: defer the tenant's mail of one class"
                                       : "tenantmailctl resume TENANT: let a paused class through again");
    std::string tenant_id;
    std::string class_name;
    std::string reason;
    desc.add_options()
        ("help,h", "show this help")
        ("tenant", po::value(&tenant_id)->required(), "tenant id")
        ("class", po::value(&class_name)->default_value("bulk"), "bulk or transactional");
    if (pause) {
        desc.add_options()("reason", po::value(&reason)->default_value(kDefaultReason),
                           "why; the tenant's clients see it in the 4.7.1 reply");
    }
    desc.add_options()("json", po::bool_switch(), "print JSON");
    add_ctl_config_options(desc);
    po::positional_options_description positional;
    positional.add("tenant", 1);
    po::variables_map vm;
    if (const int status = parse_command_options(args, desc, vm, &positional); status >= 0) return status;

    const std::optional<TrafficClass> traffic_class = parse_traffic_class(class_name);
    if (!traffic_class) {
        std::fprintf(stderr, "tenantmailctl %s: unknown class \"%s\" (bulk or transactional)\n", name.c_str(),
                     class_name.c_str());
        return 2;
    }
    if (pause) {
        if (const std::string problem = check_pause_reason(reason); !problem.empty()) {
            std::fprintf(stderr, "tenantmailctl pause: the reason %s\n", problem.c_str());
            return 2;
        }
    }
    const auto fail = [&](const std::string& message) {
        std::fprintf(stderr, "tenantmailctl %s: %s\n", name.c_str(), message.c_str());
        return 1;
    };
    auto tenant = find_ctl_tenant(vm, tenant_id);
    if (!tenant) return fail(tenant.error());
    auto client = connect_ctl_redis(vm);
    if (!client) return fail(client.error());
    auto now = redis_time_us(*client);
    if (!now) return fail(now.error());
    const std::int64_t now_unix = *now / 1'000'000;
    const auto argv = pause ? build_pause_command(tenant->id, *traffic_class, reason, now_unix)
                            : build_resume_command(tenant->id, *traffic_class, now_unix);
    auto changed = run_class_pause(*client, argv);
    if (!changed) return fail(changed.error());

    const std::string class_text(to_string(*traffic_class));
    if (vm["json"].as<bool>()) {
        nlohmann::json out = {{"tenant", tenant->id}, {"class", class_text}, {pause ? "paused" : "resumed", *changed}};
        if (pause) out["reason"] = reason;
        std::cout << out.dump(2) << '\n';
    } else if (pause) {
        std::printf("%s %s: %s (%s)\n", tenant->id.c_str(), class_text.c_str(),
                    *changed ? "paused" : "already paused with this reason", reason.c_str());
    } else {
        std::printf("%s %s: %s\n", tenant->id.c_str(), class_text.c_str(),
                    *changed ? "resumed" : "was not paused");
    }
    return 0;
}

}  // namespace

int run_pause(const Args& args) { return run_pause_or_resume(args, true); }
int run_resume(const Args& args) { return run_pause_or_resume(args, false); }

}  // namespace tenantmail::ctl
