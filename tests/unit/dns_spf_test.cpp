// SPF: parsing one record, and the static check over a whole include tree
// (exactly one record, the platform's include reached, at most 10 lookups).
#include <gtest/gtest.h>

#include "common/spf_check.h"
#include "common/spf_record.h"
#include "tests/unit/dns_fake_resolver.h"

namespace tenantmail {
namespace {

using testing::FakeResolver;

TEST(SpfRecord, RecognisesVersionOnlyFollowedBySpaceOrEnd) {
    EXPECT_TRUE(is_spf_record("v=spf1 -all"));
    EXPECT_TRUE(is_spf_record("V=SPF1"));
    EXPECT_FALSE(is_spf_record("v=spf10 -all"));
    EXPECT_FALSE(is_spf_record("v=DKIM1; p=x"));
}

TEST(SpfRecord, ParsesMechanismsQualifiersAndModifiers) {
    auto record = parse_spf_record(
        "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a mx:mx.example/24 "
        "include:_spf.p.example ~all exp=why.example");
    ASSERT_TRUE(record) << record.error();
    ASSERT_EQ(record->terms.size(), 7u);
    EXPECT_EQ(record->terms[4].name, "include");
    EXPECT_EQ(record->terms[4].domain, "_spf.p.example");
    EXPECT_EQ(record->terms[3].domain, "mx.example");
    EXPECT_EQ(record->terms[5].qualifier, '~');
    EXPECT_EQ(record->terms[6].kind, SpfTerm::Kind::modifier);
    ASSERT_NE(record->all(), nullptr);
    EXPECT_EQ(record->redirect(), nullptr);
}

TEST(SpfRecord, CountsOnlyDnsQueryingTerms) {
    auto record = parse_spf_record("v=spf1 ip4:192.0.2.1 a mx ptr exists:%{i}.x.example include:a.example all");
    ASSERT_TRUE(record) << record.error();
    int lookups = 0;
    for (const SpfTerm& term : record->terms) lookups += term.needs_dns_lookup() ? 1 : 0;
    EXPECT_EQ(lookups, 5);
    EXPECT_TRUE(record->terms[4].has_macro());
}

TEST(SpfRecord, RefusesWhatReceiversAnswerWithPermerror) {
    EXPECT_FALSE(parse_spf_record("v=spf1 include -all"));           // include needs a domain
    EXPECT_FALSE(parse_spf_record("v=spf1 ip4:300.1.1.1 -all"));     // not an address
    EXPECT_FALSE(parse_spf_record("v=spf1 ip4:192.0.2.0/33 -all"));  // prefix too long
    EXPECT_FALSE(parse_spf_record("v=spf1 foo:bar -all"));           // unknown mechanism
    EXPECT_FALSE(parse_spf_record("v=spf1 redirect=a.example redirect=b.example"));
    EXPECT_FALSE(parse_spf_record("v=spf1 all:x"));
    EXPECT_TRUE(parse_spf_record("v=spf1 unknown-modifier=whatever -all"));  // ignored by receivers
}

TEST(SpfCheck, PassesOneRecordIncludingThePlatform) {
    FakeResolver dns;
    dns.txt("b.t.example", "v=spf1 include:_spf.p.example -all").txt("_spf.p.example", "v=spf1 ip4:192.0.2.0/24 -all");
    auto check = check_spf(dns, "b.t.example", "_spf.p.example");
    ASSERT_TRUE(check) << check.error();
    EXPECT_TRUE(check->ok()) << check->problems.front();
    EXPECT_TRUE(check->includes_required);
    EXPECT_EQ(check->dns_lookups, 1u);
}

TEST(SpfCheck, FindsThePlatformIncludeAtAnyDepthAndThroughCnames) {
    FakeResolver dns;
    dns.cname("b.t.example", "mail.p.example");
    dns.txt("mail.p.example", "v=spf1 include:outer.example -all");
    dns.txt("outer.example", "v=spf1 include:_spf.p.example ?all");
    dns.txt("_spf.p.example", "v=spf1 ip4:192.0.2.1 -all");
    auto check = check_spf(dns, "b.t.example", "_spf.p.example");
    ASSERT_TRUE(check);
    EXPECT_TRUE(check->ok());
    EXPECT_EQ(check->cnames, (std::vector<std::string>{"mail.p.example"}));
    EXPECT_EQ(check->dns_lookups, 2u);
}

TEST(SpfCheck, FailsWithoutThePlatformInclude) {
    FakeResolver dns;
    dns.txt("b.t.example", "v=spf1 ip4:198.51.100.1 -all");
    auto check = check_spf(dns, "b.t.example", "_spf.p.example");
    ASSERT_TRUE(check);
    ASSERT_FALSE(check->ok());
    EXPECT_NE(check->problems.front().find("does not include _spf.p.example"), std::string::npos);
}

TEST(SpfCheck, FailsWithTwoRecords) {
    FakeResolver dns;
    dns.txt("b.t.example", "v=spf1 include:_spf.p.example -all").txt("b.t.example", "v=spf1 mx -all");
    dns.txt("b.t.example", "google-site-verification=abc");  // not SPF: ignored
    auto check = check_spf(dns, "b.t.example", "_spf.p.example");
    ASSERT_TRUE(check);
    ASSERT_EQ(check->problems.size(), 1u);
    EXPECT_EQ(check->records.size(), 2u);
    EXPECT_NE(check->problems.front().find("2 SPF records"), std::string::npos);
}

TEST(SpfCheck, FailsWithoutAnyRecord) {
    FakeResolver dns;
    auto check = check_spf(dns, "b.t.example", "_spf.p.example");
    ASSERT_TRUE(check);
    ASSERT_FALSE(check->ok());
    EXPECT_NE(check->problems.front().find("no SPF record"), std::string::npos);
}

TEST(SpfCheck, CountsLookupsAcrossTheWholeTree) {
    // 4 at the top, 5 in one.example, 2 in two.example: 11.
    FakeResolver dns;
    dns.txt("b.t.example", "v=spf1 include:one.example include:_spf.p.example a mx -all");
    dns.txt("one.example", "v=spf1 a mx ptr exists:x.example include:two.example -all");
    dns.txt("two.example", "v=spf1 a mx -all");
    dns.txt("_spf.p.example", "v=spf1 ip4:192.0.2.1 -all");
    auto check = check_spf(dns, "b.t.example", "_spf.p.example");
    ASSERT_TRUE(check);
    EXPECT_EQ(check->dns_lookups, 11u);
    ASSERT_EQ(check->problems.size(), 1u);
    EXPECT_NE(check->problems.front().find("11 DNS lookups"), std::string::npos);
}

TEST(SpfCheck, TenLookupsAreStillWithinTheLimit) {
    FakeResolver dns;
    dns.txt("b.t.example",
            "v=spf1 include:_spf.p.example a mx a:a.example a:b.example a:c.example a:d.example "
            "a:e.example a:f.example a:g.example -all");
    dns.txt("_spf.p.example", "v=spf1 ip4:192.0.2.1 -all");
    auto check = check_spf(dns, "b.t.example", "_spf.p.example");
    ASSERT_TRUE(check);
    EXPECT_EQ(check->dns_lookups, 10u);
    EXPECT_TRUE(check->ok());
}

TEST(SpfCheck, FollowsRedirectOnlyWithoutAll) {
    FakeResolver dns;
    dns.txt("b.t.example", "v=spf1 redirect=_spf.p.example");
    dns.txt("_spf.p.example", "v=spf1 ip4:192.0.2.1 -all");
    auto check = check_spf(dns, "b.t.example", "_spf.p.example");
    ASSERT_TRUE(check);
    EXPECT_TRUE(check->ok());
    EXPECT_EQ(check->dns_lookups, 1u);

    FakeResolver ignored;
    ignored.txt("b.t.example", "v=spf1 -all redirect=_spf.p.example");
    auto check2 = check_spf(ignored, "b.t.example", "_spf.p.example");
    ASSERT_TRUE(check2);
    EXPECT_FALSE(check2->includes_required);
    EXPECT_EQ(check2->dns_lookups, 0u);
}

TEST(SpfCheck, ReportsIncludesWithoutRecordsAndLoops) {
    FakeResolver dns;
    dns.txt("b.t.example", "v=spf1 include:_spf.p.example include:missing.example include:loop.example -all");
    dns.txt("_spf.p.example", "v=spf1 ip4:192.0.2.1 -all");
    dns.txt("loop.example", "v=spf1 include:b.t.example -all");
    auto check = check_spf(dns, "b.t.example", "_spf.p.example");
    ASSERT_TRUE(check);
    ASSERT_EQ(check->problems.size(), 2u);
    EXPECT_NE(check->problems[0].find("missing.example"), std::string::npos);
    EXPECT_NE(check->problems[1].find("loops back"), std::string::npos);
}

TEST(SpfCheck, FlagsPlusAll) {
    FakeResolver dns;
    dns.txt("b.t.example", "v=spf1 include:_spf.p.example +all");
    dns.txt("_spf.p.example", "v=spf1 ip4:192.0.2.1 -all");
    auto check = check_spf(dns, "b.t.example", "_spf.p.example");
    ASSERT_TRUE(check);
    ASSERT_FALSE(check->ok());
    EXPECT_NE(check->problems.front().find("every host"), std::string::npos);
}

TEST(SpfCheck, DoesNotFollowMacrosButCountsThem) {
    FakeResolver dns;
    dns.txt("b.t.example", "v=spf1 include:_spf.p.example include:%{d}.x.example -all");
    dns.txt("_spf.p.example", "v=spf1 ip4:192.0.2.1 -all");
    auto check = check_spf(dns, "b.t.example", "_spf.p.example");
    ASSERT_TRUE(check);
    EXPECT_TRUE(check->ok());
    EXPECT_EQ(check->dns_lookups, 2u);
    EXPECT_EQ(check->notes.size(), 1u);
}

TEST(SpfCheck, UnreachableResolverIsAnError) {
    FakeResolver dns;
    dns.unreachable = true;
    EXPECT_FALSE(check_spf(dns, "b.t.example", "_spf.p.example"));
}

}  // namespace
}  // namespace tenantmail
