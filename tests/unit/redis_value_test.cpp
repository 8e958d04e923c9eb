// redis_value_test.cpp — parsing the shapes Redis gives for
// XREADGROUP, XAUTOCLAIM (6.2 and 7.x), extended XPENDING and XINFO
// CONSUMERS, from hand-built replies; bad shapes are errors, not crashes.
#include "common/redis_value.h"

#include <gtest/gtest.h>

namespace tenantmail {
namespace {

RespValue s(std::string text) { return RespValue::of_string(std::move(text)); }
RespValue i(long long value) { return RespValue::of_integer(value); }
RespValue a(std::vector<RespValue> values) { return RespValue::of_array(std::move(values)); }

RespValue entry(const std::string& id, const std::string& event) { return a({s(id), a({s("event"), s(event)})}); }

TEST(WebhookStreamReply, ReadGroupTimeoutIsNoEntries) {
    auto reads = parse_read_reply(RespValue::nil());
    ASSERT_TRUE(reads.ok());
    EXPECT_TRUE(reads->empty());
}

TEST(WebhookStreamReply, ReadGroupGivesEntriesPerStream) {
    const RespValue reply = a({
        a({s("tm:{acme}:events"), a({entry("1-0", "{}"), entry("2-0", "[]")})}),
        a({s("tm:{beta}:events"), a({entry("3-1", "x")})}),
    });
    auto reads = parse_read_reply(reply);
    ASSERT_TRUE(reads.ok()) << reads.error();
    ASSERT_EQ(reads->size(), 2u);
    EXPECT_EQ((*reads)[0].key, "tm:{acme}:events");
    ASSERT_EQ((*reads)[0].entries.size(), 2u);
    EXPECT_EQ((*reads)[0].entries[1].id, "2-0");
    ASSERT_NE((*reads)[0].entries[1].field("event"), nullptr);
    EXPECT_EQ(*(*reads)[0].entries[1].field("event"), "[]");
    EXPECT_EQ((*reads)[0].entries[1].field("other"), nullptr);
    EXPECT_EQ((*reads)[1].entries[0].id, "3-1");
}

TEST(WebhookStreamReply, HistoryEntryTrimmedFromTheStreamHasNoFields) {
    const RespValue reply = a({a({s("tm:{acme}:events"), a({a({s("5-0"), RespValue::nil()})})})});
    auto reads = parse_read_reply(reply);
    ASSERT_TRUE(reads.ok()) << reads.error();
    EXPECT_FALSE((*reads)[0].entries[0].fields.has_value());
    EXPECT_EQ((*reads)[0].entries[0].field("event"), nullptr);
}

TEST(WebhookStreamReply, MalformedReadGroupRepliesAreErrors) {
    EXPECT_FALSE(parse_read_reply(s("OK")).ok());
    EXPECT_FALSE(parse_read_reply(a({s("tm:{acme}:events")})).ok());
    EXPECT_FALSE(parse_read_reply(a({a({s("k"), a({a({s("1-0"), a({s("event")})})})})})).ok());  // odd fields
    EXPECT_FALSE(parse_read_reply(a({a({s("k"), a({a({i(1), a({})})})})})).ok());                // id not a string
    EXPECT_FALSE(parse_read_reply(a({a({s("k"), a({a({s("1-0"), a({s("event"), i(3)})})})})})).ok());
}

TEST(WebhookStreamReply, AutoclaimOfRedis7HasDeletedIds) {
    const RespValue reply = a({s("7-0"), a({entry("1-0", "{}"), a({s("2-0"), RespValue::nil()})}), a({s("3-0")})});
    auto claimed = parse_autoclaim_reply(reply);
    ASSERT_TRUE(claimed.ok()) << claimed.error();
    EXPECT_EQ(claimed->next_cursor, "7-0");
    ASSERT_EQ(claimed->entries.size(), 2u);
    EXPECT_FALSE(claimed->entries[1].fields.has_value());
    EXPECT_EQ(claimed->deleted_ids, std::vector<std::string>{"3-0"});
}

TEST(WebhookStreamReply, AutoclaimOfRedis62HasNoDeletedIds) {
    auto claimed = parse_autoclaim_reply(a({s("0-0"), a({})}));
    ASSERT_TRUE(claimed.ok()) << claimed.error();
    EXPECT_EQ(claimed->next_cursor, "0-0");
    EXPECT_TRUE(claimed->entries.empty());
    EXPECT_TRUE(claimed->deleted_ids.empty());
}

TEST(WebhookStreamReply, MalformedAutoclaimIsAnError) {
    EXPECT_FALSE(parse_autoclaim_reply(RespValue::nil()).ok());
    EXPECT_FALSE(parse_autoclaim_reply(a({s("0-0")})).ok());
    EXPECT_FALSE(parse_autoclaim_reply(a({i(0), a({})})).ok());
    EXPECT_FALSE(parse_autoclaim_reply(a({s("0-0"), a({}), s("x")})).ok());
}

TEST(WebhookStreamReply, ExtendedPendingGivesOwnerIdleAndDeliveries) {
    auto pending = parse_pending_reply(a({a({s("1-0"), s("host:42"), i(1500), i(3)}), a({s("2-0"), s("b"), i(0), i(1)})}));
    ASSERT_TRUE(pending.ok()) << pending.error();
    ASSERT_EQ(pending->size(), 2u);
    EXPECT_EQ((*pending)[0].id, "1-0");
    EXPECT_EQ((*pending)[0].consumer, "host:42");
    EXPECT_EQ((*pending)[0].idle_ms, 1500);
    EXPECT_EQ((*pending)[0].deliveries, 3u);
    EXPECT_FALSE(parse_pending_reply(a({a({s("1-0"), s("c"), i(-1), i(3)})})).ok());
    EXPECT_FALSE(parse_pending_reply(a({a({s("1-0"), s("c"), i(1)})})).ok());
    EXPECT_TRUE(parse_pending_reply(a({}))->empty());
}

TEST(WebhookStreamReply, ConsumersListIgnoresFieldsItDoesNotNeed) {
    const RespValue reply = a({
        a({s("name"), s("old:1"), s("pending"), i(0), s("idle"), i(90000000), s("inactive"), i(90000000)}),
        a({s("name"), s("me:2"), s("pending"), i(4), s("idle"), i(10)}),
    });
    auto consumers = parse_consumers_reply(reply);
    ASSERT_TRUE(consumers.ok()) << consumers.error();
    ASSERT_EQ(consumers->size(), 2u);
    EXPECT_EQ((*consumers)[0].name, "old:1");
    EXPECT_EQ((*consumers)[0].idle_ms, 90000000);
    EXPECT_EQ((*consumers)[1].pending, 4u);
    EXPECT_FALSE(parse_consumers_reply(a({a({s("pending"), i(0)})})).ok());
}

}  // namespace
}  // namespace tenantmail
