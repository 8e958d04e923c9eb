// webhook_tenants.cpp — see webhook_tenants.h.
#include "webhookd/webhook_tenants.h"

#include "common/private_file.h"
#include "webhookd/signature.h"

namespace tenantmail::webhookd {

Result<std::vector<WebhookTenant>> load_webhook_tenants(const TenantRegistry& registry) {
    std::vector<WebhookTenant> tenants;
    for (const Tenant& tenant : registry.tenants()) {
        if (tenant.webhook_url.empty()) continue;
        const std::string what = "tenant " + tenant.id + ": webhook secret";
        auto content = read_private_file(tenant.webhook_secret, what, PrivateFileRules{4096, true});
        if (!content) return Error{content.error()};
        auto secret = secret_from_file_content(std::move(*content), what + " " + tenant.webhook_secret);
        if (!secret) return Error{secret.error()};
        tenants.push_back(WebhookTenant{tenant.id, tenant.webhook_url, std::move(*secret)});
    }
    return tenants;
}

Result<std::vector<WebhookTenant>> load_webhook_tenants(const std::string& tenants_file) {
    auto registry = TenantRegistry::load_file(tenants_file);
    if (!registry) return Error{registry.error()};
    return load_webhook_tenants(*registry);
}

}  // namespace tenantmail::webhookd
