// destination_policy_test.cpp — which addresses and URLs the
// dispatcher refuses: the special-purpose ranges of both families, IPv6
// forms that carry a refused IPv4 address, public addresses admitted, the
// allow-list, the https requirement and literal hosts in libcurl's forms.
#include "common/destination_policy.h"

#include <gtest/gtest.h>

namespace tenantmail::webhookd {
namespace {

IpAddress address(std::string_view text) {
    const auto parsed = IpAddress::parse(text);
    EXPECT_TRUE(parsed.has_value()) << text;
    return parsed.value_or(IpAddress{});
}

std::string block_of(std::string_view text) {
    const auto range = special_range(address(text));
    return range ? range->block : "public";
}

DestinationPolicy allowing(std::initializer_list<std::string_view> blocks) {
    DestinationPolicy policy;
    for (const std::string_view block : blocks) policy.allowed_networks.push_back(*Network::parse(block));
    return policy;
}

TEST(DestinationPolicy, RefusesTheSpecialPurposeIpv4Ranges) {
    const std::pair<const char*, const char*> cases[] = {
        {"0.0.0.0", "0.0.0.0/8"},          {"0.1.2.3", "0.0.0.0/8"},
        {"10.0.0.1", "10.0.0.0/8"},        {"10.255.255.255", "10.0.0.0/8"},
        {"100.64.0.1", "100.64.0.0/10"},   {"100.127.255.254", "100.64.0.0/10"},
        {"127.0.0.1", "127.0.0.0/8"},      {"127.255.0.9", "127.0.0.0/8"},
        {"169.254.169.254", "169.254.0.0/16"},
        {"172.16.0.1", "172.16.0.0/12"},   {"172.31.255.255", "172.16.0.0/12"},
        {"192.0.0.8", "192.0.0.0/24"},     {"192.0.2.1", "192.0.2.0/24"},
        {"192.88.99.1", "192.88.99.0/24"}, {"192.168.1.1", "192.168.0.0/16"},
        {"198.18.0.1", "198.18.0.0/15"},   {"198.19.255.1", "198.18.0.0/15"},
        {"198.51.100.7", "198.51.100.0/24"}, {"203.0.113.9", "203.0.113.0/24"},
        {"224.0.0.1", "224.0.0.0/4"},      {"239.255.255.250", "224.0.0.0/4"},
        {"240.0.0.1", "240.0.0.0/4"},      {"255.255.255.255", "255.255.255.255/32"},
    };
    for (const auto& [text, block] : cases) EXPECT_EQ(block_of(text), block) << text;
}

TEST(DestinationPolicy, RefusesTheSpecialPurposeIpv6Ranges) {
    const std::pair<const char*, const char*> cases[] = {
        {"::", "::/128"},
        {"::1", "::1/128"},
        {"::7f00:1", "::/96"},  // IPv4-compatible ::127.0.0.1
        {"::8.8.8.8", "::/96"},
        {"64:ff9b:1::1", "64:ff9b:1::/48"},
        {"100::1", "100::/64"},
        {"2001::1", "2001::/23"},  // Teredo
        {"2001:2::1", "2001::/23"},
        {"2001:db8::1", "2001:db8::/32"},
        {"3fff::1", "3fff::/20"},
        {"fc00::1", "fc00::/7"},
        {"fd12:3456::1", "fc00::/7"},
        {"fe80::1", "fe80::/10"},
        {"febf::1", "fe80::/10"},
        {"fec0::1", "fec0::/10"},
        {"ff02::1", "ff00::/8"},
    };
    for (const auto& [text, block] : cases) EXPECT_EQ(block_of(text), block) << text;
}

TEST(DestinationPolicy, JudgesIpv6FormsOfIpv4ByTheIpv4Address) {
    // Mapped addresses are IPv4 once parsed (common/network.h).
    EXPECT_EQ(block_of("::ffff:127.0.0.1"), "127.0.0.0/8");
    EXPECT_EQ(block_of("::ffff:a9fe:a9fe"), "169.254.0.0/16");
    // NAT64 and 6to4 reach the IPv4 address they carry.
    EXPECT_EQ(block_of("64:ff9b::7f00:1"), "64:ff9b::/96");
    EXPECT_NE(special_range(address("64:ff9b::a9fe:a9fe"))->name.find("169.254.169.254"), std::string::npos);
    EXPECT_EQ(block_of("2002:c0a8:101::1"), "2002::/16");
    EXPECT_NE(special_range(address("2002:c0a8:101::1"))->name.find("192.168.1.1, private network"),
              std::string::npos);
    EXPECT_EQ(block_of("64:ff9b::808:808"), "public");  // NAT64 of 8.8.8.8
    EXPECT_EQ(block_of("2002:808:808::1"), "public");
}

TEST(DestinationPolicy, AdmitsPublicAddressesOfBothFamilies) {
    for (const char* text : {"8.8.8.8", "1.1.1.1", "93.184.216.34", "100.63.255.255", "100.128.0.0", "172.15.255.255",
                             "172.32.0.0", "192.0.1.255", "192.169.0.0", "198.17.255.255", "198.20.0.0",
                             "223.255.255.255", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e", "2001:4860::8888",
                             "fbff::1", "fe7f::1"}) {
        EXPECT_EQ(block_of(text), "public") << text;
        EXPECT_EQ(refused_address(address(text), {}), "") << text;
    }
}

TEST(DestinationPolicy, RefusalNamesTheAddressTheRuleAndTheWayOut) {
    EXPECT_EQ(refused_address(address("169.254.169.254"), {}),
              "destination 169.254.169.254 is refused: link-local, cloud metadata services live here (RFC 3927) "
              "(169.254.0.0/16); list it in webhookd.allowed_networks to allow it");
    EXPECT_EQ(refused_address(address("::1"), {}),
              "destination ::1 is refused: loopback (::1/128); list it in webhookd.allowed_networks to allow it");
}

TEST(DestinationPolicy, AllowListAdmitsOnlyWhatItNames) {
    const DestinationPolicy policy = allowing({"127.0.0.1", "10.20.0.0/16", "fd00:1::/32"});
    EXPECT_EQ(refused_address(address("127.0.0.1"), policy), "");
    EXPECT_EQ(refused_address(address("::ffff:127.0.0.1"), policy), "");
    EXPECT_NE(refused_address(address("127.0.0.2"), policy), "");
    EXPECT_EQ(refused_address(address("10.20.3.4"), policy), "");
    EXPECT_NE(refused_address(address("10.21.0.1"), policy), "");
    EXPECT_EQ(refused_address(address("fd00:1:2::3"), policy), "");
    EXPECT_NE(refused_address(address("fd00:2::3"), policy), "");
    EXPECT_NE(refused_address(address("::1"), policy), "");  // an IPv4 entry says nothing of IPv6 loopback
}

TEST(DestinationPolicy, UrlsMustBeHttpsUnlessHttpIsAllowed) {
    EXPECT_EQ(refused_url("https://hooks.example.com/tm", {}), "");
    EXPECT_EQ(refused_url("HTTPS://hooks.example.com/tm", {}), "");
    EXPECT_NE(refused_url("http://hooks.example.com/tm", {}).find("plain http is refused"), std::string::npos);
    DestinationPolicy http;
    http.allow_http = true;
    EXPECT_EQ(refused_url("http://hooks.example.com/tm", http), "");
    EXPECT_EQ(refused_url("ftp://hooks.example.com/", http), "not an http(s) URL");
    EXPECT_EQ(refused_url("hooks.example.com/tm", http), "not an http(s) URL");
}

TEST(DestinationPolicy, UrlsNamingARefusedLiteralAreRefusedInEveryForm) {
    for (const char* url : {"https://127.0.0.1/hook", "https://127.0.0.1:8443/hook", "https://user:pw@127.0.0.1/",
                            "https://[::1]:443/hook", "https://[::ffff:127.0.0.1]/", "https://[fe80::1%25eth0]/",
                            "https://169.254.169.254/latest/meta-data/", "https://127.1/", "https://2130706433/",
                            "https://0x7f.0.0.1/", "https://0177.0.0.1/", "https://10.1.2.3?x=1",
                            "https://evil.example@192.168.0.1#frag"}) {
        EXPECT_NE(refused_url(url, {}).find("is refused"), std::string::npos) << url;
    }
    EXPECT_EQ(refused_url("https://93.184.216.34/hook", {}), "");
    EXPECT_EQ(refused_url("https://[2606:4700::1]/hook", {}), "");
    // A name is judged when the dispatcher connects, on what it resolves to.
    EXPECT_EQ(refused_url("https://localhost/hook", {}), "");
    EXPECT_EQ(refused_url("https://127.0.0.1.nip.example/hook", {}), "");
    EXPECT_EQ(refused_url("https://127.0.0.1:8443/hook", allowing({"127.0.0.0/8"})), "");
}

TEST(DestinationPolicy, UrlHostStripsUserinfoPortAndBrackets) {
    EXPECT_EQ(url_host("https://a.example/x"), "a.example");
    EXPECT_EQ(url_host("https://u:p@a.example:8443/x"), "a.example");
    EXPECT_EQ(url_host("https://[2001:db8::1]:8443/x"), "2001:db8::1");
    EXPECT_EQ(url_host("https://a.example?q"), "a.example");
    EXPECT_EQ(url_host("no scheme"), "");
}

}  // namespace
}  // namespace tenantmail::webhookd
