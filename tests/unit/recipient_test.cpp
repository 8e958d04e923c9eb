// recipient_test.cpp — the key form of recipient addresses: every spelling
// the MTA delivers to one mailbox gives one key, so a suppression cannot be
// bypassed by a trailing dot, a case change, quotes or a source route.
#include "common/recipient.h"

#include <gtest/gtest.h>

namespace tenantmail {
namespace {

TEST(Recipient, IsLowerCasedAsciiOnlyLocalPartIncluded) {
    EXPECT_EQ(normalise_recipient("Bob.Smith@Example.ORG"), "bob.smith@example.org");
    EXPECT_EQ(normalise_recipient("GONE@Example.ORG"), "gone@example.org");
    EXPECT_EQ(normalise_recipient("J\xc3\x9cRGEN@x"), "j\xc3\x9crgen@x");  // UTF-8 bytes untouched
}

TEST(Recipient, TrailingDotOfTheDomainIsDropped) {
    EXPECT_EQ(normalise_recipient("gone@example.org."), "gone@example.org");
    EXPECT_EQ(normalise_recipient("Gone@Example.ORG."), "gone@example.org");
    EXPECT_EQ(normalise_recipient("gone@example.org.."), "gone@example.org");
    // Only the domain's: a dot ending the local part is part of it.
    EXPECT_EQ(normalise_recipient("gone.@example.org"), "gone.@example.org");
}

TEST(Recipient, SourceRouteIsDropped) {
    EXPECT_EQ(normalise_recipient("@a.example,@b.example:gone@example.org"), "gone@example.org");
    EXPECT_EQ(normalise_recipient("@relay.example:Gone@Example.org."), "gone@example.org");
    EXPECT_EQ(normalise_recipient("@[IPv6:2001:db8::1]:gone@example.org"), "gone@example.org");
    // No colon: no route, kept as it is.
    EXPECT_EQ(normalise_recipient("@example.org"), "@example.org");
}

TEST(Recipient, QuotedLocalPartIsUnquoted) {
    EXPECT_EQ(normalise_recipient("\"gone\"@example.org"), "gone@example.org");
    EXPECT_EQ(normalise_recipient("\"Gone\"@Example.org."), "gone@example.org");
    EXPECT_EQ(normalise_recipient("\"john doe\"@example.org"), "john doe@example.org");
    EXPECT_EQ(normalise_recipient("\"a\\\"b\"@example.org"), "a\"b@example.org");
    EXPECT_EQ(normalise_recipient("first.\"Last\"@example.org"), "first.last@example.org");
}

TEST(Recipient, DomainIsAfterTheLastAtOutsideQuotes) {
    EXPECT_EQ(normalise_recipient("\"a@b\"@Example.org."), "a@b@example.org");
    // Postfix's internal (unquoted) form of the same address gives the same key.
    EXPECT_EQ(normalise_recipient("a@b@Example.org."), "a@b@example.org");
    // Unbalanced quote: the last '@' still separates the domain.
    EXPECT_EQ(normalise_recipient("\"a@Example.org."), "a@example.org");
}

TEST(Recipient, AddressLiteralKeepsItsDotsAndIsLowerCased) {
    EXPECT_EQ(normalise_recipient("gone@[192.0.2.1]"), "gone@[192.0.2.1]");
    EXPECT_EQ(normalise_recipient("Gone@[IPv6:2001:DB8::1]"), "gone@[ipv6:2001:db8::1]");
}

TEST(Recipient, OddInputStillGivesAKey) {
    EXPECT_EQ(normalise_recipient(""), "");
    EXPECT_EQ(normalise_recipient("Postmaster"), "postmaster");
    EXPECT_EQ(normalise_recipient("user@"), "user@");
    EXPECT_EQ(normalise_recipient("@"), "@");
    EXPECT_EQ(normalise_recipient("user@..."), "user@");
}

TEST(Recipient, IntoReusesTheBuffer) {
    std::string out = "previous value that was longer";
    normalise_recipient_into(out, "A@B.");
    EXPECT_EQ(out, "a@b");
    normalise_recipient_into(out, "\"X\"@Y");
    EXPECT_EQ(out, "x@y");
}

}  // namespace
}  // namespace tenantmail
