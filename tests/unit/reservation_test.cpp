// reservation_test.cpp — the pure half of accepted-only counting: how the
// milter and policyd name one SMTP connection, and the commit and release
// requests. The script itself runs against a real Redis in
// tests/integration/policyd_accepted_test.py.
#include "common/reservation.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/redis_script.h"

namespace tenantmail {
namespace {

TEST(ConnectionId, NamesClientAddressPortAndServerAddress) {
    EXPECT_EQ(connection_id("192.0.2.10", "40312", "192.0.2.25"), "192.0.2.10,40312,192.0.2.25");
    EXPECT_EQ(connection_id("127.0.0.1", "0", "127.0.0.1"), "127.0.0.1,0,127.0.0.1");
}

TEST(ConnectionId, BothProgramsGetTheSameNameForOneIPv6Address) {
    // Postfix and the milter may spell an address differently; the
    // canonical form makes their names meet.
    EXPECT_EQ(connection_id("2001:DB8:0:0::7", "25", "2001:db8::25"), connection_id("2001:db8::7", "25", "2001:db8::25"));
    EXPECT_EQ(connection_id("2001:db8::7", "25", "2001:db8::25"), "2001:db8::7,25,2001:db8::25");
}

TEST(ConnectionId, IsEmptyWhenAPartIsMissingOrMalformed) {
    EXPECT_EQ(connection_id("", "40312", "192.0.2.25"), "");
    EXPECT_EQ(connection_id("192.0.2.10", "", "192.0.2.25"), "");
    EXPECT_EQ(connection_id("192.0.2.10", "40312", ""), "");
    EXPECT_EQ(connection_id("unknown", "40312", "192.0.2.25"), "");
    EXPECT_EQ(connection_id("192.0.2.10", "4031x", "192.0.2.25"), "");
    EXPECT_EQ(connection_id("192.0.2.10", "-1", "192.0.2.25"), "");
    EXPECT_EQ(connection_id("192.0.2.10", "403120", "192.0.2.25"), "");
    EXPECT_EQ(connection_id("192.0.2.10", "40312", "192.0.2.25\n"), "");
    EXPECT_EQ(connection_id("192.0.2.10,1", "40312", "192.0.2.25"), "");
}

TEST(Reservation, CommitNamesTheRecordAndTheQueuedRecipients) {
    const std::vector<std::string> argv =
        build_reservation_commit("acme", "192.0.2.10,40312,192.0.2.25", {"a@example.org", "b@example.org"});
    ASSERT_EQ(argv.size(), 6u);
    EXPECT_EQ(argv[0], "EVALSHA");
    EXPECT_EQ(argv[1], script_sha1(reservation_script()));
    EXPECT_EQ(argv[2], "1");
    EXPECT_EQ(argv[3], "tm:{acme}:held:192.0.2.10,40312,192.0.2.25");
    EXPECT_EQ(argv[4], "a@example.org");
    EXPECT_EQ(argv[5], "b@example.org");
}

TEST(Reservation, ReleaseIsACommitOfNoRecipients) {
    const std::vector<std::string> argv = build_reservation_release("acme", "192.0.2.10,40312,192.0.2.25");
    ASSERT_EQ(argv.size(), 4u);
    EXPECT_EQ(argv[3], "tm:{acme}:held:192.0.2.10,40312,192.0.2.25");
}

TEST(Reservation, RecordSharesTheTenantsHashSlot) {
    // The script touches the tenant's limit keys named in the record: on a
    // Redis Cluster they must live in the record's slot.
    const std::string key = build_reservation_release("uni", "127.0.0.1,1,127.0.0.1")[3];
    EXPECT_EQ(key.rfind("tm:{uni}:", 0), 0u);
}

}  // namespace
}  // namespace tenantmail
