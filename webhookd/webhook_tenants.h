// webhook_tenants.h — the tenants tenantmail-webhookd serves: those with a
// webhook_url in tenants.conf, each with its signing secret read from
// webhook_secret (owner-only file, common/private_file.h). Loading fails as
// a whole, naming the tenant and the file, so a reload either takes every
// tenant or keeps the previous table.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "common/tenants.h"

namespace tenantmail::webhookd {

struct WebhookTenant {
    std::string id;
    std::string url;
    std::string secret;
};

Result<std::vector<WebhookTenant>> load_webhook_tenants(const TenantRegistry& registry);
// Reads the tenants file, then the secrets.
Result<std::vector<WebhookTenant>> load_webhook_tenants(const std::string& tenants_file);

}  // namespace tenantmail::webhookd
