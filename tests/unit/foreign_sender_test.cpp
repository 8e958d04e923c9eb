// foreign_sender_test.cpp — which sender domains of mail from no tenant claim
// a tenant's identity: tenant domains and bounce domains with their
// subdomains, every address of a From field, unparseable From text, and the
// unrelated domains that must still pass.
#include "milter/foreign_sender.h"

#include <gtest/gtest.h>

namespace tenantmail::milter {
namespace {

constexpr std::string_view kTenants = R"([acme]
domains       = acme.example careers.uni.example
selector      = a1
key           = /nonexistent/acme.pem
bounce_domain = mta.acme.example
sasl_users    = acme-bulk

[beta]
domains       = beta.example
selector      = b1
key           = /nonexistent/beta.pem
bounce_domain = bounce.beta-mail.example
sasl_users    = beta-app

[uni]
domains       = uni.example
sasl_users    = uni-app
from_rewrite  = uni@acme.example
)";

class ForeignSender : public ::testing::Test {
protected:
    void SetUp() override {
        auto parsed = TenantRegistry::parse(kTenants, "tenants.conf");
        ASSERT_TRUE(parsed.ok()) << parsed.error();
        registry_ = std::move(*parsed);
        identities_ = TenantIdentities(registry_);
    }

    std::string from_claim(std::string_view value) const {
        const auto claim = from_field_claim(identities_, value);
        return claim ? claim->tenant + " " + claim->domain : "";
    }
    std::string envelope_claim(std::string_view mail_from) const {
        const auto claim = envelope_sender_claim(identities_, mail_from);
        return claim ? claim->tenant + " " + claim->domain + (claim->bounce_domain ? " bounce" : "") : "";
    }

    TenantRegistry registry_;
    TenantIdentities identities_;
};

TEST_F(ForeignSender, TenantDomainsAndTheirSubdomainsAreClaimed) {
    EXPECT_EQ(from_claim(" ceo@beta.example"), "beta beta.example");
    EXPECT_EQ(from_claim(" \"The CEO\" <ceo@News.BETA.example.>"), "beta beta.example");
    EXPECT_EQ(envelope_claim("x@beta.example"), "beta beta.example");
    EXPECT_EQ(envelope_claim("x@deep.sub.acme.example"), "acme acme.example");
}

TEST_F(ForeignSender, LongestConfiguredDomainNamesTheTenant) {
    EXPECT_EQ(from_claim(" x@careers.uni.example"), "acme careers.uni.example");
    EXPECT_EQ(from_claim(" x@jobs.careers.uni.example"), "acme careers.uni.example");
    EXPECT_EQ(from_claim(" x@library.uni.example"), "uni uni.example");
}

TEST_F(ForeignSender, BounceDomainsAndTheirSubdomainsAreClaimed) {
    EXPECT_EQ(envelope_claim("x@mta.beta.example"), "beta beta.example");  // a subdomain of its domain too
    EXPECT_EQ(envelope_claim("bounces+abc@bounce.beta-mail.example"), "beta bounce.beta-mail.example bounce");
    EXPECT_EQ(envelope_claim("x@a.bounce.beta-mail.example"), "beta bounce.beta-mail.example bounce");
    EXPECT_EQ(envelope_claim("\"odd@local\"@MTA.acme.example"), "acme mta.acme.example bounce");
    EXPECT_EQ(from_claim(" postmaster@bounce.beta-mail.example"), "beta bounce.beta-mail.example");
}

TEST_F(ForeignSender, EveryAddressOfEveryFormCounts) {
    EXPECT_EQ(from_claim(" a@other.example, ceo@beta.example"), "beta beta.example");
    EXPECT_EQ(from_claim(" team: a@other.example, b@uni.example;"), "uni uni.example");
    // Malformed: a receiver may still read the domain, so the text is searched.
    EXPECT_EQ(from_claim(" ceo@beta.example <broken"), "beta beta.example");
    EXPECT_EQ(from_claim(" CEO <ceo@beta.example> (unclosed"), "beta beta.example");
    EXPECT_EQ(from_claim(" x@x..beta.example"), "beta beta.example");
}

TEST_F(ForeignSender, UnrelatedDomainsAndLookalikesAreNotClaimed) {
    EXPECT_EQ(from_claim(" Nobody <nobody@nobody.example>"), "");
    EXPECT_EQ(from_claim(" x@notbeta.example"), "");
    EXPECT_EQ(from_claim(" x@beta.example.evil.example"), "");
    EXPECT_EQ(from_claim(" \"ceo@beta.example\" <x@other.example>"), "");  // a display name is no address
    EXPECT_EQ(from_claim(" undisclosed-recipients:;"), "");
    EXPECT_EQ(envelope_claim(""), "");  // the null sender
    EXPECT_EQ(envelope_claim("x@example"), "");
    EXPECT_EQ(envelope_claim("postmaster"), "");
}

TEST_F(ForeignSender, RefusalIs550And571NamingTheDomainNotTheTenant) {
    const auto claim = from_field_claim(identities_, " ceo@beta.example");
    ASSERT_TRUE(claim.has_value());
    const SmtpReply reply = foreign_sender_refusal(*claim, "From");
    EXPECT_EQ(reply.rcode + " " + reply.xcode, "550 5.7.1");
    EXPECT_NE(reply.text.find("beta.example"), std::string::npos);
    EXPECT_EQ(reply.text.find("beta "), std::string::npos) << reply.text;
}

TEST(TenantIdentities, EmptyRegistryClaimsNothing) {
    const TenantIdentities none;
    EXPECT_FALSE(none.claim("beta.example").has_value());
    EXPECT_FALSE(from_field_claim(none, " x@beta.example").has_value());
}

}  // namespace
}  // namespace tenantmail::milter
