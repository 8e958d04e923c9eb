// Tests for common/redis_cluster.h: hash slots, command routing, CLUSTER
// SLOTS and redirections, without a server (tests/integration/
// redis_cluster_test.py runs a real cluster, and checks our slots against
// CLUSTER KEYSLOT there).
#include "common/redis_cluster.h"

#include <gtest/gtest.h>

#include "common/redis_keys.h"

namespace tenantmail {
namespace {

TEST(RedisCluster, HashSlotsAreCrc16XmodemMod16384) {
    // The CRC16/XMODEM check value of "123456789" is 0x31C3 (the cluster
    // specification's reference).
    EXPECT_EQ(key_hash_slot("123456789"), 0x31C3 % kClusterSlots);
    EXPECT_EQ(key_hash_slot("foo"), 12182);
    EXPECT_EQ(key_hash_slot("bar"), 5061);
    EXPECT_EQ(key_hash_slot(""), 0);
}

TEST(RedisCluster, HashTagsFollowTheSpecification) {
    EXPECT_EQ(key_hash_slot("{user1000}.following"), key_hash_slot("user1000"));
    EXPECT_EQ(key_hash_slot("foo{user1000}bar{x}"), key_hash_slot("user1000"));
    // An empty tag does not count: the whole key is hashed.
    EXPECT_EQ(key_hash_slot("foo{}{bar}"), key_hash_slot("foo{}{bar}"));
    EXPECT_NE(key_hash_slot("foo{}{bar}"), key_hash_slot("bar"));
    EXPECT_EQ(key_hash_slot("foo{{bar}}zap"), key_hash_slot("{bar"));
    EXPECT_EQ(key_hash_slot("foo{bar"), key_hash_slot("foo{bar"));  // no closing brace
}

TEST(RedisCluster, EveryKeyOfATenantIsInTheTenantsSlot) {
    const std::uint16_t slot = key_hash_slot("acme");
    for (const std::string& key :
         {rate_key("acme", TrafficClass::bulk), paused_key("acme"), suppression_key("acme"),
          events_stream_key("acme"), dead_letter_key("acme"), unparsed_stream_key("acme"),
          message_key("acme", "4QxT1"), message_recipients_key("acme", "4QxT1"), message_seen_key("acme", "4QxT1"),
          message_index_key("acme"), reservation_key("acme", "c1"), health_bucket_key("acme", 5),
          bounce_counters_key("acme"), open_seen_key("acme", "4QxT1", "a@b.example"),
          token_reports_key("acme", "4QxT1", 7)}) {
        EXPECT_EQ(key_hash_slot(key), slot) << key;
    }
    EXPECT_EQ(key_hash_slot(queue_id_key("4QxT1")), key_hash_slot("4QxT1"));
}

TEST(RedisCluster, CommandsRouteByTheirKey) {
    using Args = std::vector<std::string>;
    EXPECT_EQ(command_slot(Args{"GET", "foo"}), 12182);
    EXPECT_EQ(command_slot(Args{"hset", "{acme}x", "f", "v"}), key_hash_slot("acme"));
    EXPECT_EQ(command_slot(Args{"EVALSHA", "abc", "2", "bar", "foo", "argv"}), 5061);
    EXPECT_EQ(command_slot(Args{"EVAL", "return 1", "0", "foo"}), std::nullopt);
    EXPECT_EQ(command_slot(Args{"EVAL", "return 1", "x", "foo"}), std::nullopt);
    EXPECT_EQ(command_slot(Args{"XREADGROUP", "GROUP", "g", "c", "COUNT", "10", "BLOCK", "5", "STREAMS", "foo", ">"}),
              12182);
    EXPECT_EQ(command_slot(Args{"XGROUP", "CREATE", "foo", "g", "$", "MKSTREAM"}), 12182);
    EXPECT_EQ(command_slot(Args{"XINFO", "GROUPS", "bar"}), 5061);
    EXPECT_EQ(command_slot(Args{"SCAN", "0", "MATCH", "tm:{acme}:held:*", "COUNT", "1000"}), key_hash_slot("acme"));
    EXPECT_EQ(command_slot(Args{"SCAN", "0", "MATCH", "tm:{ac*}:held:*"}), std::nullopt);
    EXPECT_EQ(command_slot(Args{"SCAN", "0", "MATCH", "*{acme}"}), std::nullopt);
    EXPECT_EQ(command_slot(Args{"SCAN", "0"}), std::nullopt);
    for (const Args& keyless : {Args{"PING"}, Args{"SCRIPT", "LOAD", "return 1"}, Args{"MULTI"}, Args{"exec"},
                                Args{"TIME"}, Args{"CLIENT", "ID"}, Args{"ROLE"}, Args{}}) {
        EXPECT_EQ(command_slot(keyless), std::nullopt) << (keyless.empty() ? "" : keyless[0]);
    }
}

RespValue node(std::string host, long long port) {
    return RespValue::of_array({RespValue::of_string(std::move(host)), RespValue::of_integer(port),
                                RespValue::of_string("0123abcd")});
}

TEST(RedisCluster, SlotMapFromClusterSlots) {
    const RespValue reply = RespValue::of_array({
        RespValue::of_array({RespValue::of_integer(0), RespValue::of_integer(5460), node("127.0.0.1", 7000),
                             node("127.0.0.1", 7003)}),
        RespValue::of_array({RespValue::of_integer(5461), RespValue::of_integer(10922), node("", 7001)}),
        RespValue::of_array({RespValue::of_integer(10923), RespValue::of_integer(16383), node("127.0.0.1", 7002)}),
        RespValue::of_array({RespValue::of_integer(16000), RespValue::of_integer(16000), node("127.0.0.1", 7000)}),
    });
    auto map = parse_cluster_slots(reply, "10.1.1.1");
    ASSERT_TRUE(map) << map.error();
    ASSERT_EQ(map->masters.size(), 3u);
    EXPECT_TRUE(map->covers_all());
    EXPECT_EQ(map->masters[map->owner[0]], (RedisEndpoint{"127.0.0.1", 7000}));
    EXPECT_EQ(map->masters[map->owner[5461]], (RedisEndpoint{"10.1.1.1", 7001}));
    EXPECT_EQ(map->masters[map->owner[16383]], (RedisEndpoint{"127.0.0.1", 7002}));
    EXPECT_EQ(map->masters[map->owner[16000]], (RedisEndpoint{"127.0.0.1", 7000}));
}

TEST(RedisCluster, PartialAndMalformedSlotMaps) {
    auto partial = parse_cluster_slots(
        RespValue::of_array({RespValue::of_array({RespValue::of_integer(0), RespValue::of_integer(99),
                                                  node("127.0.0.1", 7000)})}),
        "");
    ASSERT_TRUE(partial) << partial.error();
    EXPECT_FALSE(partial->covers_all());
    EXPECT_EQ(partial->owner[100], SlotMap::kNoOwner);

    const std::vector<RespValue> bad{
        RespValue::of_error("ERR This instance has cluster support disabled"),
        RespValue::of_string("x"),
        RespValue::of_array({RespValue::of_integer(1)}),
        RespValue::of_array({RespValue::of_array({RespValue::of_integer(5), RespValue::of_integer(4),
                                                  node("h", 1)})}),
        RespValue::of_array({RespValue::of_array({RespValue::of_integer(0), RespValue::of_integer(16384),
                                                  node("h", 1)})}),
        RespValue::of_array({RespValue::of_array({RespValue::of_integer(0), RespValue::of_integer(1),
                                                  node("h", 0)})}),
        RespValue::of_array({RespValue::of_array({RespValue::of_integer(0), RespValue::of_integer(1),
                                                  node("?", 7000)})}),
        RespValue::of_array({RespValue::of_array({RespValue::of_integer(0), RespValue::of_integer(1),
                                                  RespValue::of_string("h")})}),
    };
    for (const RespValue& reply : bad) EXPECT_FALSE(parse_cluster_slots(reply, "h"));
}

TEST(RedisCluster, Redirections) {
    auto moved = parse_cluster_redirect("MOVED 3999 127.0.0.1:6381");
    ASSERT_TRUE(moved);
    EXPECT_EQ(moved->kind, ClusterRedirect::Kind::moved);
    EXPECT_EQ(moved->slot, 3999);
    EXPECT_EQ(moved->node, (RedisEndpoint{"127.0.0.1", 6381}));
    auto ask = parse_cluster_redirect("ASK 16383 ::1:7002");
    ASSERT_TRUE(ask);
    EXPECT_EQ(ask->kind, ClusterRedirect::Kind::ask);
    EXPECT_EQ(ask->node, (RedisEndpoint{"::1", 7002}));
    for (const char* bad : {"MOVED", "MOVED 3999", "MOVED 16384 h:1", "MOVED -1 h:1", "MOVED 1 h", "MOVED 1 :1",
                            "MOVED 1 h:0", "MOVED 1 h:70000", "ASK x h:1", "ERR MOVED 1 h:1", "NOSCRIPT x"}) {
        EXPECT_FALSE(parse_cluster_redirect(bad)) << bad;
    }
    EXPECT_TRUE(is_cluster_retry_error("TRYAGAIN Multiple keys request during rehashing of slot"));
    EXPECT_TRUE(is_cluster_retry_error("CLUSTERDOWN The cluster is down"));
    EXPECT_FALSE(is_cluster_retry_error("CROSSSLOT Keys in request don't hash to the same slot"));
}

}  // namespace
}  // namespace tenantmail
