// transport_route_test.cpp — CLASS_route values: what Postfix's FILTER
// action takes, and nothing that could end or split a policy reply line.
#include "common/transport_route.h"

#include <gtest/gtest.h>

namespace tenantmail {
namespace {

TEST(TransportRoute, AcceptsMasterCfServicesAndNexthops) {
    for (const char* value : {"smtp-pool-a:", "relay:[smtp.relay.example]:587", "lmtp:unix:/run/lmtp",
                              "smtp_b.2:[2001:db8::1]:25", "x:"}) {
        const auto route = parse_transport_route(value);
        ASSERT_TRUE(route.ok()) << value << ": " << route.error();
        EXPECT_EQ(*route, value);
    }
}

TEST(TransportRoute, RefusesWhatIsNotTransportColonNexthop) {
    EXPECT_EQ(parse_transport_route("smtp-pool-a").error(),
              "not TRANSPORT:NEXTHOP (e.g. smtp-pool-a: or relay:[smtp.relay.example]:587)");
    EXPECT_FALSE(parse_transport_route("").ok());
    EXPECT_FALSE(parse_transport_route(":[relay.example]").ok());
    EXPECT_FALSE(parse_transport_route("-pool:").ok());
    EXPECT_FALSE(parse_transport_route("po/ol:").ok());
    EXPECT_FALSE(parse_transport_route(std::string(65, 'a') + ":").ok());
    EXPECT_TRUE(parse_transport_route(std::string(64, 'a') + ":").ok());
}

TEST(TransportRoute, RefusesOctetsThatWouldChangeTheReply) {
    // A newline would end the policy reply and start a forged one; white
    // space, ',' and ';' would make Postfix read a different action.
    for (const char* value : {"smtp:[a]\n\naction=OK", "smtp:[a] OK", "smtp:[a]\t", "smtp:a,b", "smtp:a;b",
                              "smtp:\x7f", "smtp:\x01", "smtp:caf\xc3\xa9", "sm tp:"}) {
        EXPECT_FALSE(parse_transport_route(value).ok()) << value;
    }
    EXPECT_FALSE(parse_transport_route(std::string("smtp:a\0b", 8)).ok());
}

TEST(TransportRoute, IsBounded) {
    const std::string longest = "relay:" + std::string(kMaxRouteLength - 6, 'a');
    EXPECT_TRUE(parse_transport_route(longest).ok());
    EXPECT_EQ(parse_transport_route(longest + "a").error(), "longer than 300 characters");
}

}  // namespace
}  // namespace tenantmail
