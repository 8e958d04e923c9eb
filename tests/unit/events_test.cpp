// events_test.cpp — the event JSON shape, ids, stream key and XADD argv.
#include "common/events.h"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <thread>
#include <vector>

namespace tenantmail {
namespace {

Event sample_bounce() {
    Event event;
    event.id = "0123456789abcdef0123456789abcdef";
    event.kind = EventKind::bounce;
    event.tenant = "acme";
    event.queue_id = "4F1C2A0B3D";
    event.message_id = "<m1@careers.uni.ac.uk>";
    event.recipient = "Nobody@Example.org";
    event.timestamp = 1700000000;
    event.details = {{"status", "5.1.1"}, {"diagnostic", "smtp; 550 5.1.1 user unknown"}};
    return event;
}

TEST(Events, KindNamesRoundTripForEveryKind) {
    for (const auto kind : {EventKind::delivery, EventKind::bounce, EventKind::soft_bounce, EventKind::open,
                            EventKind::click, EventKind::complaint, EventKind::blocked,
                            EventKind::unsubscribe, EventKind::paused, EventKind::resumed}) {
        const auto parsed = parse_event_kind(event_kind_name(kind));
        ASSERT_TRUE(parsed.has_value());
        EXPECT_EQ(*parsed, kind);
    }
    EXPECT_EQ(event_kind_name(EventKind::soft_bounce), "soft_bounce");
    EXPECT_FALSE(parse_event_kind("Bounce").has_value());
    EXPECT_FALSE(parse_event_kind("").has_value());
}

TEST(Events, IdsAre32HexDigitsAndDistinct) {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        const auto id = make_event_id();
        ASSERT_EQ(id.size(), 32u);
        EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
        EXPECT_TRUE(seen.insert(id).second);
    }
}

TEST(Events, IdsAreDistinctAcrossThreadsAndAfterFork) {
    std::set<std::string> seen;
    for (int i = 0; i < 10; ++i) seen.insert(make_event_id());  // this thread's block is drawn
    std::vector<std::string> other(100);
    std::thread([&other] {
        for (auto& id : other) id = make_event_id();
    }).join();
    for (const auto& id : other) EXPECT_TRUE(seen.insert(id).second) << id;

    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        const std::string id = make_event_id();
        const auto written = ::write(fds[1], id.data(), id.size());
        ::_exit(written == static_cast<ssize_t>(id.size()) ? 0 : 1);
    }
    ::close(fds[1]);
    char buffer[32];
    ASSERT_EQ(::read(fds[0], buffer, sizeof buffer), 32);
    ::close(fds[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    const std::string child_id(buffer, sizeof buffer);
    // The child drew its own block: its id is none the parent hands out next.
    for (int i = 0; i < 64; ++i) EXPECT_NE(make_event_id(), child_id);
    EXPECT_TRUE(seen.insert(child_id).second);
}

TEST(Events, JsonOfAMovedEventIsTheSame) {
    Event event = make_event(EventKind::click, "acme", "a@example.org");
    event.queue_id = "4QX";
    event.details = {{"url", "https://example.org/"}};
    const std::string copied = event_to_json(event).dump();
    EXPECT_EQ(event_to_json(std::move(event)).dump(), copied);
}

TEST(Events, MakeEventFillsIdAndCurrentTime) {
    const auto event = make_event(EventKind::complaint, "acme", "a@example.org");
    EXPECT_EQ(event.id.size(), 32u);
    EXPECT_GT(event.timestamp, 1600000000);
    EXPECT_EQ(event.kind, EventKind::complaint);
    EXPECT_TRUE(event.details.is_object());
}

TEST(Events, JsonHasEveryDocumentedField) {
    const auto json = event_to_json(sample_bounce());
    for (const char* field : {"id", "kind", "tenant", "queue_id", "message_id", "recipient", "timestamp", "details"})
        EXPECT_TRUE(json.contains(field)) << field;
    EXPECT_EQ(json["kind"], "bounce");
    EXPECT_EQ(json["timestamp"], 1700000000);
    EXPECT_EQ(json["details"]["status"], "5.1.1");
}

TEST(Events, DocumentRoundTripsThroughParse) {
    auto second = sample_bounce();
    second.id = "ffffffffffffffffffffffffffffffff";
    second.kind = EventKind::soft_bounce;
    second.details = nlohmann::json::object();
    const auto text = events_document({sample_bounce(), second});
    const auto parsed = parse_events_document(text);
    ASSERT_TRUE(parsed.ok()) << parsed.error();
    ASSERT_EQ(parsed->size(), 2u);
    EXPECT_EQ((*parsed)[0].recipient, "Nobody@Example.org");
    EXPECT_EQ((*parsed)[0].details["diagnostic"], "smtp; 550 5.1.1 user unknown");
    EXPECT_EQ((*parsed)[1].kind, EventKind::soft_bounce);
    EXPECT_EQ((*parsed)[1].queue_id, "4F1C2A0B3D");
}

TEST(Events, InvalidUtf8InDetailsDoesNotThrowWhenSerialised) {
    auto event = sample_bounce();
    event.details["diagnostic"] = std::string("550 \xff\xfe bad", 10);
    std::string text;
    EXPECT_NO_THROW(text = events_document({event}));
    EXPECT_TRUE(parse_events_document(text).ok());
}

TEST(Events, ParseRejectsMalformedDocuments) {
    EXPECT_FALSE(parse_events_document("").ok());
    EXPECT_FALSE(parse_events_document("{\"events\":").ok());
    EXPECT_FALSE(parse_events_document("[]").ok());
    EXPECT_FALSE(parse_events_document("{\"events\":{}}").ok());
    EXPECT_FALSE(parse_events_document(R"({"events":[{"id":"x","kind":"explode"}]})").ok());
    EXPECT_FALSE(parse_events_document(R"({"events":[{"kind":"bounce"}]})").ok());
    EXPECT_FALSE(parse_events_document(R"({"events":[{"id":"x","kind":"bounce","recipient":7}]})").ok());
    EXPECT_FALSE(parse_events_document(R"({"events":[{"id":"x","kind":"bounce","timestamp":"now"}]})").ok());
    EXPECT_FALSE(parse_events_document(R"({"events":[{"id":"x","kind":"bounce","details":[1]}]})").ok());
    EXPECT_TRUE(parse_events_document(R"({"events":[]})").ok());
}

TEST(Events, StreamKeyCarriesTenantHashTag) {
    EXPECT_EQ(events_stream_key("acme"), "tm:{acme}:events");
}

TEST(Events, XaddIsCappedApproximatelyAndCarriesTheJson) {
    const auto argv = build_event_xadd(sample_bounce(), 5000);
    ASSERT_EQ(argv.size(), 8u);
    EXPECT_EQ(argv[0], "XADD");
    EXPECT_EQ(argv[1], "tm:{acme}:events");
    EXPECT_EQ(argv[2], "MAXLEN");
    EXPECT_EQ(argv[3], "~");
    EXPECT_EQ(argv[4], "5000");
    EXPECT_EQ(argv[5], "*");
    EXPECT_EQ(argv[6], "event");
    const auto back = event_from_json(nlohmann::json::parse(argv[7]));
    ASSERT_TRUE(back.ok()) << back.error();
    EXPECT_EQ(back->id, sample_bounce().id);
}

}  // namespace
}  // namespace tenantmail
