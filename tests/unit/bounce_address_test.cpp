#include "common/base32.h"
#include "common/bounce_address.h"

#include <gtest/gtest.h>

#include <cctype>
#include <random>
#include <vector>

namespace tenantmail {
namespace {

constexpr std::int64_t now = 1795400000;
constexpr std::int64_t week = 7 * 86400;

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
    const auto address = c.encode({"4Fz0lT1Xbnz9sgpQ", now}, "mta.careers.uni.example");
    ASSERT_TRUE(address.ok()) << address.error();
    const auto decoded = c.decode(*address, now + 60, week);
    ASSERT_TRUE(decoded.ok()) << decoded.error();
    EXPECT_EQ(decoded->queue_id, "4Fz0lT1Xbnz9sgpQ");
    EXPECT_EQ(decoded->sent_at, now);
}

TEST(BounceAddress, LocalPartFitsSixtyFourOctetsForLongestQueueId) {
    const auto address = codec().encode({std::string(BounceAddressCodec::max_queue_id_length, 'Q'), now}, "b.example");
    ASSERT_TRUE(address.ok());
    EXPECT_LE(address->find('@'), 64u);
    EXPECT_FALSE(codec().encode({std::string(BounceAddressCodec::max_queue_id_length + 1, 'Q'), now}, "b.example").ok());
    EXPECT_FALSE(codec().encode({"", now}, "b.example").ok());
}

TEST(BounceAddress, SurvivesCaseFoldingOfTheWholeAddress) {
    const auto c = codec();
    std::string address = *c.encode({"ABCdef123", now}, "Mta.Example");
    for (char& ch : address) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    const auto decoded = c.decode(address, now, week);
    ASSERT_TRUE(decoded.ok()) << decoded.error();
    EXPECT_EQ(decoded->queue_id, "ABCdef123");
}

TEST(BounceAddress, RefusesTokenFromAnotherSecret) {
    const auto address = *codec(std::string(32, 'a')).encode({"Q1", now}, "b.example");
    EXPECT_FALSE(codec(std::string(32, 'b')).decode(address, now, week).ok());
}

TEST(BounceAddress, RefusesTokenMovedToAnotherBounceDomain) {
    const auto c = codec();
    std::string address = *c.encode({"Q1", now}, "mta.tenant-a.example");
    address.replace(address.find('@') + 1, std::string::npos, "mta.tenant-b.example");
    const auto decoded = c.decode(address, now, week);
    ASSERT_FALSE(decoded.ok());
    EXPECT_NE(decoded.error().find("signature"), std::string::npos);
}

TEST(BounceAddress, RefusesEveryAlteredCharacter) {
    const auto c = codec();
    const std::string address = *c.encode({"Q12345", now}, "b.example");
    const size_t at = address.find('@');
    for (size_t i = BounceAddressCodec::local_prefix.size(); i < at; ++i) {
        std::string altered = address;
        altered[i] = altered[i] == 'a' ? 'b' : 'a';
        EXPECT_FALSE(c.decode(altered, now, week).ok()) << altered;
    }
}

TEST(BounceAddress, RefusesExpiredAndFutureTokens) {
    const auto c = codec();
    const std::string address = *c.encode({"Q1", now}, "b.example");
    EXPECT_TRUE(c.decode(address, now + week, week).ok());
    const auto expired = c.decode(address, now + week + 1, week);
    ASSERT_FALSE(expired.ok());
    EXPECT_NE(expired.error().find("expired"), std::string::npos);
    EXPECT_FALSE(c.decode(address, now - 3600, week).ok());
}

TEST(BounceAddress, RefusesHostileAddressesWithoutCrashing) {
    const auto c = codec();
    const std::vector<std::string> hostile = {"", "@", "bounces+@b.example", "bounces+", "user@b.example", "bounces+!!!@b",
                                  "bounces+aaaa@b", std::string("bounces+") + std::string(5000, 'a') + "@b",
                                  std::string("bounces+\0a", 10) + "@b"};
    for (const std::string& bad : hostile) {
        EXPECT_FALSE(c.decode(bad, now, week).ok()) << bad;
    }
}

}  // namespace
}  // namespace tenantmail
