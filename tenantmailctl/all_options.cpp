// all_options.cpp — see all_options.h.
#include "tenantmailctl/all_options.h"

#include <vector>

#include "common/options/sections.h"

namespace tenantmail::ctl {

namespace po = boost::program_options;

Result<LoadedConfig> load_all_options(const std::string& path, bool optional) {
    po::options_description desc;
    add_common_options(desc, path);
    for (const OptionSection& section : option_sections()) section.add_options(desc);
    // load_config reads the file named by --config; pass it only when the
    // admin named one, so a missing default file still means "defaults".
    std::vector<const char*> argv = {"tenantmailctl"};
    const std::string config_argument = "--config=" + path;
    if (!optional) argv.push_back(config_argument.c_str());
    return load_config(static_cast<int>(argv.size()), argv.data(), desc);
}

}  // namespace tenantmail::ctl
