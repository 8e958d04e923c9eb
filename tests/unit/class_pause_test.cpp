#include "common/class_pause.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/redis_keys.h"
#include "common/sending_health.h"

namespace tenantmail {
namespace {

TEST(ClassPause, AReasonMustFitAnSmtpReply) {
    EXPECT_EQ(check_pause_reason("invoice run under review"), "");
    EXPECT_EQ(check_pause_reason(""), "is empty");
    EXPECT_EQ(check_pause_reason(std::string(kMaxPauseReasonLength, 'x')), "");
    EXPECT_EQ(check_pause_reason(std::string(kMaxPauseReasonLength + 1, 'x')), "is longer than 200 characters");
    for (const std::string& bad : std::vector<std::string>{"a\r\n250 OK", std::string("a\0b", 3), "caf\xc3\xa9", "tab\there"}) {
        EXPECT_NE(check_pause_reason(bad), "") << bad;
    }
}

TEST(ClassPause, PauseSetsTheReasonAndAnnouncesIt) {
    const auto argv = build_pause_command("acme", TrafficClass::transactional, "checking a leak", 1'700'000'000);
    ASSERT_EQ(argv.size(), 9u);
    EXPECT_EQ(argv[0], "EVAL");
    EXPECT_EQ(argv[2], "2");
    EXPECT_EQ(argv[3], paused_key("acme"));
    EXPECT_EQ(argv[4], events_stream_key("acme"));
    EXPECT_EQ(argv[5], "transactional");
    EXPECT_EQ(argv[6], "checking a leak");
    const nlohmann::json event = nlohmann::json::parse(argv[7]);
    EXPECT_EQ(event["kind"], "paused");
    EXPECT_EQ(event["tenant"], "acme");
    EXPECT_EQ(event["timestamp"], 1'700'000'000);
    EXPECT_EQ(event["details"]["class"], "transactional");
    EXPECT_EQ(event["details"]["reason"], "checking a leak");
    EXPECT_EQ(event["details"]["automatic"], false);
}

TEST(ClassPause, ResumingBulkStartsTheRatesAfresh) {
    const std::int64_t now = 1'700'000'000;
    const auto argv = build_resume_command("acme", TrafficClass::bulk, now);
    const std::size_t keys = std::stoul(argv[2]);
    const auto bucket_hours = std::chrono::duration_cast<std::chrono::hours>(kHealthBucketTtl).count();
    EXPECT_EQ(keys, 2u + static_cast<std::size_t>(bucket_hours) + 1u);
    EXPECT_EQ(argv[3], paused_key("acme"));
    EXPECT_EQ(argv[5], health_bucket_key("acme", health_hour(now)));
    EXPECT_EQ(argv[3 + keys - 1], health_bucket_key("acme", health_hour(now) - bucket_hours));
    EXPECT_EQ(argv[3 + keys], "bulk");
    const nlohmann::json event = nlohmann::json::parse(argv[3 + keys + 1]);
    EXPECT_EQ(event["kind"], "resumed");
    EXPECT_EQ(event["details"]["class"], "bulk");
    EXPECT_FALSE(event["details"].contains("reason"));
}

TEST(ClassPause, ResumingTransactionalLeavesTheRatesAlone) {
    const auto argv = build_resume_command("acme", TrafficClass::transactional, 1'700'000'000);
    EXPECT_EQ(argv[2], "2");
    EXPECT_EQ(argv[5], "transactional");
}

}  // namespace
}  // namespace tenantmail
