// Following CNAMEs over a DnsResolver, as the onboarding checks do.
#include "common/dns_lookup.h"

#include <gtest/gtest.h>

#include "tests/unit/dns_fake_resolver.h"

namespace tenantmail {
namespace {

using testing::FakeResolver;

TEST(DnsLookup, FindsRecordsAtTheName) {
    FakeResolver dns;
    dns.txt("a.example", "hello");
    auto found = lookup(dns, "A.Example.", DnsType::txt);
    ASSERT_TRUE(found) << found.error();
    EXPECT_EQ(found->status, DnsLookup::Status::found);
    ASSERT_EQ(found->records.size(), 1u);
    EXPECT_EQ(found->records[0].data, "hello");
    EXPECT_TRUE(found->cnames.empty());
}

TEST(DnsLookup, FollowsACnameChainOneQueryPerLinkLikeAnAuthoritativeServer) {
    FakeResolver dns;
    dns.cname("s._domainkey.t.example", "s.acme.dkim.p.example").cname("s.acme.dkim.p.example", "k.p.example");
    dns.txt("k.p.example", "v=DKIM1; p=AAAA");
    auto found = lookup(dns, "s._domainkey.t.example", DnsType::txt);
    ASSERT_TRUE(found) << found.error();
    EXPECT_EQ(found->status, DnsLookup::Status::found);
    EXPECT_EQ(found->cnames, (std::vector<std::string>{"s.acme.dkim.p.example", "k.p.example"}));
    EXPECT_EQ(found->final_name, "k.p.example");
    EXPECT_EQ(dns.queries, 3);
}

TEST(DnsLookup, UsesTheWholeChainWhenTheResolverSendsIt) {
    FakeResolver dns;
    dns.chase_cnames = true;
    dns.cname("a.example", "b.example").cname("b.example", "c.example").txt("c.example", "x");
    auto found = lookup(dns, "a.example", DnsType::txt);
    ASSERT_TRUE(found) << found.error();
    EXPECT_EQ(found->status, DnsLookup::Status::found);
    EXPECT_EQ(found->cnames.size(), 2u);
    EXPECT_EQ(dns.queries, 1);
}

TEST(DnsLookup, ReportsNxdomainAtTheEndOfAChain) {
    FakeResolver dns;
    dns.cname("a.example", "gone.example");
    auto found = lookup(dns, "a.example", DnsType::txt);
    ASSERT_TRUE(found) << found.error();
    EXPECT_EQ(found->status, DnsLookup::Status::nxdomain);
    EXPECT_EQ(found->final_name, "gone.example");
    EXPECT_EQ(describe_absence(*found, DnsType::txt), "no such name (NXDOMAIN)");
}

TEST(DnsLookup, NoDataWhenTheNameHoldsOtherTypes) {
    FakeResolver dns;
    dns.mx("a.example", 10, "mx.example");
    auto found = lookup(dns, "a.example", DnsType::txt);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->status, DnsLookup::Status::nodata);
    EXPECT_EQ(describe_absence(*found, DnsType::txt), "no TXT record");
}

TEST(DnsLookup, StopsAtACnameLoop) {
    FakeResolver dns;
    dns.cname("a.example", "b.example").cname("b.example", "a.example");
    auto found = lookup(dns, "a.example", DnsType::txt);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->status, DnsLookup::Status::failed);
    EXPECT_NE(found->failure.find("loop"), std::string::npos);
}

TEST(DnsLookup, StopsAtAnOverlongChain) {
    FakeResolver dns;
    for (int i = 0; i < 12; ++i)
        dns.cname("n" + std::to_string(i) + ".example", "n" + std::to_string(i + 1) + ".example");
    auto found = lookup(dns, "n0.example", DnsType::txt);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->status, DnsLookup::Status::failed);
    EXPECT_NE(found->failure.find("longer than"), std::string::npos);
}

TEST(DnsLookup, ServfailIsAnAnswerNotAnError) {
    FakeResolver dns;
    dns.servfail("broken.example");
    auto found = lookup(dns, "broken.example", DnsType::txt);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->status, DnsLookup::Status::failed);
    EXPECT_EQ(describe_absence(*found, DnsType::txt), "lookup failed: SERVFAIL for broken.example");
}

TEST(DnsLookup, AnUnreachableResolverIsAnError) {
    FakeResolver dns;
    dns.unreachable = true;
    EXPECT_FALSE(lookup(dns, "a.example", DnsType::txt));
}

}  // namespace
}  // namespace tenantmail
