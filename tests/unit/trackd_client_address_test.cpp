// trackd_client_address_test.cpp — the reader's address behind the TLS proxy
// (trackd/client_address.h): X-Forwarded-For believed only from trusted
// proxies, read from the right.
#include "trackd/client_address.h"

#include <gtest/gtest.h>

namespace tenantmail::trackd {
namespace {

IpAddress ip(std::string_view text) { return *IpAddress::parse(text); }

const std::vector<Network> kProxies = {*Network::parse("127.0.0.1"), *Network::parse("::1"),
                                       *Network::parse("10.0.0.0/8")};

TEST(TrackdClientAddress, UntrustedPeerIsTheClientWhateverItForwards) {
    EXPECT_EQ(client_address(ip("198.51.100.7"), "203.0.113.1", kProxies).to_string(), "198.51.100.7");
}

TEST(TrackdClientAddress, TrustedPeerWithoutForwardedForIsTheClient) {
    EXPECT_EQ(client_address(ip("127.0.0.1"), "", kProxies).to_string(), "127.0.0.1");
}

TEST(TrackdClientAddress, TrustedPeerGivesTheRightmostEntry) {
    EXPECT_EQ(client_address(ip("127.0.0.1"), "203.0.113.9", kProxies).to_string(), "203.0.113.9");
}

TEST(TrackdClientAddress, EntriesLeftOfAnUntrustedHopAreNotBelieved) {
    // The client wrote "192.0.2.66" itself; nginx appended the real peer.
    EXPECT_EQ(client_address(ip("127.0.0.1"), "192.0.2.66, 203.0.113.9", kProxies).to_string(), "203.0.113.9");
}

TEST(TrackdClientAddress, TrustedHopsAreSkippedFromTheRight) {
    EXPECT_EQ(client_address(ip("::1"), "203.0.113.9, 10.1.2.3,10.9.9.9", kProxies).to_string(), "203.0.113.9");
}

TEST(TrackdClientAddress, GarbageEntryStopsAtTheLastTrustedHop) {
    EXPECT_EQ(client_address(ip("127.0.0.1"), "203.0.113.9, unknown", kProxies).to_string(), "127.0.0.1");
    EXPECT_EQ(client_address(ip("127.0.0.1"), "203.0.113.9, 10.1.2.3, nonsense", kProxies).to_string(), "127.0.0.1");
}

TEST(TrackdClientAddress, EntriesWithPortsAndIpv6AreRead) {
    EXPECT_EQ(client_address(ip("127.0.0.1"), "203.0.113.9:5123", kProxies).to_string(), "203.0.113.9");
    EXPECT_EQ(client_address(ip("127.0.0.1"), "[2001:db8::5]:443", kProxies).to_string(), "2001:db8::5");
    EXPECT_EQ(client_address(ip("127.0.0.1"), "2001:db8::5", kProxies).to_string(), "2001:db8::5");
}

TEST(TrackdClientAddress, NoTrustedProxiesMeansThePeer) {
    EXPECT_EQ(client_address(ip("127.0.0.1"), "203.0.113.9", {}).to_string(), "127.0.0.1");
}

}  // namespace
}  // namespace tenantmail::trackd
