// suppression_store_test.cpp — the exact commands that write a suppression
// entry, alone and together with its event.
#include "common/suppression_store.h"

#include <gtest/gtest.h>

#include <string>

namespace tenantmail {
namespace {

TEST(SuppressionStore, EntryIsHsetnxOfOurJsonUnderTheRecipient) {
    const auto argv = build_suppression_hsetnx("acme", "jane@example.org", {"unsubscribe", 1795400047});
    ASSERT_EQ(argv.size(), 4u);
    EXPECT_EQ(argv[0], "HSETNX");
    EXPECT_EQ(argv[1], "tm:{acme}:suppressed");
    EXPECT_EQ(argv[2], "jane@example.org");
    const SuppressionEntry decoded = decode_suppression(argv[3]);
    EXPECT_EQ(decoded.reason, "unsubscribe");
    EXPECT_EQ(decoded.time, 1795400047);
}

TEST(SuppressionStore, WithEventIsOneEvalOverBothKeysOfTheTenantsSlotCarryingTheEventAsXaddWritesIt) {
    Event event = make_event(EventKind::unsubscribe, "acme", "jane@example.org");
    event.details = {{"via", "mailto"}};
    const auto argv = build_suppress_with_event("acme", "jane@example.org", {"unsubscribe", 7}, event, 500);
    const auto xadd = build_event_xadd(event, 500);
    ASSERT_EQ(argv.size(), 7u + xadd.size() - 2);
    EXPECT_EQ(argv[0], "EVAL");
    EXPECT_NE(argv[1].find("HSETNX"), std::string::npos);
    EXPECT_EQ(argv[2], "2");
    EXPECT_EQ(argv[3], "tm:{acme}:suppressed");
    EXPECT_EQ(argv[4], "tm:{acme}:events");
    EXPECT_EQ(argv[5], "jane@example.org");
    EXPECT_EQ(decode_suppression(argv[6]).reason, "unsubscribe");
    // The stream entry is byte for byte what append_event would write.
    for (std::size_t i = 2; i < xadd.size(); ++i) EXPECT_EQ(argv[7 + i - 2], xadd[i]) << i;
}

}  // namespace
}  // namespace tenantmail
