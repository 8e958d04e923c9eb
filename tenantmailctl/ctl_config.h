// ctl_config.h — how tenantmailctl finds the configuration: the same
// tenantmail.conf the daemons read (-c), whose tenants_file it may override
// with --tenants, so commands work on a copy before it is installed.
#pragma once

#include <boost/program_options.hpp>

#include "common/result.h"
#include "common/tenants.h"

namespace tenantmail::ctl {

void add_ctl_config_options(boost::program_options::options_description& desc);
// The tenants file named by --tenants, else by tenants_file in the config.
Result<std::string> ctl_tenants_file(const boost::program_options::variables_map& vm);
Result<TenantRegistry> load_ctl_registry(const boost::program_options::variables_map& vm);

}  // namespace tenantmail::ctl
