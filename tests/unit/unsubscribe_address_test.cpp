// unsubscribe_address_test.cpp — the mailto: unsubscribe address form:
// built and split again, and junk refused before anything looks at it.
#include "common/unsubscribe_address.h"

#include <gtest/gtest.h>

#include <string>

namespace tenantmail {
namespace {

TEST(UnsubscribeAddress, MakeThenParseKeepsTheTokenCaseAndLowersTheDomain) {
    const std::string address = make_unsubscribe_address("AbC-_09xyz", "MTA.Acme.Example");
    EXPECT_EQ(address, "unsubscribe+AbC-_09xyz@mta.acme.example");
    auto parsed = parse_unsubscribe_address(address);
    ASSERT_TRUE(parsed.ok()) << parsed.error();
    EXPECT_EQ(parsed->token, "AbC-_09xyz");
    EXPECT_EQ(parsed->domain, "mta.acme.example");
}

TEST(UnsubscribeAddress, PrefixIsCaseInsensitiveAndTrailingDotIgnored) {
    EXPECT_TRUE(is_unsubscribe_address("UNSUBSCRIBE+x@d.example"));
    auto parsed = parse_unsubscribe_address("Unsubscribe+Tok@D.Example.");
    ASSERT_TRUE(parsed.ok()) << parsed.error();
    EXPECT_EQ(parsed->token, "Tok");
    EXPECT_EQ(parsed->domain, "d.example");
}

TEST(UnsubscribeAddress, OtherLocalPartsAreNotUnsubscribeAddresses) {
    EXPECT_FALSE(is_unsubscribe_address("bounces+abc@d.example"));
    EXPECT_FALSE(is_unsubscribe_address("unsubscribe+"));
    EXPECT_FALSE(is_unsubscribe_address("unsubscribe@d.example"));
    EXPECT_FALSE(parse_unsubscribe_address("postmaster@d.example").ok());
}

TEST(UnsubscribeAddress, RefusesJunkInTokenAndDomain) {
    for (const char* junk : {"unsubscribe+@d.example", "unsubscribe+abc", "unsubscribe+ab=c@d.example",
                             "unsubscribe+ab/c@d.example", "unsubscribe+ab+c@d.example",
                             "unsubscribe+a\"b@d.example", "unsubscribe+abc@", "unsubscribe+abc@d..example",
                             "unsubscribe+abc@.d.example", "unsubscribe+abc@d.example@e.example",
                             "unsubscribe+abc@d_e.example", "unsubscribe+abc@d.example\r\n"}) {
        EXPECT_FALSE(parse_unsubscribe_address(junk).ok()) << junk;
    }
    EXPECT_FALSE(parse_unsubscribe_address(std::string("unsubscribe+ab\0c@d.example", 27)).ok());
}

TEST(UnsubscribeAddress, BoundsTokenAndWholeAddressLength) {
    const std::string longest(kMaxUnsubscribeTokenLength, 'a');
    EXPECT_TRUE(parse_unsubscribe_address(make_unsubscribe_address(longest, "d.example")).ok());
    EXPECT_FALSE(parse_unsubscribe_address(make_unsubscribe_address(longest + "a", "d.example")).ok());
    EXPECT_FALSE(parse_unsubscribe_address(make_unsubscribe_address("a", std::string(300, 'd'))).ok());
    EXPECT_FALSE(parse_unsubscribe_address("unsubscribe+" + std::string(100000, 'a') + "@d.example").ok());
}

}  // namespace
}  // namespace tenantmail
