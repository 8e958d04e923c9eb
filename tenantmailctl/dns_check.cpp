#include "tenantmailctl/dns_check.h"

#include <algorithm>

#include "common/base64.h"
#include "common/dkim_key_record.h"
#include "common/dmarc_record.h"
#include "common/spf_check.h"

namespace tenantmail::ctl {
namespace {

std::string quoted(std::string_view text, std::size_t max = 80) {
    if (text.size() <= max) return "\"" + std::string(text) + "\"";
    return "\"" + std::string(text.substr(0, max - 3)) + "...\"";
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
    std::string out;
    for (const std::string& item : items) out += (out.empty() ? "" : std::string(separator)) + item;
    return out;
}

std::string abbreviated_txt(const PublishedKey& key) {
    return "v=DKIM1; k=" + key.algorithm + "; p=" + abbreviate_key(base64_encode(key.public_key));
}

Result<CheckLine> check_dkim(DnsResolver& resolver, const TenantDns& tenant, const PublishedKey& key,
                             const std::string& domain, const DnsSettings& settings) {
    CheckLine line;
    line.check = "DKIM";
    line.name = dkim_record_name(key.selector, domain);
    line.selector = key.selector;
    line.role = key.role;
    line.required = key.role == KeyRole::active;
    line.expected = "TXT " + abbreviated_txt(key) + " (the key in " + key.path + "), or CNAME " +
                    platform_key_name(key.selector, tenant.tenant, settings);
    auto found = lookup(resolver, line.name, DnsType::txt);
    if (!found) return Error{found.error()};
    line.via = found->cnames;
    if (found->status != DnsLookup::Status::found) {
        line.found = describe_absence(*found, DnsType::txt);
        if (!found->cnames.empty()) line.found += " at " + found->final_name;
        // A next key not yet published, or a previous one already removed,
        // is a state of the rotation, not an error.
        line.status =
            line.required || found->status == DnsLookup::Status::failed ? CheckStatus::fail : CheckStatus::absent;
        if (key.role == KeyRole::pending && line.status == CheckStatus::absent) line.found += " (not published yet)";
        return line;
    }
    std::vector<std::string> candidates;
    for (const DnsRr& rr : found->records) {
        if (looks_like_dkim_key_record(rr.data)) candidates.push_back(rr.data);
    }
    line.status = CheckStatus::fail;
    if (candidates.empty()) {
        line.found = "TXT " + quoted(found->records.front().data, 60) + ", not a DKIM key record";
        return line;
    }
    if (candidates.size() > 1) {
        line.found = std::to_string(candidates.size()) + " DKIM key records; receivers may use either";
        return line;
    }
    auto record = parse_dkim_key_record(candidates.front());
    if (!record) {
        line.found = "malformed DKIM record: " + record.error();
        return line;
    }
    if (record->revoked) {
        line.found = "the key is revoked (empty p=)";
        return line;
    }
    if (record->key_type != key.algorithm) {
        line.found = "k=" + record->key_type + " key; the key on disk is " + key.algorithm;
        return line;
    }
    if (record->public_key != key.public_key) {
        line.found = "a different key: p=" + abbreviate_key(base64_encode(record->public_key));
        return line;
    }
    line.status = CheckStatus::pass;
    line.found = "key matches " + key.path + " (k=" + record->key_type + (record->testing ? ", t=y testing" : "") + ")";
    return line;
}

Result<CheckLine> check_spf_line(DnsResolver& resolver, const TenantDns& tenant, const DnsSettings& settings) {
    CheckLine line;
    line.check = "SPF";
    line.name = tenant.bounce_domain;
    line.expected = "one record including " + settings.spf_include +
                    ", at most 10 lookups: " + platform_spf_record(settings) + " (or CNAME " +
                    settings.platform_mail_host + ")";
    auto spf = check_spf(resolver, tenant.bounce_domain, settings.spf_include);
    if (!spf) return Error{spf.error()};
    line.via = spf->cnames;
    std::vector<std::string> shown;
    for (const std::string& record : spf->records) shown.push_back(quoted(record));
    if (spf->ok()) {
        line.status = CheckStatus::pass;
        line.found = join(shown, ", ") + ": includes " + settings.spf_include + ", " +
                     std::to_string(spf->dns_lookups) + "/10 lookups";
    } else {
        line.status = CheckStatus::fail;
        line.found = (shown.empty() ? "" : join(shown, ", ") + ": ") + join(spf->problems, "; ");
    }
    if (!spf->notes.empty()) line.found += " (" + join(spf->notes, "; ") + ")";
    return line;
}

Result<CheckLine> check_bounce_mx(DnsResolver& resolver, const TenantDns& tenant, const DnsSettings& settings) {
    CheckLine line;
    line.check = "MX";
    line.name = tenant.bounce_domain;
    line.expected = "MX " + platform_mx_value(settings) + " (or CNAME " + settings.platform_mail_host + ")";
    auto found = lookup(resolver, tenant.bounce_domain, DnsType::mx);
    if (!found) return Error{found.error()};
    line.via = found->cnames;
    if (found->status != DnsLookup::Status::found) {
        line.status = CheckStatus::fail;
        line.found = describe_absence(*found, DnsType::mx) + (found->cnames.empty() ? "" : " at " + found->final_name) +
                     ": bounces cannot reach the platform";
        return line;
    }
    std::vector<DnsRr> mx = found->records;
    std::sort(mx.begin(), mx.end(), [](const DnsRr& a, const DnsRr& b) { return a.preference < b.preference; });
    std::vector<std::string> shown;
    bool platform = false;
    for (const DnsRr& rr : mx) {
        shown.push_back(std::to_string(rr.preference) + " " + rr.data);
        platform = platform || rr.data == settings.bounce_mx;
    }
    line.found = "MX " + join(shown, ", ");
    line.status = platform ? CheckStatus::pass : CheckStatus::fail;
    if (!platform) line.found += ": not the platform's " + settings.bounce_mx;
    return line;
}

Result<CheckLine> check_dmarc(DnsResolver& resolver, const std::string& domain, const DnsSettings& settings) {
    CheckLine line;
    line.check = "DMARC";
    line.name = dmarc_record_name(domain);
    line.required = false;
    line.expected = "optional; if published, a valid record such as " + suggested_dmarc_record(settings.dmarc_rua);
    auto found = lookup(resolver, line.name, DnsType::txt);
    if (!found) return Error{found.error()};
    line.via = found->cnames;
    std::vector<std::string> candidates;
    for (const DnsRr& rr : found->records) {
        if (looks_like_dmarc_record(rr.data)) candidates.push_back(rr.data);
    }
    if (found->status == DnsLookup::Status::failed) {
        line.status = CheckStatus::fail;
        line.found = describe_absence(*found, DnsType::txt);
        return line;
    }
    if (candidates.empty()) {
        line.status = CheckStatus::absent;
        line.found = "not published (optional)";
        return line;
    }
    line.status = CheckStatus::fail;
    if (candidates.size() > 1) {
        line.found = std::to_string(candidates.size()) + " DMARC records; receivers then apply none";
        return line;
    }
    auto record = parse_dmarc_record(candidates.front());
    if (!record) {
        line.found = quoted(candidates.front()) + ": " + record.error();
        return line;
    }
    line.status = CheckStatus::pass;
    line.found = "p=" + record->policy +
                 (record->aggregate_uris.empty() ? ", no rua" : ", rua=" + join(record->aggregate_uris, ","));
    return line;
}

// The tracking domain must be a CNAME to the platform's tracking host, so
// the platform can move trackd and renew its certificate without the
// tenant. Asked as CNAME (not followed): an A record in its place fails
// even if it holds the host's current address, which would break silently
// on the platform's next move.
Result<CheckLine> check_tracking(DnsResolver& resolver, const TenantDns& tenant, const DnsSettings& settings) {
    CheckLine line;
    line.check = "Track";  // fits the report's 6-column label
    line.name = tenant.tracking_domain;
    if (settings.tracking_target.empty()) {
        line.status = CheckStatus::absent;
        line.required = false;
        line.expected = "CNAME to the platform's tracking host";
        line.found = "not checked: dns.tracking_target is not set";
        return line;
    }
    line.expected = "CNAME " + settings.tracking_target;
    auto answer = resolver.query(tenant.tracking_domain, DnsType::cname);
    if (!answer) return Error{answer.error()};
    line.status = CheckStatus::fail;
    if (answer->rcode != DnsRcode::noerror) {
        line.found = answer->rcode == DnsRcode::nxdomain ? "not found (NXDOMAIN)"
                                                         : "lookup failed: " + std::string(to_string(answer->rcode));
        return line;
    }
    for (const DnsRr& rr : answer->answer) {
        if (rr.type != DnsType::cname || normalise_dns_name(rr.owner) != tenant.tracking_domain) continue;
        const std::string target = normalise_dns_name(rr.data);
        line.found = "CNAME " + target;
        if (target == settings.tracking_target) {
            line.status = CheckStatus::pass;
        } else {
            line.found += ": not the platform's " + settings.tracking_target;
        }
        return line;
    }
    auto address = resolver.query(tenant.tracking_domain, DnsType::a);
    if (!address) return Error{address.error()};
    std::vector<std::string> shown;
    for (const DnsRr& rr : address->answer) {
        if (rr.type == DnsType::a) shown.push_back(rr.data);
    }
    line.found = shown.empty() ? "no CNAME record" : "no CNAME; A " + join(shown, ", ") + " instead";
    return line;
}

}  // namespace

std::string_view to_string(CheckStatus status) {
    switch (status) {
        case CheckStatus::pass:
            return "pass";
        case CheckStatus::fail:
            return "fail";
        case CheckStatus::absent:
            return "absent";
    }
    return "?";
}

std::string abbreviate_key(std::string_view base64) {
    if (base64.size() <= 24) return std::string(base64);
    return std::string(base64.substr(0, 12)) + "..." + std::string(base64.substr(base64.size() - 8));
}

Result<std::vector<CheckLine>> check_tenant_dns(DnsResolver& resolver, const TenantDns& tenant,
                                                const DnsSettings& settings) {
    std::vector<CheckLine> lines;
    auto add = [&](Result<CheckLine> line) -> Result<void> {
        if (!line) return Error{line.error()};
        lines.push_back(std::move(*line));
        return {};
    };
    for (const std::string& domain : tenant.domains) {
        for (const PublishedKey& key : tenant.keys) {
            if (auto ok = add(check_dkim(resolver, tenant, key, domain, settings)); !ok) return Error{ok.error()};
        }
    }
    if (!tenant.bounce_domain.empty()) {
        if (auto ok = add(check_spf_line(resolver, tenant, settings)); !ok) return Error{ok.error()};
        if (auto ok = add(check_bounce_mx(resolver, tenant, settings)); !ok) return Error{ok.error()};
    }
    if (!tenant.tracking_domain.empty()) {
        if (auto ok = add(check_tracking(resolver, tenant, settings)); !ok) return Error{ok.error()};
    }
    for (const std::string& domain : tenant.domains) {
        if (auto ok = add(check_dmarc(resolver, domain, settings)); !ok) return Error{ok.error()};
    }
    return lines;
}

Result<std::vector<CheckLine>> check_key_published(DnsResolver& resolver, const TenantDns& tenant,
                                                   const PublishedKey& key, const DnsSettings& settings) {
    std::vector<CheckLine> lines;
    for (const std::string& domain : tenant.domains) {
        auto line = check_dkim(resolver, tenant, key, domain, settings);
        if (!line) return Error{line.error()};
        lines.push_back(std::move(*line));
    }
    return lines;
}

bool all_green(const std::vector<CheckLine>& lines) {
    return std::all_of(lines.begin(), lines.end(), [](const CheckLine& line) {
        return line.status == CheckStatus::pass || (line.status == CheckStatus::absent && !line.required);
    });
}

bool selector_published(const std::vector<CheckLine>& lines, std::string_view selector) {
    bool any = false;
    for (const CheckLine& line : lines) {
        if (line.check != "DKIM" || line.selector != selector) continue;
        if (line.status != CheckStatus::pass) return false;
        any = true;
    }
    return any;
}

}  // namespace tenantmail::ctl
