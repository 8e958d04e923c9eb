// Which records a tenant's onboarding needs, for CNAME delegation and for
// direct records, including the platform's side and rotation keys.
#include "tenantmailctl/dns_records.h"

#include <algorithm>

#include <gtest/gtest.h>

namespace tenantmail::ctl {
namespace {

DnsSettings platform() {
    DnsSettings settings;
    settings.platform_mail_host = "mail.p.example";
    settings.spf_include = "_spf.p.example";
    settings.bounce_mx = "mx.p.example";
    settings.dkim_key_zone = "dkim.p.example";
    settings.dmarc_rua = "mailto:dmarc@p.example";
    return settings;
}

PublishedKey key(std::string selector, KeyRole role = KeyRole::active, std::string algorithm = "rsa") {
    PublishedKey k;
    k.selector = std::move(selector);
    k.algorithm = algorithm;
    k.txt_value = "v=DKIM1; k=" + algorithm + "; p=KEY" + k.selector;
    k.role = role;
    return k;
}

TenantDns acme() {
    TenantDns tenant;
    tenant.tenant = "acme";
    tenant.domains = {"careers.uni.ac.uk"};
    tenant.bounce_domain = "mta.careers.uni.ac.uk";
    tenant.keys = {key("mailtcex")};
    return tenant;
}

const DnsRecord* find(const std::vector<DnsRecord>& records, Delegation delegation, RecordSide side,
                      std::string_view name, std::string_view type) {
    const auto it = std::find_if(records.begin(), records.end(), [&](const DnsRecord& r) {
        return r.delegation == delegation && r.side == side && r.name == name && r.type == type;
    });
    return it == records.end() ? nullptr : &*it;
}

TEST(DnsRecords, CnameDelegationPointsTheTenantsNamesAtThePlatform) {
    const auto records = tenant_dns_records(acme(), platform());
    const DnsRecord* dkim =
        find(records, Delegation::cname, RecordSide::tenant, "mailtcex._domainkey.careers.uni.ac.uk", "CNAME");
    ASSERT_NE(dkim, nullptr);
    EXPECT_EQ(dkim->value, "mailtcex.acme.dkim.p.example");
    EXPECT_TRUE(dkim->required);
    const DnsRecord* bounce = find(records, Delegation::cname, RecordSide::tenant, "mta.careers.uni.ac.uk", "CNAME");
    ASSERT_NE(bounce, nullptr);
    EXPECT_EQ(bounce->value, "mail.p.example");
}

TEST(DnsRecords, ThePlatformHostsTheKeyMxAndSpfForCnameDelegation) {
    const auto records = tenant_dns_records(acme(), platform());
    const DnsRecord* key_txt =
        find(records, Delegation::cname, RecordSide::platform, "mailtcex.acme.dkim.p.example", "TXT");
    ASSERT_NE(key_txt, nullptr);
    EXPECT_EQ(key_txt->value, "v=DKIM1; k=rsa; p=KEYmailtcex");
    const DnsRecord* mx = find(records, Delegation::cname, RecordSide::platform, "mail.p.example", "MX");
    ASSERT_NE(mx, nullptr);
    EXPECT_EQ(mx->value, "10 mx.p.example");
    const DnsRecord* spf = find(records, Delegation::cname, RecordSide::platform, "mail.p.example", "TXT");
    ASSERT_NE(spf, nullptr);
    EXPECT_EQ(spf->value, "v=spf1 include:_spf.p.example -all");
}

TEST(DnsRecords, DirectRecordsPutEverythingInTheTenantsZone) {
    const auto records = tenant_dns_records(acme(), platform());
    const DnsRecord* dkim =
        find(records, Delegation::direct, RecordSide::tenant, "mailtcex._domainkey.careers.uni.ac.uk", "TXT");
    ASSERT_NE(dkim, nullptr);
    EXPECT_EQ(dkim->value, "v=DKIM1; k=rsa; p=KEYmailtcex");
    const DnsRecord* spf = find(records, Delegation::direct, RecordSide::tenant, "mta.careers.uni.ac.uk", "TXT");
    ASSERT_NE(spf, nullptr);
    EXPECT_EQ(spf->value, "v=spf1 include:_spf.p.example -all");
    const DnsRecord* mx = find(records, Delegation::direct, RecordSide::tenant, "mta.careers.uni.ac.uk", "MX");
    ASSERT_NE(mx, nullptr);
    EXPECT_EQ(mx->value, "10 mx.p.example");
    EXPECT_EQ(std::count_if(records.begin(), records.end(),
                            [](const DnsRecord& r) {
                                return r.delegation == Delegation::direct && r.side == RecordSide::platform;
                            }),
              0);
}

TEST(DnsRecords, OffersDmarcAsOptionalNoneWithReports) {
    const auto records = tenant_dns_records(acme(), platform());
    const DnsRecord* dmarc = find(records, Delegation::both, RecordSide::tenant, "_dmarc.careers.uni.ac.uk", "TXT");
    ASSERT_NE(dmarc, nullptr);
    EXPECT_EQ(dmarc->value, "v=DMARC1; p=none; rua=mailto:dmarc@p.example");
    EXPECT_FALSE(dmarc->required);
}

TEST(DnsRecords, EveryDomainAndEveryKeyGetsItsDkimRecords) {
    TenantDns tenant = acme();
    tenant.domains.push_back("uni.example");
    tenant.keys.push_back(key("mailtced", KeyRole::active, "ed25519"));
    const auto records = tenant_dns_records(tenant, platform());
    for (const char* name : {"mailtcex._domainkey.careers.uni.ac.uk", "mailtced._domainkey.careers.uni.ac.uk",
                             "mailtcex._domainkey.uni.example", "mailtced._domainkey.uni.example"}) {
        EXPECT_NE(find(records, Delegation::cname, RecordSide::tenant, name, "CNAME"), nullptr) << name;
        EXPECT_NE(find(records, Delegation::direct, RecordSide::tenant, name, "TXT"), nullptr) << name;
    }
    // One platform-hosted record per key, whatever the number of domains.
    EXPECT_NE(find(records, Delegation::cname, RecordSide::platform, "mailtced.acme.dkim.p.example", "TXT"), nullptr);
    EXPECT_EQ(std::count_if(records.begin(), records.end(),
                            [](const DnsRecord& r) { return r.name == "mailtcex.acme.dkim.p.example"; }),
              1);
}

TEST(DnsRecords, RotationKeysAreListedButNotRequired) {
    TenantDns tenant = acme();
    tenant.keys.push_back(key("tm20250101", KeyRole::pending));
    tenant.keys.push_back(key("old2024", KeyRole::retiring));
    const auto records = tenant_dns_records(tenant, platform());
    const DnsRecord* next =
        find(records, Delegation::direct, RecordSide::tenant, "tm20250101._domainkey.careers.uni.ac.uk", "TXT");
    ASSERT_NE(next, nullptr);
    EXPECT_FALSE(next->required);
    EXPECT_EQ(next->purpose, "next DKIM key (RSA)");
    const DnsRecord* old =
        find(records, Delegation::cname, RecordSide::tenant, "old2024._domainkey.careers.uni.ac.uk", "CNAME");
    ASSERT_NE(old, nullptr);
    EXPECT_EQ(old->purpose, "old DKIM key (RSA)");
}

TEST(DnsRecords, TrackingDomainIsARequiredCnameToTheTrackingTargetEitherWay) {
    TenantDns tenant = acme();
    tenant.tracking_domain = "click.careers.uni.ac.uk";
    DnsSettings settings = platform();
    settings.tracking_target = "track.p.example";
    const auto records = tenant_dns_records(tenant, settings);
    const DnsRecord* tracking =
        find(records, Delegation::both, RecordSide::tenant, "click.careers.uni.ac.uk", "CNAME");
    ASSERT_NE(tracking, nullptr);
    EXPECT_EQ(tracking->value, "track.p.example");
    EXPECT_TRUE(tracking->required);
    EXPECT_EQ(tracking_target_note(tenant, settings), "");
}

TEST(DnsRecords, WithoutTrackingTargetTheCnameIsLeftOutWithANote) {
    TenantDns tenant = acme();
    tenant.tracking_domain = "click.careers.uni.ac.uk";
    const auto records = tenant_dns_records(tenant, platform());
    EXPECT_EQ(find(records, Delegation::both, RecordSide::tenant, "click.careers.uni.ac.uk", "CNAME"), nullptr);
    const std::string note = tracking_target_note(tenant, platform());
    EXPECT_NE(note.find("click.careers.uni.ac.uk"), std::string::npos) << note;
    EXPECT_NE(note.find("dns.tracking_target"), std::string::npos) << note;
}

TEST(DnsRecords, NoTrackingDomainNoTrackingRecordNorNote) {
    DnsSettings settings = platform();
    settings.tracking_target = "track.p.example";
    const auto records = tenant_dns_records(acme(), settings);
    EXPECT_TRUE(std::none_of(records.begin(), records.end(),
                             [](const DnsRecord& r) { return r.value == "track.p.example"; }));
    EXPECT_EQ(tracking_target_note(acme(), platform()), "");
}

TEST(DnsRecords, SettingsSayWhatIsMissing) {
    DnsSettings settings;
    settings.spf_include = "_spf.p.example";
    EXPECT_EQ(settings.missing(),
              (std::vector<std::string>{"dns.platform_mail_host", "dns.bounce_mx", "dns.dkim_key_zone"}));
    EXPECT_TRUE(platform().missing().empty());
}

}  // namespace
}  // namespace tenantmail::ctl
