#include "tenantmailctl/all_options.h"

#include <vector>

#include "bounce/bounce_settings.h"
#include "maillog/maillog_settings.h"
#include "milter/milter_settings.h"
#include "policyd/policy_settings.h"
#include "tenantmailctl/dns_settings.h"
#include "webhookd/webhook_settings.h"

namespace tenantmail::ctl {

namespace po = boost::program_options;

Result<LoadedConfig> load_all_options(const std::string& path, bool optional) {
    po::options_description desc;
    milter::add_milter_options(desc, path);
    policyd::add_policyd_section_options(desc);
    add_dns_options(desc);
    webhookd::add_webhookd_section_options(desc);
    bounce::add_bounce_section_options(desc);
    maillog::add_maillog_section_options(desc);
    // load_config reads the file named by --config; pass it only when the
    // admin named one, so a missing default file still means "defaults".
    std::vector<const char*> argv = {"tenantmailctl"};
    const std::string config_argument = "--config=" + path;
    if (!optional) argv.push_back(config_argument.c_str());
    return load_config(static_cast<int>(argv.size()), argv.data(), desc);
}

}  // namespace tenantmail::ctl
