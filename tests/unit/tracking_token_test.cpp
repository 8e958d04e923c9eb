// tracking_token_test.cpp — tracking tokens: round trip, opacity, and that
// every modified, truncated or foreign token is refused.
#include "common/base64.h"
#include "common/tracking_token.h"

#include <gtest/gtest.h>

#include <random>

namespace tenantmail {
namespace {

constexpr std::int64_t now = 1795400047;

TrackingTokenCodec codec(const std::string& secret = std::string(32, 's')) {
    auto result = TrackingTokenCodec::from_secret(secret);
    EXPECT_TRUE(result.ok());
    return std::move(result).value();
}

TrackingLink click() {
    return {TrackingLinkKind::click,
            "acme",
            "4XyZ1234abcd",
            "jane@example.org",
            "https://careers.uni.ac.uk/jobs?id=7&x=%2F",
            now};
}

TEST(Base64url, RoundTripsEveryLengthAndRefusesOtherAlphabetsAndNonCanonicalText) {
    std::mt19937 rng(11);
    for (std::size_t length = 0; length < 40; ++length) {
        std::string bytes(length, '\0');
        for (char& c : bytes) c = static_cast<char>(rng());
        const std::string text = base64url_encode(bytes);
        EXPECT_EQ(text.find_first_of("+/="), std::string::npos);
        EXPECT_EQ(base64url_decode(text), std::optional<std::string>(bytes));
    }
    EXPECT_FALSE(base64url_decode("ab+c"));
    EXPECT_FALSE(base64url_decode("abc="));
    EXPECT_FALSE(base64url_decode("a"));
    EXPECT_EQ(base64url_encode("\xff"), "_w");
    EXPECT_FALSE(base64url_decode("_x"));  // same octet with unused bits set
}

TEST(TrackingToken, RoundTripsEveryKindWithoutShowingRecipientOrUrl) {
    const TrackingTokenCodec c = codec();
    for (TrackingLinkKind kind : {TrackingLinkKind::open, TrackingLinkKind::click, TrackingLinkKind::unsubscribe}) {
        TrackingLink link = click();
        link.kind = kind;
        const auto token = c.encode(link);
        ASSERT_TRUE(token.ok()) << token.error();
        EXPECT_EQ(token->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                  std::string::npos);
        EXPECT_EQ(token->find("jane"), std::string::npos);
        const auto decoded = base64url_decode(*token);
        ASSERT_TRUE(decoded);
        EXPECT_EQ(decoded->find("jane"), std::string::npos);
        EXPECT_EQ(decoded->find("careers"), std::string::npos);
        const auto back = c.decode(*token);
        ASSERT_TRUE(back.ok()) << back.error();
        EXPECT_EQ(back->kind, kind);
        EXPECT_EQ(back->tenant, "acme");
        EXPECT_EQ(back->queue_id, "4XyZ1234abcd");
        EXPECT_EQ(back->recipient, "jane@example.org");
        EXPECT_EQ(back->url, link.url);
        EXPECT_EQ(back->issued_at, now);
    }
}

TEST(TrackingToken, TwoTokensForOneLinkDiffer) {
    const TrackingTokenCodec c = codec();
    EXPECT_NE(c.encode(click()).value(), c.encode(click()).value());
}

TEST(TrackingToken, RefusesEveryChangedCharacterTruncationAndAnotherSecret) {
    const TrackingTokenCodec c = codec();
    const std::string token = c.encode(click()).value();
    for (std::size_t i = 0; i < token.size(); ++i) {
        std::string changed = token;
        changed[i] = changed[i] == 'A' ? 'B' : 'A';
        EXPECT_FALSE(c.decode(changed).ok()) << "position " << i;
    }
    for (std::size_t length = 0; length < token.size(); ++length) {
        EXPECT_FALSE(c.decode(token.substr(0, length)).ok()) << "length " << length;
    }
    EXPECT_FALSE(codec(std::string(32, 't')).decode(token).ok());
    EXPECT_FALSE(c.decode(token + "A").ok());
    EXPECT_FALSE(c.decode(std::string(5000, 'A')).ok());
}

TEST(TrackingToken, RefusesShortSecretsOverlongFieldsAndTimesOutOfRange) {
    EXPECT_FALSE(TrackingTokenCodec::from_secret(std::string(31, 's')).ok());
    const TrackingTokenCodec c = codec();
    TrackingLink link = click();
    link.recipient.assign(256, 'r');
    EXPECT_FALSE(c.encode(link).ok());
    link = click();
    link.url.assign(TrackingTokenCodec::max_url_length + 1, 'u');
    EXPECT_FALSE(c.encode(link).ok());
    link = click();
    link.issued_at = TrackingTokenCodec::epoch - 60;
    EXPECT_FALSE(c.encode(link).ok());
    link = click();
    link.tenant.clear();
    EXPECT_FALSE(c.encode(link).ok());
}

}  // namespace
}  // namespace tenantmail
