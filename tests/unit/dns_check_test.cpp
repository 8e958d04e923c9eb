// dns check over a table-driven resolver: which lines pass, fail or are
// merely absent, and when the whole check is green.
#include "tenantmailctl/dns_check.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "tenantmailctl/dns_check_report.h"
#include "tests/unit/dns_fake_resolver.h"

namespace tenantmail::ctl {
namespace {

using tenantmail::testing::FakeResolver;

const std::string kKey = base64_encode("the tenant's public key, DER in real life");
const std::string kOtherKey = base64_encode("some other key entirely");

DnsSettings platform() {
    DnsSettings settings;
    settings.platform_mail_host = "mail.p.example";
    settings.spf_include = "_spf.p.example";
    settings.bounce_mx = "mx.p.example";
    settings.dkim_key_zone = "dkim.p.example";
    return settings;
}

PublishedKey key(const std::string& selector, KeyRole role = KeyRole::active) {
    PublishedKey k;
    k.selector = selector;
    k.algorithm = "rsa";
    k.public_key = *base64_decode(selector == "next" ? kOtherKey : kKey);
    k.txt_value = "v=DKIM1; k=rsa; p=" + base64_encode(k.public_key);
    k.path = "/keys/acme." + selector + ".pem";
    k.role = role;
    return k;
}

TenantDns acme() {
    TenantDns tenant;
    tenant.tenant = "acme";
    tenant.domains = {"t.example"};
    tenant.bounce_domain = "b.t.example";
    tenant.keys = {key("s1")};
    return tenant;
}

// The platform's side, as CNAME delegation needs it.
FakeResolver with_platform() {
    FakeResolver dns;
    dns.mx("mail.p.example", 10, "mx.p.example").txt("mail.p.example", "v=spf1 include:_spf.p.example -all");
    dns.txt("_spf.p.example", "v=spf1 ip4:192.0.2.0/24 -all");
    dns.txt("s1.acme.dkim.p.example", "v=DKIM1; k=rsa; p=" + kKey);
    return dns;
}

const CheckLine& line(const std::vector<CheckLine>& lines, std::string_view check) {
    for (const CheckLine& l : lines) {
        if (l.check == check) return l;
    }
    static const CheckLine none;
    ADD_FAILURE() << "no " << check << " line";
    return none;
}

TEST(DnsCheck, CnameDelegationIsGreen) {
    FakeResolver dns = with_platform();
    dns.cname("s1._domainkey.t.example", "s1.acme.dkim.p.example").cname("b.t.example", "mail.p.example");
    auto lines = check_tenant_dns(dns, acme(), platform());
    ASSERT_TRUE(lines) << lines.error();
    ASSERT_EQ(lines->size(), 4u);
    EXPECT_TRUE(all_green(*lines)) << render_check_text({"acme", "fake"}, *lines, false);
    EXPECT_EQ(line(*lines, "DKIM").via, (std::vector<std::string>{"s1.acme.dkim.p.example"}));
    EXPECT_EQ(line(*lines, "DMARC").status, CheckStatus::absent);
}

TenantDns tracked() {
    TenantDns tenant = acme();
    tenant.tracking_domain = "click.t.example";
    return tenant;
}

DnsSettings with_tracking_target() {
    DnsSettings settings = platform();
    settings.tracking_target = "track.p.example";
    return settings;
}

FakeResolver delegated() {
    FakeResolver dns = with_platform();
    dns.cname("s1._domainkey.t.example", "s1.acme.dkim.p.example").cname("b.t.example", "mail.p.example");
    return dns;
}

TEST(DnsCheck, TrackingCnameToTheTargetIsGreen) {
    FakeResolver dns = delegated();
    dns.cname("click.t.example", "track.p.example").a("track.p.example", "192.0.2.80");
    auto lines = check_tenant_dns(dns, tracked(), with_tracking_target());
    ASSERT_TRUE(lines) << lines.error();
    EXPECT_EQ(lines->size(), 5u);
    EXPECT_EQ(line(*lines, "Track").status, CheckStatus::pass);
    EXPECT_EQ(line(*lines, "Track").found, "CNAME track.p.example");
    EXPECT_TRUE(all_green(*lines)) << render_check_text({"acme", "fake"}, *lines, false);
}

TEST(DnsCheck, TrackingCnameComparesCaseInsensitiveAndIgnoresTheTrailingDot) {
    FakeResolver dns = delegated();
    dns.cname("click.t.example", "Track.P.Example.");
    auto lines = check_tenant_dns(dns, tracked(), with_tracking_target());
    ASSERT_TRUE(lines) << lines.error();
    EXPECT_EQ(line(*lines, "Track").status, CheckStatus::pass) << line(*lines, "Track").found;
}

TEST(DnsCheck, TrackingCnameElsewhereIsRedSayingWhereItPoints) {
    FakeResolver dns = delegated();
    dns.cname("click.t.example", "track.other.example");
    auto lines = check_tenant_dns(dns, tracked(), with_tracking_target());
    ASSERT_TRUE(lines) << lines.error();
    const CheckLine& track = line(*lines, "Track");
    EXPECT_EQ(track.status, CheckStatus::fail);
    EXPECT_EQ(track.found, "CNAME track.other.example: not the platform's track.p.example");
    EXPECT_EQ(track.expected, "CNAME track.p.example");
    EXPECT_FALSE(all_green(*lines));
}

TEST(DnsCheck, TrackingDomainWithAnARecordOrNothingIsRed) {
    FakeResolver with_a = delegated();
    with_a.a("click.t.example", "192.0.2.80");
    auto lines = check_tenant_dns(with_a, tracked(), with_tracking_target());
    ASSERT_TRUE(lines) << lines.error();
    EXPECT_EQ(line(*lines, "Track").status, CheckStatus::fail);
    EXPECT_EQ(line(*lines, "Track").found, "no CNAME; A 192.0.2.80 instead");

    FakeResolver missing = delegated();
    lines = check_tenant_dns(missing, tracked(), with_tracking_target());
    ASSERT_TRUE(lines) << lines.error();
    EXPECT_EQ(line(*lines, "Track").status, CheckStatus::fail);
    EXPECT_EQ(line(*lines, "Track").found, "not found (NXDOMAIN)");
}

TEST(DnsCheck, TrackingWithoutTargetSettingIsNotCheckedAndNotRequired) {
    FakeResolver dns = delegated();
    auto lines = check_tenant_dns(dns, tracked(), platform());
    ASSERT_TRUE(lines) << lines.error();
    const CheckLine& track = line(*lines, "Track");
    EXPECT_EQ(track.status, CheckStatus::absent);
    EXPECT_FALSE(track.required);
    EXPECT_NE(track.found.find("dns.tracking_target"), std::string::npos) << track.found;
    EXPECT_TRUE(all_green(*lines));
}

TEST(DnsCheck, DirectRecordsAreGreen) {
    FakeResolver dns;
    dns.txt("s1._domainkey.t.example", "v=DKIM1; k=rsa; p=" + kKey);
    dns.txt("b.t.example", "v=spf1 include:_spf.p.example -all").mx("b.t.example", 10, "mx.p.example");
    dns.txt("_spf.p.example", "v=spf1 ip4:192.0.2.0/24 -all");
    dns.txt("_dmarc.t.example", "v=DMARC1; p=none; rua=mailto:d@p.example");
    auto lines = check_tenant_dns(dns, acme(), platform());
    ASSERT_TRUE(lines) << lines.error();
    EXPECT_TRUE(all_green(*lines));
    EXPECT_EQ(line(*lines, "DMARC").status, CheckStatus::pass);
}

TEST(DnsCheck, MissingOrWrongDkimIsRed) {
    FakeResolver missing = with_platform();
    auto lines = check_tenant_dns(missing, acme(), platform());
    ASSERT_TRUE(lines);
    EXPECT_EQ(line(*lines, "DKIM").status, CheckStatus::fail);
    EXPECT_EQ(line(*lines, "DKIM").found, "no such name (NXDOMAIN)");
    EXPECT_FALSE(all_green(*lines));

    FakeResolver other = with_platform();
    other.txt("s1._domainkey.t.example", "v=DKIM1; k=rsa; p=" + kOtherKey);
    lines = check_tenant_dns(other, acme(), platform());
    ASSERT_TRUE(lines);
    EXPECT_EQ(line(*lines, "DKIM").found.rfind("a different key", 0), 0u) << line(*lines, "DKIM").found;

    FakeResolver ed = with_platform();
    ed.txt("s1._domainkey.t.example", "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
    lines = check_tenant_dns(ed, acme(), platform());
    ASSERT_TRUE(lines);
    EXPECT_EQ(line(*lines, "DKIM").found, "k=ed25519 key; the key on disk is rsa");
}

TEST(DnsCheck, BounceDomainWithoutThePlatformMxIsRed) {
    FakeResolver dns = with_platform();
    dns.cname("s1._domainkey.t.example", "s1.acme.dkim.p.example");
    dns.txt("b.t.example", "v=spf1 include:_spf.p.example -all").mx("b.t.example", 10, "mail.t.example");
    auto lines = check_tenant_dns(dns, acme(), platform());
    ASSERT_TRUE(lines);
    EXPECT_EQ(line(*lines, "SPF").status, CheckStatus::pass);
    EXPECT_EQ(line(*lines, "MX").status, CheckStatus::fail);
    EXPECT_EQ(line(*lines, "MX").found, "MX 10 mail.t.example: not the platform's mx.p.example");
}

TEST(DnsCheck, MalformedDmarcIsRedButMissingDmarcIsNot) {
    FakeResolver dns = with_platform();
    dns.cname("s1._domainkey.t.example", "s1.acme.dkim.p.example").cname("b.t.example", "mail.p.example");
    dns.txt("_dmarc.t.example", "v=DMARC1; p=maybe");
    auto lines = check_tenant_dns(dns, acme(), platform());
    ASSERT_TRUE(lines);
    EXPECT_EQ(line(*lines, "DMARC").status, CheckStatus::fail);
    EXPECT_FALSE(all_green(*lines));
}

TEST(DnsCheck, APendingKeyNotYetPublishedIsNotAFailure) {
    FakeResolver dns = with_platform();
    dns.cname("s1._domainkey.t.example", "s1.acme.dkim.p.example").cname("b.t.example", "mail.p.example");
    TenantDns tenant = acme();
    tenant.keys.push_back(key("next", KeyRole::pending));
    auto lines = check_tenant_dns(dns, tenant, platform());
    ASSERT_TRUE(lines);
    EXPECT_TRUE(all_green(*lines));
    EXPECT_FALSE(selector_published(*lines, "next"));

    dns.txt("next._domainkey.t.example", "v=DKIM1; k=rsa; p=" + kOtherKey);
    lines = check_tenant_dns(dns, tenant, platform());
    ASSERT_TRUE(lines);
    EXPECT_TRUE(selector_published(*lines, "next"));
    EXPECT_TRUE(selector_published(*lines, "s1"));
}

TEST(DnsCheck, KeyPublishedNeedsTheSameKeyOnEverySigningDomain) {
    TenantDns tenant = acme();
    tenant.domains = {"t.example", "u.example"};
    const PublishedKey next = key("next", KeyRole::pending);
    FakeResolver dns;
    dns.txt("next._domainkey.t.example", "v=DKIM1; k=rsa; p=" + kOtherKey);
    auto lines = check_key_published(dns, tenant, next, platform());
    ASSERT_TRUE(lines) << lines.error();
    ASSERT_EQ(lines->size(), 2u);  // DKIM lines of this key only, one per domain
    EXPECT_FALSE(selector_published(*lines, "next")) << "u.example does not publish it";

    dns.txt("next._domainkey.u.example", "v=DKIM1; k=rsa; p=" + kKey);
    lines = check_key_published(dns, tenant, next, platform());
    ASSERT_TRUE(lines);
    EXPECT_FALSE(selector_published(*lines, "next")) << "u.example publishes another key";
    EXPECT_EQ((*lines)[1].found.rfind("a different key", 0), 0u) << (*lines)[1].found;

    FakeResolver both;
    both.txt("next._domainkey.t.example", "v=DKIM1; k=rsa; p=" + kOtherKey);
    both.cname("next._domainkey.u.example", "next.acme.dkim.p.example");
    both.txt("next.acme.dkim.p.example", "v=DKIM1; k=rsa; p=" + kOtherKey);
    lines = check_key_published(both, tenant, next, platform());
    ASSERT_TRUE(lines);
    EXPECT_TRUE(selector_published(*lines, "next"));
}

TEST(DnsCheck, ResolverFailureStopsTheCheck) {
    FakeResolver dns;
    dns.unreachable = true;
    EXPECT_FALSE(check_tenant_dns(dns, acme(), platform()));
}

TEST(DnsCheckReport, OneLinePerRecordWithMarksAndColourOnlyWhenAsked) {
    FakeResolver dns = with_platform();
    dns.cname("b.t.example", "mail.p.example");
    auto lines = check_tenant_dns(dns, acme(), platform());
    ASSERT_TRUE(lines);
    const std::string plain = render_check_text({"acme", "127.0.0.1:53"}, *lines, false);
    EXPECT_NE(plain.find("✗ DKIM  s1._domainkey.t.example  no such name (NXDOMAIN); expected TXT v=DKIM1; k=rsa;"),
              std::string::npos)
        << plain;
    EXPECT_NE(plain.find("✓ MX    b.t.example"), std::string::npos) << plain;
    EXPECT_NE(plain.find("– DMARC _dmarc.t.example"), std::string::npos) << plain;
    EXPECT_EQ(plain.find("\033["), std::string::npos);
    const std::string coloured = render_check_text({"acme", "127.0.0.1:53"}, *lines, true);
    EXPECT_NE(coloured.find("\033[31m✗\033[0m"), std::string::npos);
    EXPECT_NE(coloured.find("\033[32m✓\033[0m"), std::string::npos);
}

TEST(DnsCheckReport, JsonCarriesStatusFoundAndExpected) {
    FakeResolver dns = with_platform();
    dns.cname("b.t.example", "mail.p.example");
    auto lines = check_tenant_dns(dns, acme(), platform());
    ASSERT_TRUE(lines);
    const auto json = nlohmann::json::parse(render_check_json({"acme", "r"}, *lines, {"a note"}));
    EXPECT_EQ(json["ok"], false);
    EXPECT_EQ(json["checks"][0]["check"], "DKIM");
    EXPECT_EQ(json["checks"][0]["status"], "fail");
    EXPECT_EQ(json["checks"][0]["required"], true);
    EXPECT_EQ(json["checks"][1]["via"][0], "mail.p.example");
    EXPECT_EQ(json["notes"][0], "a note");
}

}  // namespace
}  // namespace tenantmail::ctl
