// network_test.cpp — addresses and CIDR blocks: containment for both
// families, IPv4-mapped IPv6 treated as IPv4, Postfix-like refusal of host
// bits, overlap between blocks.
#include "common/network.h"

#include <gtest/gtest.h>

namespace tenantmail {
namespace {

Network network(std::string_view text) {
    auto parsed = Network::parse(text);
    EXPECT_TRUE(parsed.ok()) << text << ": " << (parsed.ok() ? "" : parsed.error());
    return parsed.ok() ? *parsed : *Network::parse("0.0.0.0/32");
}

IpAddress address(std::string_view text) {
    const auto parsed = IpAddress::parse(text);
    EXPECT_TRUE(parsed.has_value()) << text;
    return parsed.value_or(IpAddress{});
}

std::string network_error(std::string_view text) {
    auto parsed = Network::parse(text);
    EXPECT_FALSE(parsed.ok()) << text;
    return parsed.ok() ? std::string() : parsed.error();
}

TEST(IpAddress, ParsesBothFamilies) {
    EXPECT_TRUE(address("192.0.2.1").is_v4());
    EXPECT_FALSE(address("2001:db8::1").is_v4());
    EXPECT_EQ(address("2001:DB8::1").to_string(), "2001:db8::1");
}

TEST(IpAddress, MappedIpv6IsTheIpv4Address) {
    const IpAddress mapped = address("::ffff:192.0.2.1");
    EXPECT_TRUE(mapped.is_v4());
    EXPECT_EQ(mapped, address("192.0.2.1"));
    EXPECT_EQ(mapped.to_string(), "192.0.2.1");
}

TEST(IpAddress, RejectsWhatIsNotAnAddress) {
    for (const char* text : {"", "192.0.2", "192.0.2.256", "192.0.2.1/32", "[2001:db8::1]", "fe80::1%eth0",
                             "example.com", "192.0.2.1 ", "unknown", "01.2.3.4"}) {
        EXPECT_FALSE(IpAddress::parse(text).has_value()) << text;
    }
    EXPECT_FALSE(IpAddress::parse(std::string(100, '1')).has_value());
}

TEST(Network, Ipv4BlockContainsItsAddressesOnly) {
    const Network block = network("192.0.2.0/28");
    EXPECT_TRUE(block.contains(address("192.0.2.0")));
    EXPECT_TRUE(block.contains(address("192.0.2.15")));
    EXPECT_FALSE(block.contains(address("192.0.2.16")));
    EXPECT_FALSE(block.contains(address("192.0.3.1")));
}

TEST(Network, Ipv6BlockContainsItsAddressesOnly) {
    const Network block = network("2001:db8::/32");
    EXPECT_TRUE(block.contains(address("2001:db8:ffff::1")));
    EXPECT_FALSE(block.contains(address("2001:db9::1")));
    const Network odd = network("2001:db8:1::/49");
    EXPECT_TRUE(odd.contains(address("2001:db8:1:7fff::1")));
    EXPECT_FALSE(odd.contains(address("2001:db8:1:8000::1")));
}

TEST(Network, PlainAddressIsAHostBlock) {
    EXPECT_EQ(network("192.0.2.7").prefix(), 32);
    EXPECT_EQ(network("2001:db8::7").prefix(), 128);
    EXPECT_TRUE(network("192.0.2.7").contains(address("192.0.2.7")));
    EXPECT_FALSE(network("192.0.2.7").contains(address("192.0.2.8")));
}

TEST(Network, MappedClientAddressMatchesIpv4Block) {
    EXPECT_TRUE(network("192.0.2.0/28").contains(address("::ffff:192.0.2.3")));
    EXPECT_FALSE(network("192.0.2.0/28").contains(address("::ffff:192.0.2.99")));
}

TEST(Network, MappedBlockIsTheIpv4Block) {
    const Network block = network("::ffff:192.0.2.0/120");
    EXPECT_EQ(block.to_string(), "192.0.2.0/24");
    EXPECT_TRUE(block.contains(address("192.0.2.200")));
    EXPECT_EQ(network_error("::ffff:0:0/95"),
              "\"::ffff:0:0/95\" covers more than the IPv4-mapped range ::ffff:0:0/96; "
              "write the IPv6 and IPv4 blocks separately");
}

TEST(Network, FamiliesDoNotMatchEachOther) {
    EXPECT_FALSE(network("::/0").contains(address("192.0.2.1")));
    EXPECT_FALSE(network("0.0.0.0/0").contains(address("2001:db8::1")));
    EXPECT_TRUE(network("0.0.0.0/0").contains(address("203.0.113.9")));
}

TEST(Network, HostBitsSetAreRefusedWithTheFix) {
    EXPECT_EQ(network_error("192.0.2.1/28"),
              "non-null host address bits in \"192.0.2.1/28\", did you mean \"192.0.2.0/28\"?");
    EXPECT_EQ(network_error("2001:db8::1/32"),
              "non-null host address bits in \"2001:db8::1/32\", did you mean \"2001:db8::/32\"?");
}

TEST(Network, BadPrefixesAreRefused) {
    EXPECT_EQ(network_error("192.0.2.0/33"), "in \"192.0.2.0/33\": prefix length /33 exceeds 32");
    EXPECT_EQ(network_error("2001:db8::/129"), "in \"2001:db8::/129\": prefix length /129 exceeds 128");
    EXPECT_EQ(network_error("192.0.2.0/"), "in \"192.0.2.0/\": bad prefix length \"\"");
    EXPECT_EQ(network_error("192.0.2.0/-1"), "in \"192.0.2.0/-1\": bad prefix length \"-1\"");
    EXPECT_EQ(network_error("192.0.2.0/2x"), "in \"192.0.2.0/2x\": bad prefix length \"2x\"");
    network_error("192.0.2.0/1234");
    network_error("192.0.2.0/24/1");
}

TEST(Network, NonAddressesAreRefused) {
    EXPECT_EQ(network_error("example.com/24"), "not an IP address: \"example.com\"");
    EXPECT_EQ(network_error("/24"), "not an IP address: \"\"");
}

TEST(Network, OverlapMeansNestedOrEqual) {
    EXPECT_TRUE(network("192.0.2.0/24").overlaps(network("192.0.2.16/28")));
    EXPECT_TRUE(network("192.0.2.16/28").overlaps(network("192.0.2.0/24")));
    EXPECT_TRUE(network("192.0.2.0/28").overlaps(network("192.0.2.0/28")));
    EXPECT_FALSE(network("192.0.2.0/28").overlaps(network("192.0.2.16/28")));
    EXPECT_TRUE(network("2001:db8::/32").overlaps(network("2001:db8:1::/48")));
    EXPECT_FALSE(network("::/0").overlaps(network("0.0.0.0/0")));
}

TEST(Network, ZeroPrefixIsEverythingOfItsFamily) {
    EXPECT_EQ(network("0.0.0.0/0").prefix(), 0);
    EXPECT_EQ(network_error("0.0.0.1/0"), "non-null host address bits in \"0.0.0.1/0\", did you mean \"0.0.0.0/0\"?");
}

}  // namespace
}  // namespace tenantmail
