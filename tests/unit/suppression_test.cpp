// suppression_test.cpp — the suppression value format tenantmailctl, policyd
// and the bounce processor share.
#include "common/suppression.h"

#include <gtest/gtest.h>

namespace tenantmail {
namespace {

TEST(SuppressionValue, RoundTripsAsJson) {
    const std::string value = encode_suppression({"hard bounce \"550 5.1.1\"\nuser unknown", 1700000000});
    EXPECT_EQ(value, R"({"reason":"hard bounce \"550 5.1.1\"\nuser unknown","time":1700000000})");
    const SuppressionEntry entry = decode_suppression(value);
    EXPECT_EQ(entry.reason, "hard bounce \"550 5.1.1\"\nuser unknown");
    EXPECT_EQ(entry.time, 1700000000);
}

TEST(SuppressionValue, InvalidUtf8IsReplacedNotThrown) {
    const std::string value = encode_suppression({"bad \xff byte", 1});
    EXPECT_NE(value.find("\xef\xbf\xbd"), std::string::npos) << value;  // U+FFFD
}

TEST(SuppressionValue, ForeignValuesAreTheReason) {
    EXPECT_EQ(decode_suppression("complained via FBL").reason, "complained via FBL");
    EXPECT_EQ(decode_suppression("complained via FBL").time, 0);
    EXPECT_EQ(decode_suppression(R"({"time":5})").reason, R"({"time":5})");
    EXPECT_EQ(decode_suppression(R"({"reason":"x","time":"soon"})").time, 0);
    EXPECT_EQ(decode_suppression("").reason, "");
}

}  // namespace
}  // namespace tenantmail
