#include "tenantmailctl/tenant_context.h"

#include "common/options/milter.h"
#include "tenantmailctl/all_options.h"
#include "tenantmailctl/atomic_write.h"
#include "tenantmailctl/exit_status.h"
#include "tenantmailctl/tenant_keys.h"

namespace tenantmail::ctl {

bool load_tenant_context(const boost::program_options::variables_map& vm, const std::string& tenant_id,
                         TenantContext& context, ContextError& error) {
    auto config = load_all_options(vm["config"].as<std::string>(), vm["config"].defaulted());
    if (!config) {
        error = {kExitConfig, config.error()};
        return false;
    }
    context.config = std::move(*config);
    context.dns = dns_settings(context.config.options);
    context.tenants_file =
        vm.count("tenants") ? vm["tenants"].as<std::string>() : common_settings(context.config.options).tenants_file;
    auto text = read_text_file(context.tenants_file);
    if (!text) {
        error = {kExitConfig, text.error()};
        return false;
    }
    auto registry = TenantRegistry::parse(*text, context.tenants_file);
    if (!registry) {
        error = {kExitConfig, registry.error()};
        return false;
    }
    context.registry = std::move(*registry);
    context.tenant = context.registry.find(tenant_id);
    if (context.tenant == nullptr) {
        error = {kExitConfig, "no tenant '" + tenant_id + "' in " + context.tenants_file};
        return false;
    }
    auto marks = rotation_marks(*text, tenant_id, context.tenants_file);
    if (!marks) {
        error = {kExitConfig, marks.error()};
        return false;
    }
    context.marks = std::move(*marks);
    return true;
}

bool load_tenant_dns(const TenantContext& context, TenantDns& dns, ContextError& error) {
    const Tenant& tenant = *context.tenant;
    auto keys = load_published_keys(tenant_key_files(tenant, context.marks), tenant.allow_rsa1024);
    if (!keys) {
        error = {kExitKey, keys.error()};
        return false;
    }
    dns = tenant_dns(tenant, std::move(*keys));
    return true;
}

std::string reload_hint(const TenantContext& context) {
    const std::string pidfile = milter::milter_settings(context.config).pidfile;
    if (!pidfile.empty()) return "reload the milter so it signs with it: kill -HUP $(cat " + pidfile + ")";
    return "reload the milter so it signs with it (SIGHUP to tenantmail-milter, e.g. systemctl reload "
           "tenantmail-milter)";
}

}  // namespace tenantmail::ctl
