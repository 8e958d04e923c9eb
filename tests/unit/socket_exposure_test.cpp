#include "common/socket_exposure.h"

#include <gtest/gtest.h>

namespace tenantmail {
namespace {

TEST(SocketExposureTest, UnixSocketsAreNotNetworkSockets) {
    EXPECT_FALSE(is_network_socket("unix:/var/spool/postfix/tenantmail/milter.sock"));
    EXPECT_FALSE(is_network_socket("local:/run/tenantmail/milter.sock"));
    EXPECT_FALSE(is_network_socket("/run/tenantmail/milter.sock"));
}

TEST(SocketExposureTest, InetSocketsAreNetworkSocketsEvenOnLoopback) {
    EXPECT_TRUE(is_network_socket("inet:8894@127.0.0.1"));
    EXPECT_TRUE(is_network_socket("inet6:8894@[::1]"));
    EXPECT_TRUE(is_network_socket("8894@localhost"));  // libmilter reads a bare PORT@HOST as inet
}

TEST(SocketExposureTest, WarningSaysWhatALocalProcessCanDo) {
    const std::string text = network_socket_warning("milter socket", "inet:8894@127.0.0.1");
    EXPECT_EQ(text.rfind("the milter socket inet:8894@127.0.0.1 is a TCP socket", 0), 0u) << text;
    EXPECT_NE(text.find("claim any SASL login"), std::string::npos);
    EXPECT_NE(text.find("unix socket"), std::string::npos);
}

}  // namespace
}  // namespace tenantmail
