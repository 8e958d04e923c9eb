#include "common/base64.h"
#include "common/text.h"

#include <gtest/gtest.h>

namespace tenantmail {
namespace {

TEST(Text, TrimStripsSpacesTabsAndLineEnds) { EXPECT_EQ(trim(" \t a b \r\n"), "a b"); }

TEST(Text, SplitListAcceptsCommasAndWhitespace) {
    const auto items = split_list(" a, b\tc,,d ");
    ASSERT_EQ(items.size(), 4u);
    EXPECT_EQ(items[0], "a");
    EXPECT_EQ(items[3], "d");
}

TEST(Text, IequalsIgnoresAsciiCaseOnly) {
    EXPECT_TRUE(iequals("From", "fROM"));
    EXPECT_FALSE(iequals("From", "Fro"));
}

TEST(Base64, RoundTripsEveryLengthModuloThree) {
    for (const std::string s : {"", "a", "ab", "abc", "abcd"}) {
        const auto decoded = base64_decode(base64_encode(s));
        ASSERT_TRUE(decoded.has_value());
        EXPECT_EQ(*decoded, s);
    }
    EXPECT_EQ(base64_encode("abcd"), "YWJjZA==");
}

TEST(Base64, DecodeIgnoresFoldingWhitespaceAndRejectsGarbage) {
    EXPECT_EQ(base64_decode("YWJj\r\n\tZA=="), std::optional<std::string>("abcd"));
    EXPECT_FALSE(base64_decode("YW*j").has_value());
    EXPECT_FALSE(base64_decode("YWJ").has_value());
}

}  // namespace
}  // namespace tenantmail
