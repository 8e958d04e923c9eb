// printable_test.cpp — outside text made safe for replies and log lines.
#include "common/printable.h"

#include <gtest/gtest.h>

namespace tenantmail {
namespace {

TEST(Printable, ReplacesControlAndNonAsciiAndCuts) {
    std::string out = "<";
    append_printable(out, "a\r\nb\x01\xc3\xa9", 100);
    EXPECT_EQ(out, "<a??b???");
    out.clear();
    append_printable(out, "abcdef", 3);
    EXPECT_EQ(out, "abc...");
}

TEST(Printable, ExcerptIsTheSameAsANewString) {
    EXPECT_EQ(excerpt("ok\x7f\tend", 100), "ok??end");
    EXPECT_EQ(excerpt("abcdef", 3), "abc...");
    EXPECT_EQ(excerpt("", 3), "");
}

}  // namespace
}  // namespace tenantmail
