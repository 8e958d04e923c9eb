#include "common/outage.h"

#include <gtest/gtest.h>

namespace tenantmail {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const Outage::Clock::time_point kStart{seconds(1000)};

TEST(Outage, LogsOnlyTheFirstFailureOfAnOutage) {
    Outage outage(milliseconds(100), milliseconds(5000));
    EXPECT_TRUE(outage.on_failure(kStart).log_now);
    EXPECT_FALSE(outage.on_failure(kStart + seconds(1)).log_now);
    EXPECT_FALSE(outage.on_failure(kStart + seconds(2)).log_now);
    EXPECT_TRUE(outage.ongoing());
}

TEST(Outage, DoublesTheDelayUpToTheCap) {
    Outage outage(milliseconds(100), milliseconds(500));
    std::vector<long long> delays;
    for (int i = 0; i < 5; ++i) delays.push_back(outage.on_failure(kStart).delay.count());
    EXPECT_EQ(delays, (std::vector<long long>{100, 200, 400, 500, 500}));
}

TEST(Outage, SuccessWithoutOutageHasNothingToReport) {
    Outage outage(milliseconds(100), milliseconds(500));
    EXPECT_FALSE(outage.on_success(kStart).has_value());
    EXPECT_FALSE(outage.ongoing());
}

TEST(Outage, RecoveryReportsDurationSinceTheFirstFailureAndTheFailureCount) {
    Outage outage(milliseconds(100), milliseconds(500));
    outage.on_failure(kStart);
    outage.on_failure(kStart + seconds(3));
    outage.on_failure(kStart + seconds(7));
    EXPECT_EQ(outage.started(), kStart);
    const auto summary = outage.on_success(kStart + seconds(12));
    ASSERT_TRUE(summary.has_value());
    EXPECT_EQ(summary->duration, seconds(12));
    EXPECT_EQ(summary->failures, 3u);
    EXPECT_FALSE(outage.ongoing());
    EXPECT_FALSE(outage.on_success(kStart + seconds(13)).has_value());
}

TEST(Outage, NextOutageStartsAgainAtTheFirstDelayAndIsLoggedAgain) {
    Outage outage(milliseconds(100), milliseconds(500));
    outage.on_failure(kStart);
    outage.on_failure(kStart);
    outage.on_success(kStart + seconds(1));
    const Outage::Failure again = outage.on_failure(kStart + seconds(60));
    EXPECT_TRUE(again.log_now);
    EXPECT_EQ(again.delay, milliseconds(100));
    EXPECT_EQ(outage.started(), kStart + seconds(60));
}

TEST(Outage, CapBelowTheFirstDelayKeepsTheFirstDelay) {
    Outage outage(milliseconds(300), milliseconds(100));
    EXPECT_EQ(outage.on_failure(kStart).delay, milliseconds(300));
    EXPECT_EQ(outage.on_failure(kStart).delay, milliseconds(300));
}

}  // namespace
}  // namespace tenantmail
