// Rendering a tenant's records: the admin's table, a zone fragment, JSON.
#include "tenantmailctl/dns_render.h"

#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace tenantmail::ctl {
namespace {

DnsSettings platform() {
    DnsSettings settings;
    settings.platform_mail_host = "mail.platform.example";
    settings.spf_include = "_spf.platform.example";
    settings.bounce_mx = "mx.platform.example";
    settings.dkim_key_zone = "dkim.platform.example";
    settings.dmarc_rua = "mailto:dmarc@platform.example";
    return settings;
}

TenantDns acme() {
    TenantDns tenant;
    tenant.tenant = "acme";
    tenant.domains = {"careers.uni.ac.uk"};
    tenant.bounce_domain = "mta.careers.uni.ac.uk";
    PublishedKey key;
    key.selector = "mailtcex";
    key.algorithm = "rsa";
    // A 2048-bit key's record is about 400 characters: more than one TXT string.
    key.txt_value = "v=DKIM1; k=rsa; p=" + std::string(392, 'A');
    tenant.keys = {key};
    return tenant;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

TEST(DnsRender, WrapTextBreaksAtSpacesAndCutsLongRuns) {
    EXPECT_EQ(wrap_text("v=spf1 include:_spf.p.example -all", 30),
              (std::vector<std::string>{"v=spf1 include:_spf.p.example", "-all"}));
    EXPECT_EQ(wrap_text("abcdefghij", 4), (std::vector<std::string>{"abcd", "efgh", "ij"}));
    EXPECT_EQ(wrap_text("short", 10), (std::vector<std::string>{"short"}));
    EXPECT_EQ(wrap_text("", 10), (std::vector<std::string>{""}));
    EXPECT_EQ(wrap_text("DMARC (optional)", 10), (std::vector<std::string>{"DMARC", "(optional)"}));
}

TEST(DnsRender, TableFitsOneHundredColumnsAndKeepsNamesWhole) {
    const TenantDns tenant = acme();
    const std::string table = render_records_table(tenant, tenant_dns_records(tenant, platform()));
    for (const std::string& line : lines_of(table)) EXPECT_LE(line.size(), 100u) << line;
    // The header row and the CNAME rows as an admin would read them.
    EXPECT_NE(table.find("NAME                                   TYPE   VALUE"), std::string::npos) << table;
    EXPECT_NE(table.find("mailtcex._domainkey.careers.uni.ac.uk  CNAME  mailtcex.acme.dkim.platform.example"),
              std::string::npos)
        << table;
    EXPECT_NE(table.find("mta.careers.uni.ac.uk                  CNAME  mail.platform.example"), std::string::npos);
    EXPECT_NE(table.find("A. CNAME delegation"), std::string::npos);
    EXPECT_NE(table.find("B. Direct records"), std::string::npos);
    EXPECT_NE(table.find("Published by the platform:"), std::string::npos);
    EXPECT_NE(table.find("Optional, with A or B:"), std::string::npos);
}

TEST(DnsRender, TableWrapsALongKeyInsideItsColumn) {
    const TenantDns tenant = acme();
    const std::string table = render_records_table(tenant, tenant_dns_records(tenant, platform()));
    // The key's base64 continues on lines whose name and type columns are empty.
    std::size_t continuation = 0;
    for (const std::string& line : lines_of(table)) {
        if (line.starts_with(std::string(46, ' ') + "AAAA")) ++continuation;
    }
    EXPECT_GE(continuation, 16u) << table;  // two records (A's platform TXT, B's TXT), ~10 lines each
}

TEST(DnsRender, ZoneSplitsTxtIntoStringsOf255) {
    const std::string rdata = zone_txt_rdata(std::string(300, 'x'));
    EXPECT_EQ(rdata, "\"" + std::string(255, 'x') + "\" \"" + std::string(45, 'x') + "\"");
    EXPECT_EQ(zone_txt_rdata("say \"hi\" \\"), "\"say \\\"hi\\\" \\\\\"");
}

TEST(DnsRender, ZoneHasFullyQualifiedNamesAndSections) {
    const TenantDns tenant = acme();
    const std::string zone = render_records_zone(tenant, tenant_dns_records(tenant, platform()));
    EXPECT_NE(zone.find("mailtcex._domainkey.careers.uni.ac.uk.\tIN\tCNAME\tmailtcex.acme.dkim.platform.example.\n"),
              std::string::npos)
        << zone;
    EXPECT_NE(zone.find("mta.careers.uni.ac.uk.\tIN\tMX\t10 mx.platform.example.\n"), std::string::npos);
    EXPECT_NE(
        zone.find("_dmarc.careers.uni.ac.uk.\tIN\tTXT\t\"v=DMARC1; p=none; rua=mailto:dmarc@platform.example\"\n"),
        std::string::npos);
    EXPECT_NE(zone.find("; B. Direct records: the tenant's zone"), std::string::npos);
}

TEST(DnsRender, TrackingCnameIsARequiredRecordWithAOrBNotAnOptionalOne) {
    TenantDns tenant = acme();
    tenant.tracking_domain = "click.careers.uni.ac.uk";
    DnsSettings settings = platform();
    settings.tracking_target = "track.platform.example";
    const auto records = tenant_dns_records(tenant, settings);
    const std::string zone = render_records_zone(tenant, records);
    const std::size_t line = zone.find("click.careers.uni.ac.uk.\tIN\tCNAME\ttrack.platform.example.\n");
    ASSERT_NE(line, std::string::npos) << zone;
    const std::size_t required = zone.find("; With A or B: the tenant's zone");
    const std::size_t optional = zone.find("; Optional, with A or B");
    ASSERT_NE(required, std::string::npos) << zone;
    EXPECT_LT(required, line);
    EXPECT_LT(line, optional);

    const std::string table = render_records_table(tenant, records);
    EXPECT_NE(table.find("  tracking domain: click.careers.uni.ac.uk\n"), std::string::npos) << table;
    const std::size_t table_required = table.find("With A or B, created by the tenant's IT team:");
    const std::size_t table_optional = table.find("Optional, with A or B:");
    const std::size_t table_row = table.find("track.platform.example", table_required);
    ASSERT_NE(table_required, std::string::npos) << table;
    EXPECT_LT(table_row, table_optional) << table;
    EXPECT_NE(table.find("must be a CNAME"), std::string::npos) << table;
}

TEST(DnsRender, JsonListsEveryRecordWithItsRole) {
    const TenantDns tenant = acme();
    const auto records = tenant_dns_records(tenant, platform());
    const auto json = nlohmann::json::parse(render_records_json(tenant, records));
    EXPECT_EQ(json["tenant"], "acme");
    ASSERT_EQ(json["records"].size(), records.size());
    const auto& first = json["records"][0];
    EXPECT_EQ(first["delegation"], "cname");
    EXPECT_EQ(first["side"], "tenant");
    EXPECT_EQ(first["type"], "CNAME");
    EXPECT_EQ(first["required"], true);
    EXPECT_EQ(json["keys"][0]["role"], "active");
}

}  // namespace
}  // namespace tenantmail::ctl
