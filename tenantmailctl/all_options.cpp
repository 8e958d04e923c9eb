#include "tenantmailctl/all_options.h"

#include <vector>

#include "milter/milter_settings.h"
#include "tenantmailctl/dns_settings.h"

namespace tenantmail::ctl {

namespace po = boost::program_options;

Result<LoadedConfig> load_all_options(const std::string& path, bool optional) {
    po::options_description desc;
    milter::add_milter_options(desc, path);
    add_dns_options(desc);
    // load_config reads the file named by --config; pass it only when the
    // admin named one, so a missing default file still means "defaults".
    std::vector<const char*> argv = {"tenantmailctl"};
    const std::string config_argument = "--config=" + path;
    if (!optional) argv.push_back(config_argument.c_str());
    return load_config(static_cast<int>(argv.size()), argv.data(), desc);
}

}  // namespace tenantmail::ctl
