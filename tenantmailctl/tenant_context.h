// tenant_context.h — what the onboarding commands load before they act on a
// tenant: tenantmail.conf (all sections, so [dns] and milter.pidfile),
// the tenants file (as text too, for rotation notes), the tenant and its
// keys. Errors come back with the exit status they deserve (exit_status.h),
// already phrased for the admin.
#pragma once

#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "common/config.h"
#include "common/tenants.h"
#include "tenantmailctl/dns_records.h"
#include "common/options/dns.h"
#include "tenantmailctl/rotation_state.h"

namespace tenantmail::ctl {

struct TenantContext {
    LoadedConfig config;
    DnsSettings dns;
    std::string tenants_file;
    TenantRegistry registry;
    const Tenant* tenant = nullptr;
    std::vector<RotationMark> marks;
};

struct ContextError {
    int status = 1;
    std::string message;
};

// Loads config and tenant; nullptr tenant never returned on success.
bool load_tenant_context(const boost::program_options::variables_map& vm, const std::string& tenant_id,
                         TenantContext& context, ContextError& error);
// Loads the tenant's keys (active, pending, retiring) into a TenantDns.
bool load_tenant_dns(const TenantContext& context, TenantDns& dns, ContextError& error);

// How to make the milter pick up a changed tenants.conf.
std::string reload_hint(const TenantContext& context);

}  // namespace tenantmail::ctl
