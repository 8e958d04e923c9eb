// event_batch_test.cpp — the POST body built from stream entries: exactly
// events_document()'s shape, entries of other tenants and malformed ones
// set apart, the oldest entry's time kept for the retry deadline.
#include "common/event_batch.h"

#include <gtest/gtest.h>

#include "common/dead_letter.h"
#include "common/printable.h"

namespace tenantmail {
namespace {

Event sample(const std::string& tenant, const std::string& id) {
    Event event;
    event.id = id;
    event.kind = EventKind::bounce;
    event.tenant = tenant;
    event.queue_id = "4AbC1";
    event.message_id = "m1";
    event.recipient = "user@example.net";
    event.timestamp = 1700000000;
    event.details = {{"status", "5.1.1"}};
    return event;
}

StreamEntry stored(const std::string& stream_id, const Event& event) {
    // What append_event() puts into the stream.
    return StreamEntry{stream_id, StreamFields{{"event", build_event_xadd(event, 100).back()}}};
}

TEST(WebhookBatch, DocumentIsEventsDocumentOfTheEntries) {
    const Event a = sample("acme", std::string(32, 'a'));
    const Event b = sample("acme", std::string(32, 'b'));
    const Batch batch = build_batch("acme", {stored("1700000000500-0", a), stored("1700000000400-3", b)});
    EXPECT_EQ(batch.document, events_document({a, b}));
    EXPECT_EQ(batch.ids, (std::vector<std::string>{"1700000000500-0", "1700000000400-3"}));
    EXPECT_EQ(batch.first_ms, 1700000000400);
    EXPECT_EQ(batch.min_id, "1700000000400-3");
    EXPECT_EQ(batch.max_id, "1700000000500-0");
    EXPECT_TRUE(batch.rejected.empty());
    const auto json = nlohmann::json::parse(batch.document);
    ASSERT_EQ(json["events"].size(), 2u);
    const auto& first = json["events"][0];
    for (const char* field : {"id", "kind", "tenant", "queue_id", "message_id", "recipient", "timestamp", "details"}) {
        EXPECT_TRUE(first.contains(field)) << field;
    }
    EXPECT_EQ(first["kind"], "bounce");
    EXPECT_EQ(first["details"]["status"], "5.1.1");
}

TEST(WebhookBatch, OtherTenantsEventsNeverReachThisTenant) {
    const Batch batch = build_batch("acme", {stored("1-0", sample("beta", std::string(32, 'c'))),
                                             stored("2-0", sample("acme", std::string(32, 'd')))});
    ASSERT_EQ(batch.events.size(), 1u);
    EXPECT_EQ(batch.events[0].tenant, "acme");
    ASSERT_EQ(batch.rejected.size(), 1u);
    EXPECT_EQ(batch.rejected[0].id, "1-0");
    EXPECT_EQ(batch.rejected[0].reason, "the event belongs to tenant \"beta\"");
}

TEST(WebhookBatch, MalformedAndTrimmedEntriesAreSetApartWithAReason) {
    const Batch batch = build_batch("acme", {
                                                StreamEntry{"1-0", StreamFields{{"event", "not json"}}},
                                                StreamEntry{"2-0", StreamFields{{"other", "x"}}},
                                                StreamEntry{"3-0", std::nullopt},
                                                StreamEntry{"4-0", StreamFields{{"event", R"({"kind":"bounce"})"}}},
                                            });
    EXPECT_TRUE(batch.empty());
    EXPECT_TRUE(batch.document.empty());
    ASSERT_EQ(batch.rejected.size(), 4u);
    EXPECT_EQ(batch.rejected[0].reason, "the event is not valid JSON");
    EXPECT_EQ(batch.rejected[1].reason, "the entry has no \"event\" field");
    EXPECT_EQ(batch.rejected[2].reason, "the entry was trimmed from the stream before it was delivered");
    EXPECT_EQ(batch.rejected[3].reason, "event has no id");
}

TEST(WebhookBatch, ExcerptKeepsLogLinesShortAndPrintable) {
    EXPECT_EQ(excerpt("ok", 10), "ok");
    EXPECT_EQ(excerpt("line1\nline2\x01", 20), "line1?line2?");
    EXPECT_EQ(excerpt(std::string(300, 'x'), 5), "xxxxx...");
}

TEST(WebhookDeadLetter, EvalMovesTheDocumentAndAcksTheIds) {
    const Batch batch = build_batch("acme", {stored("1-0", sample("acme", std::string(32, 'e'))),
                                             stored("2-0", sample("acme", std::string(32, 'f')))});
    const auto args = build_dead_letter_eval(batch, "tenantmail-webhookd", "HTTP 500: boom", 7, 1700000099);
    ASSERT_EQ(args.size(), 13u);
    EXPECT_EQ(args[0], "EVAL");
    EXPECT_EQ(args[2], "2");
    EXPECT_EQ(args[3], "tm:{acme}:events");
    EXPECT_EQ(args[4], "tm:{acme}:events:dead");
    EXPECT_EQ(args[5], "tenantmail-webhookd");
    EXPECT_EQ(args[7], batch.document);
    EXPECT_EQ(args[8], "HTTP 500: boom");
    EXPECT_EQ(args[9], "7");
    EXPECT_EQ(args[10], "1700000099");
    EXPECT_EQ(args[11], "1-0");
    EXPECT_EQ(args[12], "2-0");
}

TEST(WebhookDeadLetter, ParsesAnEntryAndReplaysWithTheSameEventIds) {
    const Event event = sample("acme", std::string(32, '7'));
    const StreamEntry entry{"9-0", StreamFields{{"events", events_document({event})},
                                                {"error", "HTTP 503"},
                                                {"attempts", "12"},
                                                {"time", "1700001234"},
                                                {"entries", "1-0"}}};
    auto dead = parse_dead_letter(entry);
    ASSERT_TRUE(dead.ok()) << dead.error();
    EXPECT_EQ(dead->error, "HTTP 503");
    EXPECT_EQ(dead->attempts, 12u);
    EXPECT_EQ(dead->time, 1700001234);
    auto events = parse_events_document(dead->document);
    ASSERT_TRUE(events.ok());
    const auto args = build_replay_eval("acme", dead->id, *events, 500);
    ASSERT_EQ(args.size(), 8u);
    EXPECT_EQ(args[3], "tm:{acme}:events");
    EXPECT_EQ(args[4], "tm:{acme}:events:dead");
    EXPECT_EQ(args[5], "9-0");
    EXPECT_EQ(args[6], "500");
    EXPECT_EQ(args[7], build_event_xadd(event, 500).back());
    EXPECT_EQ(nlohmann::json::parse(args[7])["id"], std::string(32, '7'));

    EXPECT_FALSE(parse_dead_letter(StreamEntry{"9-1", StreamFields{{"error", "x"}}}).ok());
    EXPECT_FALSE(parse_dead_letter(StreamEntry{"9-2", StreamFields{{"events", "{}"}, {"attempts", "many"}}}).ok());
}

}  // namespace
}  // namespace tenantmail
