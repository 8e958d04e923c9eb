// long_queue_ids_test.cpp — check-config's reading of postconf's answer for
// enable_long_queue_ids.
#include "tenantmailctl/long_queue_ids.h"

#include <gtest/gtest.h>

namespace tenantmail::ctl {
namespace {

TEST(LongQueueIds, YesInAnyCaseAndWithPostconfsNewlineIsNoWarning) {
    EXPECT_FALSE(short_queue_ids_warning("yes\n"));
    EXPECT_FALSE(short_queue_ids_warning("YES"));
}

TEST(LongQueueIds, NoOrAnythingElseWarnsAndSaysWhy) {
    for (const char* value : {"no\n", "", "maybe"}) {
        const auto warning = short_queue_ids_warning(value);
        ASSERT_TRUE(warning) << value;
        EXPECT_EQ(warning->rfind("warning: ", 0), 0u);
        EXPECT_NE(warning->find("enable_long_queue_ids = yes"), std::string::npos);
        EXPECT_NE(warning->find("reused"), std::string::npos);
    }
}

}  // namespace
}  // namespace tenantmail::ctl
