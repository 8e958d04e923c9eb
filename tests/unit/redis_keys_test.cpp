// redis_keys_test.cpp — the data contract with existing deployments: every
// key's exact bytes, for tenant "acme". A failure here means stored data
// would no longer be found; change a key only with a migration.
#include "common/redis_keys.h"

#include <gtest/gtest.h>

#include <string>

namespace tenantmail {
namespace {

TEST(RateKeys, CarryTheTenantInAHashTag) {
    EXPECT_EQ(rate_key("acme", TrafficClass::bulk), "tm:{acme}:rate:bulk");
    EXPECT_EQ(rate_key("acme", TrafficClass::transactional), "tm:{acme}:rate:transactional");
    EXPECT_EQ(suppression_key("acme"), "tm:{acme}:suppressed");
    EXPECT_EQ(health_bucket_key("acme", 491234), "tm:{acme}:health:491234");
    std::string reused = "something long left over from before";
    build_rate_key(reused, "shop-2", TrafficClass::bulk);
    EXPECT_EQ(reused, "tm:{shop-2}:rate:bulk");
    build_suppression_key(reused, "x");
    EXPECT_EQ(reused, "tm:{x}:suppressed");
}

TEST(RedisKeys, EveryKeyOfTheContractByteForByte) {
    EXPECT_EQ(tenant_key("acme", "x:y"), "tm:{acme}:x:y");
    EXPECT_EQ(rate_key("acme", TrafficClass::bulk), "tm:{acme}:rate:bulk");
    EXPECT_EQ(rate_key("acme", TrafficClass::transactional), "tm:{acme}:rate:transactional");
    EXPECT_EQ(suppression_key("acme"), "tm:{acme}:suppressed");
    EXPECT_EQ(events_stream_key("acme"), "tm:{acme}:events");
    EXPECT_EQ(dead_letter_key("acme"), "tm:{acme}:events:dead");
    EXPECT_EQ(unparsed_stream_key("acme"), "tm:{acme}:unparsed");
    EXPECT_EQ(message_key("acme", "4F1C2A0B3D"), "tm:{acme}:msg:4F1C2A0B3D");
    EXPECT_EQ(message_recipients_key("acme", "4F1C2A0B3D"), "tm:{acme}:msg:4F1C2A0B3D:rcpt");
    EXPECT_EQ(message_seen_key("acme", "4F1C2A0B3D"), "tm:{acme}:msg:4F1C2A0B3D:seen");
    EXPECT_EQ(message_index_key("acme"), "tm:{acme}:messages");
    EXPECT_EQ(queue_id_key("4F1C2A0B3D"), "tm:qid:{4F1C2A0B3D}");
    EXPECT_EQ(token_reports_key("acme", "QIDX1", 1704067260), "tm:{acme}:token:QIDX1:1704067260:reports");
    EXPECT_EQ(bounce_counters_key("acme"), "tm:{acme}:bounce_counters");
}

TEST(RedisKeys, BuildTenantKeyReplacesWhatTheBufferHeld) {
    std::string reused = "left over";
    build_tenant_key(reused, "acme", "events");
    EXPECT_EQ(reused, "tm:{acme}:events");
}

}  // namespace
}  // namespace tenantmail
