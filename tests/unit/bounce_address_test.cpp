#include "common/base32.h"
#include "common/bounce_address.h"

#include <gtest/gtest.h>

#include <cctype>
#include <random>
#include <vector>

namespace tenantmail {
namespace {

constexpr std::int64_t now = 1795400040;  // a whole minute: version 2 tokens keep minutes
constexpr std::int64_t week = 7 * 86400;
const std::vector<std::string> tenants = {"acme", "beta", "platform"};

BounceAddressCodec codec(const std::string& secret = std::string(32, 's')) {
    auto result = BounceAddressCodec::from_secret(secret);
    EXPECT_TRUE(result.ok());
    return std::move(result).value();
}

TEST(Base32, RoundTripsRandomBytesOfEveryLength) {
    std::mt19937 rng(7);
    for (size_t length = 0; length < 40; ++length) {
        std::string bytes(length, '\0');
        for (char& c : bytes) c = static_cast<char>(rng());
        const std::string text = base32_encode(bytes);
        EXPECT_EQ(text.find_first_not_of("abcdefghijklmnopqrstuvwxyz234567"), std::string::npos);
        EXPECT_EQ(base32_decode(text), std::optional<std::string>(bytes));
    }
}

TEST(Base32, DecodeAcceptsUppercaseAndRefusesJunkAndImpossibleLengths) {
    EXPECT_EQ(base32_decode("MZXW6"), std::optional<std::string>("foo"));
    EXPECT_FALSE(base32_decode("mzxw1").has_value());
    EXPECT_FALSE(base32_decode("m").has_value());
    EXPECT_FALSE(base32_decode("mzx").has_value());
    EXPECT_FALSE(base32_decode("mzxw7").has_value());  // non-zero leftover bits
}

TEST(BounceAddress, RefusesShortSecret) { EXPECT_FALSE(BounceAddressCodec::from_secret("short").ok()); }

TEST(BounceAddress, RoundTripsQueueIdAndTime) {
    const auto c = codec();
    const auto address = c.encode({"4Fz0lT1Xbnz9sgpQ", now, "beta"}, "mta.careers.uni.example");
    ASSERT_TRUE(address.ok()) << address.error();
    const auto decoded = c.decode(*address, now + 60, week, tenants);
    ASSERT_TRUE(decoded.ok()) << decoded.error();
    EXPECT_EQ(decoded->queue_id, "4Fz0lT1Xbnz9sgpQ");
    EXPECT_EQ(decoded->sent_at, now);
    EXPECT_EQ(decoded->tenant, "beta");
    // Seconds within the minute are not kept.
    EXPECT_EQ(c.decode(*c.encode({"Q1", now + 59, "acme"}, "b.example"), now + 60, week, tenants)->sent_at, now);
}

TEST(BounceAddress, TenantIsBoundOnASharedBounceDomain) {
    const auto c = codec();
    const std::string address = *c.encode({"Q1", now, "acme"}, "bounces.platform.example");
    // Without the tenant among the candidates the token is worthless...
    EXPECT_FALSE(c.decode(address, now, week, {"beta", "platform"}).ok());
    // ...and no other tenant's id makes it verify.
    std::vector<std::string> many;
    for (int i = 0; i < 5000; ++i) many.push_back("t" + std::to_string(i));
    EXPECT_FALSE(c.decode(address, now, week, many).ok());
    many.push_back("acme");
    const auto decoded = c.decode(address, now, week, many);
    ASSERT_TRUE(decoded.ok()) << decoded.error();
    EXPECT_EQ(decoded->tenant, "acme");
    EXPECT_FALSE(c.encode({"Q1", now, ""}, "b.example").ok());
}

TEST(BounceAddress, VersionOneTokensStillDecodeWithoutTenant) {
    const auto c = codec();
    const std::string address = *c.encode_v1({"QOLD1", now - 3600 - 7, ""}, "mta.acme.example");
    const auto decoded = c.decode(address, now, week, tenants);
    ASSERT_TRUE(decoded.ok()) << decoded.error();
    EXPECT_EQ(decoded->tenant, "");
    EXPECT_EQ(decoded->queue_id, "QOLD1");
    EXPECT_EQ(decoded->sent_at, now - 3600 - 7);
    EXPECT_FALSE(c.decode(address, now + week, week, tenants).ok());
    std::string moved = address;
    moved.replace(moved.find('@') + 1, std::string::npos, "mta.beta.example");
    EXPECT_FALSE(c.decode(moved, now, week, tenants).ok());
}

TEST(BounceAddress, LocalPartFitsSixtyFourOctetsForLongestQueueId) {
    const std::string longest_tenant(63, 'x');  // tenant ids have at most 63 characters
    const auto address =
        codec().encode({std::string(BounceAddressCodec::max_queue_id_length, 'Q'), now, longest_tenant}, "b.example");
    ASSERT_TRUE(address.ok());
    EXPECT_LE(address->find('@'), 64u);
    EXPECT_FALSE(codec().encode({std::string(BounceAddressCodec::max_queue_id_length + 1, 'Q'), now, "acme"},
                                "b.example").ok());
    EXPECT_FALSE(codec().encode({"", now, "acme"}, "b.example").ok());
}

TEST(BounceAddress, SurvivesCaseFoldingOfTheWholeAddress) {
    const auto c = codec();
    std::string address = *c.encode({"ABCdef123", now, "acme"}, "Mta.Example");
    for (char& ch : address) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    const auto decoded = c.decode(address, now, week, tenants);
    ASSERT_TRUE(decoded.ok()) << decoded.error();
    EXPECT_EQ(decoded->queue_id, "ABCdef123");
}

TEST(BounceAddress, RefusesTokenFromAnotherSecret) {
    const auto address = *codec(std::string(32, 'a')).encode({"Q1", now, "acme"}, "b.example");
    EXPECT_FALSE(codec(std::string(32, 'b')).decode(address, now, week, tenants).ok());
}

TEST(BounceAddress, RefusesTokenMovedToAnotherBounceDomain) {
    const auto c = codec();
    std::string address = *c.encode({"Q1", now, "acme"}, "mta.tenant-a.example");
    address.replace(address.find('@') + 1, std::string::npos, "mta.tenant-b.example");
    const auto decoded = c.decode(address, now, week, tenants);
    ASSERT_FALSE(decoded.ok());
    EXPECT_NE(decoded.error().find("signature"), std::string::npos);
}

TEST(BounceAddress, RefusesEveryAlteredCharacter) {
    const auto c = codec();
    const std::string address = *c.encode({"Q12345", now, "acme"}, "b.example");
    const size_t at = address.find('@');
    for (size_t i = BounceAddressCodec::local_prefix.size(); i < at; ++i) {
        std::string altered = address;
        altered[i] = altered[i] == 'a' ? 'b' : 'a';
        EXPECT_FALSE(c.decode(altered, now, week, tenants).ok()) << altered;
    }
}

TEST(BounceAddress, RefusesExpiredAndFutureTokens) {
    const auto c = codec();
    const std::string address = *c.encode({"Q1", now, "acme"}, "b.example");
    EXPECT_TRUE(c.decode(address, now + week, week, tenants).ok());
    const auto expired = c.decode(address, now + week + 1, week, tenants);
    ASSERT_FALSE(expired.ok());
    EXPECT_NE(expired.error().find("expired"), std::string::npos);
    EXPECT_FALSE(c.decode(address, now - 3600, week, tenants).ok());
}

TEST(BounceAddress, RefusesHostileAddressesWithoutCrashing) {
    const auto c = codec();
    const std::vector<std::string> hostile = {"", "@", "bounces+@b.example", "bounces+", "user@b.example", "bounces+!!!@b",
                                  "bounces+aaaa@b", std::string("bounces+") + std::string(5000, 'a') + "@b",
                                  std::string("bounces+\0a", 10) + "@b"};
    for (const std::string& bad : hostile) {
        EXPECT_FALSE(c.decode(bad, now, week, tenants).ok()) << bad;
    }
}

}  // namespace
}  // namespace tenantmail
