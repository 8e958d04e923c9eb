#include "tenantmailctl/dns_render.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace tenantmail::ctl {
namespace {

constexpr std::size_t kGap = 2;
constexpr std::size_t kTypeWidth = 5;
constexpr std::size_t kMinPurposeWidth = 14;
constexpr std::size_t kMaxPurposeWidth = 24;
constexpr std::size_t kMinValueWidth = 24;

struct Columns {
    std::size_t name = 0;
    std::size_t value = 0;
    std::size_t purpose = 0;
};

// Names never wrap (an admin copies them); a CNAME or MX target should not
// either, so the value column is at least as wide as the longest one, and
// the purpose column gives way first.
Columns fit_columns(const std::vector<DnsRecord>& records, std::size_t width) {
    Columns columns;
    std::size_t longest_name_value = 0;
    std::size_t longest_purpose = 0;
    for (const DnsRecord& record : records) {
        columns.name = std::max(columns.name, record.name.size());
        if (record.type != "TXT") longest_name_value = std::max(longest_name_value, record.value.size());
        longest_purpose = std::max(longest_purpose, record.purpose.size());
    }
    const std::size_t fixed = columns.name + kTypeWidth + 3 * kGap;
    const std::size_t room = width > fixed ? width - fixed : 0;
    columns.purpose = std::min(longest_purpose, kMaxPurposeWidth);
    columns.value = room > columns.purpose ? room - columns.purpose : 0;
    if (columns.value < std::max(longest_name_value, kMinValueWidth)) {
        columns.value = std::max(longest_name_value, kMinValueWidth);
        columns.purpose = room > columns.value ? std::max(room - columns.value, kMinPurposeWidth) : kMinPurposeWidth;
    }
    return columns;
}

std::string pad(std::string_view text, std::size_t width) {
    std::string out(text);
    if (out.size() < width) out.append(width - out.size(), ' ');
    return out;
}

void append_row(std::string& out, const Columns& columns, std::string_view name, std::string_view type,
                const std::vector<std::string>& value, const std::vector<std::string>& purpose) {
    const std::size_t lines = std::max<std::size_t>({1, value.size(), purpose.size()});
    for (std::size_t i = 0; i < lines; ++i) {
        std::string line = pad(i == 0 ? name : "", columns.name + kGap) + pad(i == 0 ? type : "", kTypeWidth + kGap) +
                           pad(i < value.size() ? value[i] : "", columns.value + kGap) +
                           (i < purpose.size() ? purpose[i] : "");
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out += line + "\n";
    }
}

void append_table(std::string& out, const Columns& columns, const std::vector<const DnsRecord*>& rows) {
    append_row(out, columns, "NAME", "TYPE", {"VALUE"}, {"PURPOSE"});
    for (const DnsRecord* record : rows) {
        append_row(out, columns, record->name, record->type, wrap_text(record->value, columns.value),
                   wrap_text(record->purpose, columns.purpose));
    }
}

std::vector<const DnsRecord*> pick(const std::vector<DnsRecord>& records, Delegation delegation, RecordSide side) {
    std::vector<const DnsRecord*> out;
    for (const DnsRecord& record : records) {
        if (record.delegation == delegation && record.side == side) out.push_back(&record);
    }
    return out;
}

// The records the same with A or B: required ones (the tracking CNAME) or
// optional ones (DMARC).
std::vector<const DnsRecord*> pick_both(const std::vector<DnsRecord>& records, bool required) {
    std::vector<const DnsRecord*> out;
    for (const DnsRecord* record : pick(records, Delegation::both, RecordSide::tenant)) {
        if (record->required == required) out.push_back(record);
    }
    return out;
}

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
    return out;
}

std::string zone_line(const DnsRecord& record) {
    std::string rdata = record.type == "TXT" ? zone_txt_rdata(record.value) : record.value + ".";
    return record.name + ".\tIN\t" + record.type + "\t" + rdata + "\n";
}

}  // namespace

std::vector<std::string> wrap_text(std::string_view text, std::size_t width) {
    std::vector<std::string> lines;
    if (width == 0) width = 1;
    while (text.size() > width) {
        // Break after the last space that fits; "; " keeps tags whole.
        std::size_t cut = text.substr(0, width + 1).rfind(' ');
        std::size_t next = cut;
        if (cut == std::string_view::npos || cut == 0) {
            cut = width;
            next = width;
        } else {
            next = cut + 1;
        }
        lines.emplace_back(text.substr(0, cut));
        text.remove_prefix(next);
    }
    if (!text.empty() || lines.empty()) lines.emplace_back(text);
    return lines;
}

std::string zone_txt_rdata(std::string_view value) {
    std::string out;
    std::size_t offset = 0;
    do {
        const std::string_view chunk = value.substr(offset, 255);
        std::string quoted = "\"";
        for (const char c : chunk) {
            if (c == '"' || c == '\\') quoted += '\\';
            quoted += c;
        }
        out += (out.empty() ? "" : " ") + quoted + "\"";
        offset += 255;
    } while (offset < value.size());
    return out;
}

std::string render_records_table(const TenantDns& tenant, const std::vector<DnsRecord>& records, std::size_t width,
                                 bool with_notes) {
    const Columns columns = fit_columns(records, width);
    std::string out = "DNS records for tenant " + tenant.tenant + "\n";
    out += "  signing domain" + std::string(tenant.domains.size() > 1 ? "s: " : ":  ") + joined(tenant.domains) + "\n";
    if (!tenant.bounce_domain.empty()) out += "  bounce domain:   " + tenant.bounce_domain + "\n";
    if (!tenant.tracking_domain.empty()) out += "  tracking domain: " + tenant.tracking_domain + "\n";
    out += "\nSet up either A or B for each name; a name cannot hold a CNAME beside other records.\n";

    const auto cname_tenant = pick(records, Delegation::cname, RecordSide::tenant);
    const auto cname_platform = pick(records, Delegation::cname, RecordSide::platform);
    const auto direct_tenant = pick(records, Delegation::direct, RecordSide::tenant);
    const auto required_both = pick_both(records, true);
    const auto optional = pick_both(records, false);
    if (!cname_tenant.empty()) {
        out +=
            "\nA. CNAME delegation (recommended): the platform serves the key, SPF and bounce MX,\n"
            "   so keys can be rotated without another change in the tenant's DNS.\n\n"
            "Created by the tenant's IT team:\n";
        append_table(out, columns, cname_tenant);
        if (!cname_platform.empty()) {
            out += "\nPublished by the platform:\n";
            append_table(out, columns, cname_platform);
        }
    }
    if (!direct_tenant.empty()) {
        out +=
            "\nB. Direct records: everything in the tenant's zone; each key rotation needs a DNS change.\n\n"
            "Created by the tenant's IT team:\n";
        append_table(out, columns, direct_tenant);
    }
    if (!required_both.empty()) {
        out += "\nWith A or B, created by the tenant's IT team:\n";
        append_table(out, columns, required_both);
    }
    if (!optional.empty()) {
        out += "\nOptional, with A or B:\n";
        append_table(out, columns, optional);
    }
    std::vector<std::string> notes;
    if (!tenant.bounce_domain.empty()) {
        notes.push_back("Mail leaves with the envelope sender bounces+...@" + tenant.bounce_domain +
                        ": receivers check SPF there and send bounces to its MX.");
    }
    const auto has_role = [&](KeyRole role) {
        return std::any_of(tenant.keys.begin(), tenant.keys.end(),
                           [&](const PublishedKey& k) { return k.role == role; });
    };
    if (!tenant.tracking_domain.empty()) {
        notes.push_back("Tracked links, the open pixel and one-click unsubscribe use https://" +
                        tenant.tracking_domain + "/: it must be a CNAME (not an A record) so the platform "
                        "can move its tracking host.");
    }
    if (has_role(KeyRole::pending)) {
        notes.push_back("next DKIM key: publish it now; `tenantmailctl dns check " + tenant.tenant +
                        "` switches signing to it once DNS shows it.");
    }
    if (has_role(KeyRole::retiring)) {
        notes.push_back("old DKIM key: keep it published until `tenantmailctl retire " + tenant.tenant +
                        "`; mail signed with it may still be verified.");
    }
    if (!optional.empty()) {
        notes.push_back("DMARC p=none only asks receivers for reports; tighten it once they show all mail aligned.");
    }
    if (!with_notes) notes.clear();
    if (!notes.empty()) out += "\n";
    for (const std::string& note : notes) {
        const auto lines = wrap_text(note, width > 2 ? width - 2 : width);
        for (std::size_t i = 0; i < lines.size(); ++i) out += (i == 0 ? "* " : "  ") + lines[i] + "\n";
    }
    return out;
}

std::string render_records_zone(const TenantDns& tenant, const std::vector<DnsRecord>& records) {
    std::string out = "; DNS records for tenant " + tenant.tenant + " (tenantmailctl dns records)\n";
    auto section = [&](const std::vector<const DnsRecord*>& rows, std::string_view title) {
        if (rows.empty()) return;
        out += "\n; " + std::string(title) + "\n";
        for (const DnsRecord* record : rows) out += "; " + record->purpose + "\n" + zone_line(*record);
    };
    section(pick(records, Delegation::cname, RecordSide::tenant), "A. CNAME delegation: the tenant's zone");
    section(pick(records, Delegation::cname, RecordSide::platform), "A. CNAME delegation: the platform's zone");
    section(pick(records, Delegation::direct, RecordSide::tenant), "B. Direct records: the tenant's zone");
    section(pick_both(records, true), "With A or B: the tenant's zone");
    section(pick_both(records, false), "Optional, with A or B: the tenant's zone");
    return out;
}

std::string render_records_json(const TenantDns& tenant, const std::vector<DnsRecord>& records) {
    nlohmann::json out;
    out["tenant"] = tenant.tenant;
    out["domains"] = tenant.domains;
    out["bounce_domain"] = tenant.bounce_domain;
    nlohmann::json keys = nlohmann::json::array();
    for (const PublishedKey& key : tenant.keys) {
        keys.push_back({{"selector", key.selector},
                        {"algorithm", key.algorithm},
                        {"role", to_string(key.role)},
                        {"key_file", key.path}});
    }
    out["keys"] = keys;
    nlohmann::json list = nlohmann::json::array();
    for (const DnsRecord& record : records) {
        list.push_back({{"delegation", to_string(record.delegation)},
                        {"side", to_string(record.side)},
                        {"name", record.name},
                        {"type", record.type},
                        {"value", record.value},
                        {"purpose", record.purpose},
                        {"required", record.required}});
    }
    out["records"] = list;
    return out.dump(2) + "\n";
}

}  // namespace tenantmail::ctl
