// Tests for common/options/metrics.h: metrics_listen takes loopback
// addresses only.
#include "common/options/metrics.h"

#include <gtest/gtest.h>

namespace tenantmail {
namespace {

TEST(MetricsListen, LoopbackAddressesAreAccepted) {
    for (const char* good : {"127.0.0.1:9750", "127.1.2.3:1", "[::1]:9750", "127.0.0.1:65535"}) {
        EXPECT_TRUE(check_metrics_listen(good)) << good;
    }
}

TEST(MetricsListen, OtherAddressesAndMalformedOnesAreRefused) {
    for (const char* bad : {"0.0.0.0:9750", "10.0.0.1:9750", "[::]:9750", "[2001:db8::1]:9750", "localhost:9750",
                            "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:97x",
                            "[::1]9750", "[::1", ":9750", "", "9750"}) {
        EXPECT_FALSE(check_metrics_listen(bad)) << bad;
    }
    auto open = check_metrics_listen("0.0.0.0:9750");
    ASSERT_FALSE(open);
    EXPECT_NE(open.error().find("not a loopback address"), std::string::npos) << open.error();
}

}  // namespace
}  // namespace tenantmail
