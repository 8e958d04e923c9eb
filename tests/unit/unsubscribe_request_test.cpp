// unsubscribe_request_test.cpp — what mail to unsubscribe+TOKEN@<bounce
// domain> may do: suppress the token's recipient for the token's tenant, only
// with a genuine unsubscribe token at a bounce domain that tenant uses.
#include "bounce/unsubscribe_request.h"

#include <gtest/gtest.h>

#include <string>

#include "common/unsubscribe_address.h"

namespace tenantmail::bounce {
namespace {

constexpr std::int64_t kIssued = 1795400047;

const std::string kTenants =
    "[platform]\n"
    "domains = platform.example\n"
    "selector = s1\n"
    "key = /etc/tenantmail/keys/platform.pem\n"
    "bounce_domain = bounces.platform.example\n"
    "\n"
    "[acme]\n"
    "domains = acme.example\n"
    "from_rewrite = acme@platform.example\n"
    "bounce_domain = mta.acme.example\n"
    "\n"
    "[beta]\n"
    "domains = beta.example\n"
    "from_rewrite = beta@platform.example\n"
    "bounce_domain = mta.beta.example\n"
    "\n"
    "[gamma]\n"
    "domains = gamma.example\n"
    "from_rewrite = gamma@platform.example\n";

class UnsubscribeRequestTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto codec = TrackingTokenCodec::from_secret(std::string(32, 's'));
        ASSERT_TRUE(codec.ok()) << codec.error();
        codec_.emplace(std::move(codec).value());
        auto registry = TenantRegistry::parse(kTenants, "tenants.conf");
        ASSERT_TRUE(registry.ok()) << registry.error();
        registry_ = std::move(registry).value();
    }

    std::string token(TrackingLinkKind kind, const std::string& tenant, const std::string& recipient,
                      const TrackingTokenCodec* with = nullptr) const {
        auto made = (with ? *with : *codec_).encode({kind, tenant, "QID1", recipient, "", kIssued});
        EXPECT_TRUE(made.ok()) << made.error();
        return made.ok() ? *made : std::string();
    }

    std::string address(const std::string& tenant, const std::string& domain,
                        TrackingLinkKind kind = TrackingLinkKind::unsubscribe,
                        const std::string& recipient = "Jane@Example.ORG") const {
        return make_unsubscribe_address(token(kind, tenant, recipient), domain);
    }

    Result<UnsubscribeRequest> request(const std::string& address) const {
        return unsubscribe_request(address, *codec_, registry_);
    }

    std::optional<TrackingTokenCodec> codec_;
    TenantRegistry registry_;
};

TEST_F(UnsubscribeRequestTest, GenuineTokenAtTheTenantsBounceDomainSuppressesItsNormalisedRecipient) {
    auto accepted = request(address("acme", "mta.acme.example"));
    ASSERT_TRUE(accepted.ok()) << accepted.error();
    EXPECT_EQ(accepted->tenant, "acme");
    EXPECT_EQ(accepted->recipient, "jane@example.org");
    EXPECT_EQ(accepted->queue_id, "QID1");
    EXPECT_EQ(accepted->issued_at, kIssued);
}

TEST_F(UnsubscribeRequestTest, DomainCaseAndPrefixCaseDoNotMatterButTokenCaseDoes) {
    const std::string t = token(TrackingLinkKind::unsubscribe, "acme", "jane@example.org");
    EXPECT_TRUE(request("UnSubscribe+" + t + "@MTA.Acme.Example").ok());
    std::string folded = t;
    for (char& c : folded) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    ASSERT_NE(folded, t);
    EXPECT_FALSE(request(make_unsubscribe_address(folded, "mta.acme.example")).ok());
}

TEST_F(UnsubscribeRequestTest, FromRewriteTenantIsAcceptedAtTheSigningTenantsBounceDomainOnly) {
    EXPECT_TRUE(request(address("gamma", "bounces.platform.example")).ok());
    EXPECT_FALSE(request(address("gamma", "mta.acme.example")).ok());
}

TEST_F(UnsubscribeRequestTest, AnotherTenantsTokenOrAnUnknownTenantIsRefused) {
    auto moved = request(address("beta", "mta.acme.example"));
    ASSERT_FALSE(moved.ok());
    EXPECT_NE(moved.error().find("does not use bounce domain mta.acme.example"), std::string::npos) << moved.error();
    EXPECT_FALSE(request(address("acme", "bounces.platform.example")).ok());
    auto unknown = request(address("zeta", "mta.acme.example"));
    ASSERT_FALSE(unknown.ok());
    EXPECT_NE(unknown.error().find("not in the tenants file"), std::string::npos) << unknown.error();
}

TEST_F(UnsubscribeRequestTest, OpenAndClickTokensAreRefusedNamingTheirKind) {
    auto click = request(address("acme", "mta.acme.example", TrackingLinkKind::click));
    ASSERT_FALSE(click.ok());
    EXPECT_NE(click.error().find("/c/ link"), std::string::npos) << click.error();
    EXPECT_FALSE(request(address("acme", "mta.acme.example", TrackingLinkKind::open)).ok());
}

TEST_F(UnsubscribeRequestTest, TokenWithoutRecipientIsRefused) {
    auto empty = request(address("acme", "mta.acme.example", TrackingLinkKind::unsubscribe, ""));
    ASSERT_FALSE(empty.ok());
    EXPECT_NE(empty.error().find("no recipient"), std::string::npos) << empty.error();
}

TEST_F(UnsubscribeRequestTest, ForgedOrAlteredTokenIsRefused) {
    auto other = TrackingTokenCodec::from_secret(std::string(32, 'x'));
    ASSERT_TRUE(other.ok());
    const std::string forged = token(TrackingLinkKind::unsubscribe, "acme", "jane@example.org", &*other);
    EXPECT_FALSE(request(make_unsubscribe_address(forged, "mta.acme.example")).ok());

    const std::string genuine = token(TrackingLinkKind::unsubscribe, "acme", "jane@example.org");
    for (std::size_t i = 0; i < genuine.size(); i += 7) {
        std::string altered = genuine;
        altered[i] = altered[i] == 'A' ? 'B' : 'A';
        EXPECT_FALSE(request(make_unsubscribe_address(altered, "mta.acme.example")).ok()) << i;
    }
    EXPECT_FALSE(request(make_unsubscribe_address(genuine.substr(0, genuine.size() - 1), "mta.acme.example")).ok());
}

TEST_F(UnsubscribeRequestTest, TypicalTokenMakesALocalPartOverRfc5321sLimit) {
    // Documented in the README: strict relays may refuse these addresses.
    const std::string t = token(TrackingLinkKind::unsubscribe, "acme", "jane.doe@example.org");
    EXPECT_GT(kUnsubscribeLocalPrefix.size() + t.size(), 64u);
    EXPECT_LT(kUnsubscribeLocalPrefix.size() + t.size(), 200u);
}

}  // namespace
}  // namespace tenantmail::bounce
