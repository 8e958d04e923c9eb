#include "tenantmailctl/ctl_config.h"

#include "common/config.h"
#include "tenantmailctl/all_options.h"

namespace tenantmail::ctl {

namespace po = boost::program_options;

void add_ctl_config_options(po::options_description& desc) {
    desc.add_options()
        ("config,c", po::value<std::string>()->default_value(kDefaultConfigFile), "tenantmail.conf to read")
        ("tenants", po::value<std::string>(), "tenants file (default: tenants_file from the configuration)");
}

Result<std::string> ctl_tenants_file(const po::variables_map& vm) {
    if (vm.count("tenants")) return vm["tenants"].as<std::string>();
    auto config = load_all_options(vm["config"].as<std::string>(), vm["config"].defaulted());
    if (!config) return Error{config.error()};
    return common_settings(config->options).tenants_file;
}

Result<TenantRegistry> load_ctl_registry(const po::variables_map& vm) {
    auto path = ctl_tenants_file(vm);
    if (!path) return Error{path.error()};
    return TenantRegistry::load_file(*path);
}

}  // namespace tenantmail::ctl
