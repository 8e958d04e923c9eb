#include "tenantmailctl/dns_records.h"

#include "common/dmarc_record.h"

namespace tenantmail::ctl {
namespace {

std::string key_label(const PublishedKey& key) { return key.algorithm == "ed25519" ? "Ed25519" : "RSA"; }

// Short enough for the table's purpose column; what to do with a next or
// previous key is said once below the table (render_records_table).
std::string dkim_purpose(const PublishedKey& key) {
    const std::string label = "DKIM key (" + key_label(key) + ")";
    switch (key.role) {
        case KeyRole::active:
            return label;
        case KeyRole::pending:
            return "next " + label;
        case KeyRole::retiring:
            return "old " + label;
    }
    return label;
}

}  // namespace

std::string_view to_string(KeyRole role) {
    switch (role) {
        case KeyRole::active:
            return "active";
        case KeyRole::pending:
            return "pending";
        case KeyRole::retiring:
            return "retiring";
    }
    return "?";
}

std::string_view to_string(Delegation delegation) {
    switch (delegation) {
        case Delegation::cname:
            return "cname";
        case Delegation::direct:
            return "direct";
        case Delegation::both:
            return "both";
    }
    return "?";
}

std::string_view to_string(RecordSide side) { return side == RecordSide::tenant ? "tenant" : "platform"; }

std::string platform_key_name(std::string_view selector, std::string_view tenant, const DnsSettings& settings) {
    return std::string(selector) + "." + std::string(tenant) + "." + settings.dkim_key_zone;
}

std::string platform_spf_record(const DnsSettings& settings) {
    return "v=spf1 include:" + settings.spf_include + " -all";
}

std::string platform_mx_value(const DnsSettings& settings) { return "10 " + settings.bounce_mx; }

std::string dkim_record_name(std::string_view selector, std::string_view domain) {
    return std::string(selector) + "._domainkey." + std::string(domain);
}

std::string dmarc_record_name(std::string_view domain) { return "_dmarc." + std::string(domain); }

std::vector<DnsRecord> tenant_dns_records(const TenantDns& tenant, const DnsSettings& settings) {
    std::vector<DnsRecord> records;
    auto add = [&](Delegation delegation, RecordSide side, std::string name, std::string type, std::string value,
                   std::string purpose, bool required) {
        records.push_back(DnsRecord{delegation, side, std::move(name), std::move(type), std::move(value),
                                    std::move(purpose), required});
    };
    const bool signs = !tenant.bounce_domain.empty();

    // A: the tenant's side is CNAMEs only, so the platform can change keys,
    // SPF and MX later without asking the tenant's IT team again.
    for (const std::string& domain : tenant.domains) {
        for (const PublishedKey& key : tenant.keys) {
            add(Delegation::cname, RecordSide::tenant, dkim_record_name(key.selector, domain), "CNAME",
                platform_key_name(key.selector, tenant.tenant, settings), dkim_purpose(key),
                key.role == KeyRole::active);
        }
    }
    if (signs) {
        add(Delegation::cname, RecordSide::tenant, tenant.bounce_domain, "CNAME", settings.platform_mail_host,
            "bounces + SPF", true);
    }
    for (const PublishedKey& key : tenant.keys) {
        add(Delegation::cname, RecordSide::platform, platform_key_name(key.selector, tenant.tenant, settings), "TXT",
            key.txt_value, dkim_purpose(key), key.role == KeyRole::active);
    }
    if (signs) {
        // Shared by every CNAME-delegated tenant ("shared"); listed so a
        // platform set up from scratch sees the whole picture.
        add(Delegation::cname, RecordSide::platform, settings.platform_mail_host, "MX", platform_mx_value(settings),
            "bounces (shared)", true);
        add(Delegation::cname, RecordSide::platform, settings.platform_mail_host, "TXT", platform_spf_record(settings),
            "SPF (shared)", true);
    }

    // B: everything in the tenant's zone.
    for (const std::string& domain : tenant.domains) {
        for (const PublishedKey& key : tenant.keys) {
            add(Delegation::direct, RecordSide::tenant, dkim_record_name(key.selector, domain), "TXT", key.txt_value,
                dkim_purpose(key), key.role == KeyRole::active);
        }
    }
    if (signs) {
        add(Delegation::direct, RecordSide::tenant, tenant.bounce_domain, "TXT", platform_spf_record(settings), "SPF",
            true);
        add(Delegation::direct, RecordSide::tenant, tenant.bounce_domain, "MX", platform_mx_value(settings), "bounces",
            true);
    }

    if (!tenant.tracking_domain.empty() && !settings.tracking_target.empty()) {
        add(Delegation::both, RecordSide::tenant, tenant.tracking_domain, "CNAME", settings.tracking_target,
            "tracking links + unsubscribe", true);
    }

    for (const std::string& domain : tenant.domains) {
        add(Delegation::both, RecordSide::tenant, dmarc_record_name(domain), "TXT",
            suggested_dmarc_record(settings.dmarc_rua), "DMARC (optional)", false);
    }
    return records;
}

std::string tracking_target_note(const TenantDns& tenant, const DnsSettings& settings) {
    if (tenant.tracking_domain.empty() || !settings.tracking_target.empty()) return "";
    return "tracking_domain " + tenant.tracking_domain +
           " needs a CNAME to the platform's tracking host: set dns.tracking_target in the [dns] section of "
           "tenantmail.conf to list it";
}

}  // namespace tenantmail::ctl
