// blocked_events_test.cpp — the `blocked` event policyd appends for a
// suppression refusal, and the XADD that carries it.
#include "policyd/blocked_events.h"

#include <gtest/gtest.h>

namespace tenantmail::policyd {
namespace {

TEST(BlockedEvents, EventCarriesRecipientAsSentQueueIdReasonAndReply) {
    const std::string reply = "REJECT 5.1.1 <Gone@Example.ORG>: suppressed for tenant acme (hard bounce)";
    const Event event = make_blocked_event({"acme", "Gone@Example.ORG", "4Q7XbZ1kPz", "hard bounce", reply});
    EXPECT_EQ(event.kind, EventKind::blocked);
    EXPECT_EQ(event.tenant, "acme");
    EXPECT_EQ(event.recipient, "Gone@Example.ORG");
    EXPECT_EQ(event.queue_id, "4Q7XbZ1kPz");
    EXPECT_EQ(event.message_id, "");
    EXPECT_EQ(event.id.size(), 32u);
    EXPECT_GT(event.timestamp, 1700000000);
    EXPECT_EQ(event.details, (nlohmann::json{{"reason", "hard bounce"}, {"reply", reply}}));
}

TEST(BlockedEvents, EachRefusalGetsItsOwnId) {
    const BlockedRecipient blocked{"acme", "a@example.org", "", "r", "REJECT"};
    EXPECT_NE(make_blocked_event(blocked).id, make_blocked_event(blocked).id);
}

TEST(BlockedEvents, GoesToTheTenantsCappedStream) {
    const auto argv = build_event_xadd(make_blocked_event({"acme", "a@example.org", "", "r", "REJECT"}), 5000);
    ASSERT_EQ(argv.size(), 8u);
    EXPECT_EQ(argv[1], "tm:{acme}:events");
    EXPECT_EQ(argv[2], "MAXLEN");
    EXPECT_EQ(argv[3], "~");
    EXPECT_EQ(argv[4], "5000");
    const auto json = nlohmann::json::parse(argv[7]);
    EXPECT_EQ(json["kind"], "blocked");
    EXPECT_EQ(json["details"]["reason"], "r");
}

}  // namespace
}  // namespace tenantmail::policyd
