// Tests for common/redis_sentinel.h: the sentinel list, the sentinels'
// answers and ROLE, without a server (tests/integration/redis_sentinel_test.py
// runs a real Sentinel group).
#include "common/redis_sentinel.h"

#include <gtest/gtest.h>

namespace tenantmail {
namespace {

RespValue strings(std::vector<std::string> texts) {
    std::vector<RespValue> elements;
    for (auto& text : texts) elements.push_back(RespValue::of_string(std::move(text)));
    return RespValue::of_array(std::move(elements));
}

TEST(RedisSentinel, EndpointListsTakeSpacesCommasAndBracketedV6) {
    auto endpoints = parse_redis_endpoints("10.0.0.1:26379, sentinel-b.example:26380  [2001:db8::7]:26381,");
    ASSERT_TRUE(endpoints) << endpoints.error();
    ASSERT_EQ(endpoints->size(), 3u);
    EXPECT_EQ((*endpoints)[0], (RedisEndpoint{"10.0.0.1", 26379}));
    EXPECT_EQ((*endpoints)[1], (RedisEndpoint{"sentinel-b.example", 26380}));
    EXPECT_EQ((*endpoints)[2], (RedisEndpoint{"2001:db8::7", 26381}));
    EXPECT_EQ(describe_endpoint((*endpoints)[2]), "[2001:db8::7]:26381");
}

TEST(RedisSentinel, MalformedEndpointsAreRefused) {
    for (const char* bad : {"", " , ", "host", "host:", ":26379", "host:0", "host:65536", "host:26379x",
                            "2001:db8::7:26379", "[2001:db8::7]26379", "[2001:db8::7", "host:-1", "a:1 b"}) {
        EXPECT_FALSE(parse_redis_endpoints(bad)) << bad;
    }
}

TEST(RedisSentinel, MasterAddressReply) {
    auto master = parse_master_address_reply(strings({"127.0.0.1", "6380"}));
    ASSERT_TRUE(master) << master.error();
    EXPECT_EQ(*master, (RedisEndpoint{"127.0.0.1", 6380}));
    auto v6 = parse_master_address_reply(strings({"::1", "6381"}));
    ASSERT_TRUE(v6) << v6.error();
    EXPECT_EQ(*v6, (RedisEndpoint{"::1", 6381}));
}

TEST(RedisSentinel, MasterAddressReplyRefusesWhatIsNoAddress) {
    EXPECT_FALSE(parse_master_address_reply(RespValue::nil()));
    EXPECT_FALSE(parse_master_address_reply(RespValue::of_error("IDONTKNOW No such master with that name")));
    EXPECT_FALSE(parse_master_address_reply(strings({"127.0.0.1"})));
    EXPECT_FALSE(parse_master_address_reply(strings({"127.0.0.1", "6380", "x"})));
    EXPECT_FALSE(parse_master_address_reply(strings({"127.0.0.1", "port"})));
    EXPECT_FALSE(parse_master_address_reply(strings({"", "6380"})));
    EXPECT_FALSE(parse_master_address_reply(RespValue::of_integer(6380)));
}

TEST(RedisSentinel, RoleAndReadonly) {
    RespValue master = RespValue::of_array({RespValue::of_string("master"), RespValue::of_integer(42),
                                            RespValue::of_array({})});
    EXPECT_TRUE(is_master_role(master));
    EXPECT_FALSE(is_master_role(strings({"slave", "127.0.0.1", "6380", "connected"})));
    EXPECT_FALSE(is_master_role(strings({"sentinel"})));
    EXPECT_FALSE(is_master_role(RespValue::of_error("ERR unknown command")));
    EXPECT_FALSE(is_master_role(RespValue::of_array({})));
    EXPECT_TRUE(is_readonly_error("READONLY You can't write against a read only replica."));
    EXPECT_FALSE(is_readonly_error("ERR READONLY"));
    EXPECT_FALSE(is_readonly_error("NOSCRIPT No matching script"));
}

TEST(RedisSentinel, NoSentinelAnsweringNamesEachFailure) {
    RedisSettings settings;
    settings.sentinels = {{"127.0.0.1", 1}, {"127.0.0.1", 2}};
    settings.master_name = "tm";
    settings.timeout = std::chrono::milliseconds(200);
    auto master = locate_master(settings, "");
    ASSERT_FALSE(master);
    EXPECT_NE(master.error().find("no sentinel named the master \"tm\""), std::string::npos) << master.error();
    EXPECT_NE(master.error().find("sentinel 127.0.0.1:1: "), std::string::npos) << master.error();
    EXPECT_NE(master.error().find("sentinel 127.0.0.1:2: "), std::string::npos) << master.error();
}

}  // namespace
}  // namespace tenantmail
