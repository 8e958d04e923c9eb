#include "maillog/maillog_runner.h"

#include <signal.h>
#include <stdlib.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "maillog/state_file.h"

namespace tenantmail::maillog {
namespace {

using std::chrono::milliseconds;

const std::string kFirstLine =
    "Nov 23 12:00:01 host postfix/smtp[1234]: 4Xb2Jk0Qz1z9sQ: to=<a@example.net>, "
    "relay=mx.example.net[192.0.2.1]:25, delay=0.5, delays=0.1/0/0.2/0.2, dsn=2.0.0, "
    "status=sent (250 2.0.0 Ok: queued as ABC)\n";
const std::string kSecondLine =
    "Nov 23 12:00:02 host postfix/smtp[1234]: 4Xb2Jk0Qz1z9sQ: to=<b@example.net>, "
    "relay=mx.example.net[192.0.2.1]:25, delay=0.5, delays=0.1/0/0.2/0.2, dsn=2.0.0, "
    "status=sent (250 2.0.0 Ok: queued as ABD)\n";

// Redis as the runner sees it: record() and ping() fail as often as told.
class FakeSink final : public OutcomeSink {
public:
    int record_failures = 0;
    int ping_failures = 0;
    int pings = 0;
    std::vector<std::string> recorded;

    void observe(const QueueEvent&, std::time_t) override {}
    Result<bool> record(const DeliveryLine& line, std::time_t) override {
        if (record_failures > 0) {
            --record_failures;
            return make_error("Redis at 127.0.0.1:1: connection refused");
        }
        recorded.emplace_back(line.recipient);
        ++stats_.recorded;
        return true;
    }
    Result<void> ping() override {
        ++pings;
        if (ping_failures > 0) {
            --ping_failures;
            return make_error("Redis at 127.0.0.1:1: connection refused");
        }
        return {};
    }
    const RecorderStats& stats() const override { return stats_; }

private:
    RecorderStats stats_;
};

class MaillogRunnerTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (std::filesystem::temp_directory_path() / "tenantmail-runner-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
        settings_.file = dir_ + "/postfix.log";
        settings_.state_file = dir_ + "/maillog.state";
        settings_.poll_interval = milliseconds(10);
        std::ofstream(settings_.file) << kFirstLine << kSecondLine;
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::uint64_t saved_offset() const {
        auto state = read_state_file(settings_.state_file);
        return state && *state ? (*state)->offset : 0;
    }

    // Runs until both lines are recorded (then "SIGTERM"), on a fake clock
    // that advances by each wait; notes every wait and the saved offset then.
    void run_until_both_recorded() {
        MaillogRunner::Clock::time_point fake_now{};
        MaillogRunner runner(
            settings_, sink_,
            [&](milliseconds delay) {
                waits_.push_back(delay);
                offsets_during_waits_.push_back(saved_offset());
                fake_now += delay;
                return sink_.recorded.size() >= 2 || waits_.size() > 50 ? SIGTERM : 0;
            },
            [&] { return fake_now; });
        EXPECT_EQ(runner.run(), 0);
    }

    std::string dir_;
    MaillogSettings settings_;
    FakeSink sink_;
    std::vector<milliseconds> waits_;
    std::vector<std::uint64_t> offsets_during_waits_;
};

TEST_F(MaillogRunnerTest, HoldsAtTheLineWhileRedisIsDownThenRecordsEveryLineOnce) {
    sink_.record_failures = 1;
    sink_.ping_failures = 2;
    run_until_both_recorded();

    EXPECT_EQ(sink_.recorded, (std::vector<std::string>{"a@example.net", "b@example.net"}));
    // One failed record, then two failed pings: doubling waits from 100 ms.
    ASSERT_GE(waits_.size(), 3u);
    EXPECT_EQ(std::vector<milliseconds>(waits_.begin(), waits_.begin() + 3),
              (std::vector<milliseconds>{milliseconds(100), milliseconds(200), milliseconds(400)}));
    // While Redis was down the saved offset never passed the first line.
    for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(offsets_during_waits_[i], 0u) << "wait " << i;
    EXPECT_EQ(sink_.pings, 3);
    EXPECT_EQ(saved_offset(), kFirstLine.size() + kSecondLine.size());
}

TEST_F(MaillogRunnerTest, WithRedisUpNeitherWaitsForRetryNorPings) {
    run_until_both_recorded();
    EXPECT_EQ(sink_.recorded, (std::vector<std::string>{"a@example.net", "b@example.net"}));
    EXPECT_EQ(sink_.pings, 0);
    for (const milliseconds wait : waits_) EXPECT_EQ(wait, settings_.poll_interval);
    EXPECT_EQ(saved_offset(), kFirstLine.size() + kSecondLine.size());
}

// A ping that succeeds ends the outage; a record failing after it is a new
// outage, retried again after the first delay.
TEST_F(MaillogRunnerTest, RecordFailingRightAfterASuccessfulPingStartsAgainAtTheFirstDelay) {
    sink_.record_failures = 3;
    run_until_both_recorded();
    ASSERT_GE(waits_.size(), 3u);
    EXPECT_EQ(std::vector<milliseconds>(waits_.begin(), waits_.begin() + 3),
              (std::vector<milliseconds>{milliseconds(100), milliseconds(100), milliseconds(100)}));
    EXPECT_EQ(sink_.pings, 3);
    EXPECT_EQ(sink_.recorded.size(), 2u);
}

}  // namespace
}  // namespace tenantmail::maillog
