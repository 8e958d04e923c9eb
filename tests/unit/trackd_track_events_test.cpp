// trackd_track_events_test.cpp — the events trackd records and the Redis
// commands recording them (trackd/track_events.h), the pages and the pixel
// (trackd/pages.h), and the open repeat key (common/redis_keys.h).
#include "trackd/track_events.h"

#include <gtest/gtest.h>

#include "common/redis_keys.h"
#include "common/suppression.h"
#include "trackd/pages.h"

namespace tenantmail::trackd {
namespace {

TrackingLink link(TrackingLinkKind kind) {
    TrackingLink l;
    l.kind = kind;
    l.tenant = "acme";
    l.queue_id = "4QXYZ123";
    l.recipient = "Reader@Example.NET";
    l.url = kind == TrackingLinkKind::click ? "https://www.acme.example/" : "";
    l.issued_at = 1767225600;
    return l;
}

TEST(TrackdEvents, ClickEventCarriesUrlAgentAddressAndFlags) {
    const RequestFacts facts{"curl/8.0\x01\xff", "203.0.113.9", {kScanner, "curl/"}};
    const Event event = make_track_event(EventKind::click, link(TrackingLinkKind::click), facts);
    EXPECT_EQ(event.kind, EventKind::click);
    EXPECT_EQ(event.tenant, "acme");
    EXPECT_EQ(event.queue_id, "4QXYZ123");
    EXPECT_EQ(event.recipient, "Reader@Example.NET");
    EXPECT_EQ(event.details["url"], "https://www.acme.example/");
    EXPECT_EQ(event.details["client_address"], "203.0.113.9");
    EXPECT_EQ(event.details["user_agent"], "curl/8.0??");
    EXPECT_EQ(event.details["automated"], "scanner");
    EXPECT_EQ(event.details["automated_reason"], "curl/");
}

TEST(TrackdEvents, ReaderEventHasNoAutomatedDetail) {
    const Event event = make_track_event(EventKind::open, link(TrackingLinkKind::open), {"Firefox", "192.0.2.1", {}});
    EXPECT_FALSE(event.details.contains("automated"));
    EXPECT_FALSE(event.details.contains("url"));
    EXPECT_EQ(event.details["user_agent"], "Firefox");
}

TEST(TrackdEvents, LongUserAgentIsCut) {
    const std::string agent(5000, 'a');
    const Event event = make_track_event(EventKind::open, link(TrackingLinkKind::open), {agent, "192.0.2.1", {}});
    EXPECT_LE(event.details["user_agent"].get<std::string>().size(), kMaxUserAgentBytes + 3);
}

TEST(TrackdEvents, OpenCommandKeysAreInTheTenantsSlot) {
    const Event event = make_track_event(EventKind::open, link(TrackingLinkKind::open), {"", "192.0.2.1", {}});
    ScriptCommand command = build_open_command(event, std::chrono::seconds(3600), 1000);
    const auto& argv = command.argv;
    ASSERT_EQ(argv.size(), 10u);
    EXPECT_EQ(argv[0], "EVALSHA");
    EXPECT_EQ(argv[1], script_sha1(command.body));
    EXPECT_EQ(argv[2], "3");
    EXPECT_EQ(argv[3], "tm:{acme}:opened:4QXYZ123:reader@example.net");
    EXPECT_EQ(argv[4], "tm:{acme}:events");
    EXPECT_EQ(argv[5], "tm:{acme}:msg:4QXYZ123");
    EXPECT_EQ(argv[6], "3600");
    EXPECT_EQ(argv[7], "1000");
    const Event sent = event_from_json(nlohmann::json::parse(argv[8])).value();
    EXPECT_EQ(sent.id, event.id);
    // The script puts the record's Message-ID where the marker is.
    EXPECT_EQ("\"" + sent.message_id + "\"", argv[9]);
    EXPECT_NE(argv[8].find(argv[9]), std::string::npos);
}

TEST(TrackdEvents, UnsubscribeCommandWritesTheSuppressionEntry) {
    const Event event =
        make_track_event(EventKind::unsubscribe, link(TrackingLinkKind::unsubscribe), {"", "192.0.2.1", {}});
    const auto argv = build_unsubscribe_command(event, 1767229200, 1000).argv;
    ASSERT_EQ(argv.size(), 11u);
    EXPECT_EQ(argv[3], suppression_key("acme"));
    EXPECT_EQ(argv[4], events_stream_key("acme"));
    EXPECT_EQ(argv[5], "tm:{acme}:msg:4QXYZ123");
    EXPECT_EQ(argv[6], "reader@example.net");
    const SuppressionEntry entry = decode_suppression(argv[7]);
    EXPECT_EQ(entry.reason, "unsubscribe");
    EXPECT_EQ(entry.time, 1767229200);
    EXPECT_EQ(event.details["method"], "one-click");
}

TEST(TrackdEvents, ClickCommandAddsTheEventWithTheRecordsMessageId) {
    const Event event = make_track_event(EventKind::click, link(TrackingLinkKind::click), {"", "192.0.2.1", {}});
    ScriptCommand command = build_click_command(event, 1000);
    ASSERT_EQ(command.argv.size(), 8u);
    EXPECT_EQ(command.argv[0], "EVALSHA");
    command.use_eval();
    const auto& argv = command.argv;
    EXPECT_EQ(argv[0], "EVAL");
    EXPECT_EQ(argv[1], command.body);
    EXPECT_EQ(argv[2], "2");
    EXPECT_EQ(argv[3], "tm:{acme}:events");
    EXPECT_EQ(argv[4], "tm:{acme}:msg:4QXYZ123");
    EXPECT_NE(argv[6].find(argv[7]), std::string::npos);
}

TEST(TrackdPages, PixelIsTheSmallestTransparentGif) {
    const std::string_view gif = transparent_gif();
    ASSERT_EQ(gif.size(), 43u);
    EXPECT_EQ(gif.substr(0, 6), "GIF89a");
    EXPECT_EQ(gif.back(), ';');
}

TEST(TrackdPages, UnsubscribePageHasAOneClickPostForm) {
    const std::string page = unsubscribe_page("abc<\"");
    EXPECT_NE(page.find("<form method=\"post\" action=\"/u/abc&lt;&quot;\""), std::string::npos);
    EXPECT_NE(page.find("name=\"List-Unsubscribe\" value=\"One-Click\""), std::string::npos);
    EXPECT_EQ(page.find("<script"), std::string::npos);
}

}  // namespace
}  // namespace tenantmail::trackd
