// policy_protocol_test.cpp — the Postfix policy protocol parser: requests
// split anywhere across reads, several in one read, the limits (size,
// attribute count), malformed and binary input, end of input in the middle
// of a request; and listen addresses (inet:PORT@HOST, inet6, unix:/path).
#include "policyd/policy_protocol.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "common/listen_address.h"

namespace tenantmail::policyd {
namespace {

using Status = PolicyParser::Status;

const std::string kRcptRequest =
    "request=smtpd_access_policy\n"
    "protocol_state=RCPT\n"
    "protocol_name=ESMTP\n"
    "client_address=192.0.2.10\n"
    "client_name=app.example\n"
    "helo_name=app.example\n"
    "sender=news@careers.uni.ac.uk\n"
    "recipient=Bob@Example.org\n"
    "queue_id=4XyZ1234\n"
    "sasl_method=PLAIN\n"
    "sasl_username=acme-bulk\n"
    "instance=123.456.7\n"
    "\n";

// Feeds input in pieces of at most chunk bytes, collecting every request.
std::vector<PolicyRequest> parse_in_chunks(PolicyParser& parser, const std::string& input, std::size_t chunk) {
    std::vector<PolicyRequest> requests;
    for (std::size_t at = 0; at < input.size(); at += chunk) {
        parser.feed(std::string_view(input).substr(at, chunk));
        for (;;) {
            const Status status = parser.parse();
            if (status == Status::ready) {
                requests.push_back(parser.request());
                continue;
            }
            EXPECT_NE(status, Status::error) << parser.error();
            break;
        }
    }
    return requests;
}

std::string error_for(const std::string& input, PolicyLimits limits = {}) {
    PolicyParser parser(limits);
    parser.feed(input);
    Status status;
    while ((status = parser.parse()) == Status::ready) {
    }
    EXPECT_EQ(status, Status::error) << "input accepted: " << input.substr(0, 80);
    return parser.error();
}

TEST(PolicyParser, KeepsTheAttributesTheDecisionNeeds) {
    PolicyParser parser;
    parser.feed(kRcptRequest);
    ASSERT_EQ(parser.parse(), Status::ready) << parser.error();
    const PolicyRequest& request = parser.request();
    EXPECT_EQ(request.request, "smtpd_access_policy");
    EXPECT_EQ(request.protocol_state, "RCPT");
    EXPECT_EQ(request.client_address, "192.0.2.10");
    EXPECT_EQ(request.recipient, "Bob@Example.org");
    EXPECT_EQ(request.queue_id, "4XyZ1234");
    EXPECT_EQ(request.sasl_username, "acme-bulk");
    EXPECT_EQ(request.attributes, 12u);
    EXPECT_EQ(parser.parse(), Status::need_more);
    EXPECT_TRUE(parser.finish());
}

TEST(PolicyParser, KeepsTheConnectionAttributesAcceptedOnlyCountingNeeds) {
    PolicyParser parser;
    parser.feed("request=smtpd_access_policy\nclient_address=2001:db8::7\nclient_port=40312\n"
                "server_address=2001:db8::25\n\n");
    ASSERT_EQ(parser.parse(), Status::ready) << parser.error();
    EXPECT_EQ(parser.request().client_port, "40312");
    EXPECT_EQ(parser.request().server_address, "2001:db8::25");
    parser.feed("request=smtpd_access_policy\n\n");
    ASSERT_EQ(parser.parse(), Status::ready) << parser.error();
    EXPECT_EQ(parser.request().client_port, "");
    EXPECT_EQ(parser.request().server_address, "");
}

TEST(PolicyParser, RequestFedOneByteAtATimeIsTheSame) {
    PolicyParser parser;
    const auto requests = parse_in_chunks(parser, kRcptRequest, 1);
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].recipient, "Bob@Example.org");
    EXPECT_EQ(requests[0].sasl_username, "acme-bulk");
    EXPECT_TRUE(parser.finish());
}

TEST(PolicyParser, TwoRequestsSplitAtEveryPositionComeOutWhole) {
    const std::string second = "request=smtpd_access_policy\nprotocol_state=DATA\nrecipient=x@y\n\n";
    const std::string input = kRcptRequest + second;
    for (std::size_t split = 1; split < input.size(); ++split) {
        PolicyParser parser;
        std::vector<PolicyRequest> requests;
        for (const std::string_view piece : {std::string_view(input).substr(0, split), std::string_view(input).substr(split)}) {
            parser.feed(piece);
            while (parser.parse() == Status::ready) requests.push_back(parser.request());
        }
        ASSERT_EQ(requests.size(), 2u) << "split at " << split;
        EXPECT_EQ(requests[0].protocol_state, "RCPT");
        EXPECT_EQ(requests[0].recipient, "Bob@Example.org");
        EXPECT_EQ(requests[1].protocol_state, "DATA");
        EXPECT_EQ(requests[1].recipient, "x@y");
        EXPECT_TRUE(parser.finish()) << parser.error();
    }
}

TEST(PolicyParser, SeveralRequestsInOneReadComeOutInOrder) {
    std::string input;
    for (int i = 0; i < 50; ++i) {
        input += "request=smtpd_access_policy\nprotocol_state=RCPT\nrecipient=r" + std::to_string(i) + "@x\n\n";
    }
    PolicyParser parser;
    const auto requests = parse_in_chunks(parser, input, input.size());
    ASSERT_EQ(requests.size(), 50u);
    for (int i = 0; i < 50; ++i) EXPECT_EQ(requests[i].recipient, "r" + std::to_string(i) + "@x");
}

TEST(PolicyParser, AttributesOfOneRequestDoNotLeakIntoTheNext) {
    PolicyParser parser;
    parser.feed("request=smtpd_access_policy\nsasl_username=acme-bulk\nqueue_id=Q1\n\nrequest=smtpd_access_policy\n\n");
    ASSERT_EQ(parser.parse(), Status::ready);
    EXPECT_EQ(parser.request().sasl_username, "acme-bulk");
    ASSERT_EQ(parser.parse(), Status::ready);
    EXPECT_EQ(parser.request().sasl_username, "");
    EXPECT_EQ(parser.request().queue_id, "");
}

TEST(PolicyParser, CrLfLineEndsAreAccepted) {
    PolicyParser parser;
    parser.feed("request=smtpd_access_policy\r\nrecipient=a@b\r\n\r\n");
    ASSERT_EQ(parser.parse(), Status::ready) << parser.error();
    EXPECT_EQ(parser.request().recipient, "a@b");
}

TEST(PolicyParser, Utf8AndEmptyValuesAreAccepted) {
    PolicyParser parser;
    parser.feed("request=smtpd_access_policy\nrecipient=j\xc3\xbcrgen@b\xc3\xa4r.example\nsasl_username=\n\n");
    ASSERT_EQ(parser.parse(), Status::ready) << parser.error();
    EXPECT_EQ(parser.request().recipient, "j\xc3\xbcrgen@b\xc3\xa4r.example");
    EXPECT_EQ(parser.request().sasl_username, "");
}

TEST(PolicyParser, ValueMayContainEqualsSigns) {
    PolicyParser parser;
    parser.feed("request=smtpd_access_policy\nrecipient=a=b@c\n\n");
    ASSERT_EQ(parser.parse(), Status::ready);
    EXPECT_EQ(parser.request().recipient, "a=b@c");
}

TEST(PolicyParser, RepeatedAttributeKeepsTheLastValue) {
    PolicyParser parser;
    parser.feed("recipient=first@x\nrecipient=second@x\n\n");
    ASSERT_EQ(parser.parse(), Status::ready);
    EXPECT_EQ(parser.request().recipient, "second@x");
}

TEST(PolicyParser, OversizeRequestIsRefusedBeforeItsEnd) {
    PolicyLimits limits;
    limits.max_request_size = 1024;
    PolicyParser parser(limits);
    // One endless line: refused as soon as it passes the limit, without
    // waiting for a newline that may never come.
    parser.feed("recipient=" + std::string(1100, 'a'));
    EXPECT_EQ(parser.parse(), Status::error);
    EXPECT_NE(parser.error().find("larger than 1024"), std::string::npos) << parser.error();
}

TEST(PolicyParser, OversizeRequestOfManyShortLinesIsRefused) {
    std::string input;
    for (int i = 0; i < 10000; ++i) input += "x" + std::to_string(i) + "=y\n";  // ~79 KB, no empty line
    PolicyLimits limits;
    limits.max_attributes = 1'000'000;
    EXPECT_NE(error_for(input, limits).find("larger than 65536"), std::string::npos);
}

TEST(PolicyParser, RequestOfExactlyTheLimitIsAccepted) {
    PolicyLimits limits;
    limits.max_request_size = 64;
    const std::string line = "recipient=" + std::string(64 - 10 - 2, 'a') + "\n";  // + "\n" for the end
    ASSERT_EQ(line.size() + 1, 64u);
    PolicyParser parser(limits);
    parser.feed(line + "\n");
    EXPECT_EQ(parser.parse(), Status::ready) << parser.error();
    PolicyParser over(limits);
    over.feed("x" + line + "\n");
    EXPECT_EQ(over.parse(), Status::error);
}

TEST(PolicyParser, TooManyAttributesIsAnError) {
    std::string input;
    for (int i = 0; i < 101; ++i) input += "a" + std::to_string(i) + "=1\n";
    input += "\n";
    EXPECT_NE(error_for(input).find("more than 100 attributes"), std::string::npos);
}

TEST(PolicyParser, LineWithoutEqualsIsAnError) {
    EXPECT_NE(error_for("request=smtpd_access_policy\nGET / HTTP/1.0\n\n").find("line without '='"), std::string::npos);
}

TEST(PolicyParser, AttributeWithoutNameIsAnError) {
    EXPECT_NE(error_for("=value\n\n").find("invalid attribute name"), std::string::npos);
    EXPECT_NE(error_for("two words=value\n\n").find("invalid attribute name"), std::string::npos);
}

TEST(PolicyParser, NulAndOtherControlBytesAreErrors) {
    EXPECT_NE(error_for(std::string("recipient=a\0b@c\n\n", 17)).find("control byte 0x00"), std::string::npos);
    EXPECT_NE(error_for("recipient=a\x1b[31m@c\n\n").find("control byte 0x1b"), std::string::npos);
    EXPECT_NE(error_for("recipient=a\x7f@c\n\n").find("control byte 0x7f"), std::string::npos);
}

TEST(PolicyParser, BinaryGarbageIsAnErrorNotACrash) {
    std::string garbage;
    for (int i = 0; i < 4096; ++i) garbage += static_cast<char>((i * 131 + 7) % 256);
    PolicyParser parser;
    parser.feed(garbage);
    Status status;
    while ((status = parser.parse()) == Status::ready) {
    }
    EXPECT_EQ(status, Status::error);
}

TEST(PolicyParser, EmptyRequestIsAnError) {
    EXPECT_NE(error_for("\n").find("empty request"), std::string::npos);
    // An extra empty line after a request is an empty request too.
    EXPECT_NE(error_for("request=smtpd_access_policy\n\n\n").find("empty request"), std::string::npos);
}

TEST(PolicyParser, ErrorIsStickyAndFinishFails) {
    PolicyParser parser;
    parser.feed("junk\n\n");
    EXPECT_EQ(parser.parse(), Status::error);
    parser.feed(kRcptRequest);
    EXPECT_EQ(parser.parse(), Status::error);
    EXPECT_FALSE(parser.finish());
}

TEST(PolicyParser, EndOfInputWithoutTheEmptyLineIsReported) {
    PolicyParser parser;
    parser.feed("request=smtpd_access_policy\nrecipient=a@b\n");  // no final empty line
    EXPECT_EQ(parser.parse(), Status::need_more);
    EXPECT_FALSE(parser.finish());
    EXPECT_NE(parser.error().find("in the middle of a request"), std::string::npos) << parser.error();
}

TEST(PolicyParser, EndOfInputAfterCompleteRequestsIsClean) {
    PolicyParser parser;
    parser.feed(kRcptRequest + kRcptRequest);
    EXPECT_EQ(parser.parse(), Status::ready);
    EXPECT_EQ(parser.parse(), Status::ready);
    EXPECT_EQ(parser.parse(), Status::need_more);
    EXPECT_TRUE(parser.finish());
}

TEST(PolicyParser, BufferStaysSmallOverManyRequests) {
    PolicyParser parser;
    for (int i = 0; i < 10000; ++i) {
        const std::span<char> space = parser.writable(4096);
        ASSERT_LE(space.size(), 16384u) << "buffer grew at request " << i;
        std::copy(kRcptRequest.begin(), kRcptRequest.end(), space.begin());
        parser.commit(kRcptRequest.size());
        ASSERT_EQ(parser.parse(), Status::ready);
        ASSERT_EQ(parser.parse(), Status::need_more);
    }
}

TEST(PolicyParser, BufferNeverExceedsOneLargestRequestAndOneRead) {
    // Read as the session does: into all of writable(), and only after
    // parse() said need_more; requests of every size up to the limit.
    const PolicyLimits limits;
    std::string stream;
    for (const std::size_t size : {limits.max_request_size, std::size_t{100}, limits.max_request_size - 1,
                                   std::size_t{40000}, limits.max_request_size, limits.max_request_size}) {
        stream += "recipient=" + std::string(size - 12, 'a') + "\n\n";
    }
    PolicyParser parser(limits);
    std::size_t at = 0;
    int requests = 0;
    while (at < stream.size()) {
        const std::span<char> space = parser.writable();
        const std::size_t count = std::min(space.size(), stream.size() - at);
        std::copy_n(stream.begin() + static_cast<std::ptrdiff_t>(at), count, space.begin());
        parser.commit(count);
        at += count;
        Status status;
        while ((status = parser.parse()) == Status::ready) ++requests;
        ASSERT_EQ(status, Status::need_more) << parser.error();
        ASSERT_LE(parser.capacity(), limits.max_request_size + 4096) << "after " << requests << " requests";
    }
    EXPECT_EQ(requests, 6);
    EXPECT_EQ(parser.buffered(), 0u);
}

TEST(PolicyParser, BufferedCountsBytesOfTheUnfinishedRequest) {
    PolicyParser parser;
    EXPECT_EQ(parser.buffered(), 0u);
    parser.feed("request=smtpd_access_policy\n\nrecip");
    ASSERT_EQ(parser.parse(), Status::ready);
    ASSERT_EQ(parser.parse(), Status::need_more);
    EXPECT_EQ(parser.buffered(), 5u);
    parser.feed("ient=a@b\n\n");
    ASSERT_EQ(parser.parse(), Status::ready);
    EXPECT_EQ(parser.buffered(), 0u);
}

TEST(PolicyReply, IsActionLineAndEmptyLine) {
    std::string out;
    append_reply(out, "DUNNO");
    append_reply(out, "DEFER_IF_PERMIT 4.7.1 slow down");
    EXPECT_EQ(out, "action=DUNNO\n\naction=DEFER_IF_PERMIT 4.7.1 slow down\n\n");
}

TEST(ListenAddress, ParsesInetInet6AndUnix) {
    auto inet = parse_listen_address("inet:8895@127.0.0.1");
    ASSERT_TRUE(inet.ok()) << inet.error();
    EXPECT_EQ(inet->kind, ListenAddress::Kind::inet);
    EXPECT_EQ(inet->port, 8895);
    EXPECT_EQ(inet->host, "127.0.0.1");
    EXPECT_EQ(inet->to_string(), "inet:8895@127.0.0.1");

    auto inet6 = parse_listen_address("inet6:10040@[::1]");
    ASSERT_TRUE(inet6.ok()) << inet6.error();
    EXPECT_EQ(inet6->kind, ListenAddress::Kind::inet6);
    EXPECT_EQ(inet6->host, "::1");
    auto bare6 = parse_listen_address("inet6:10040@::1");
    ASSERT_TRUE(bare6.ok()) << bare6.error();
    EXPECT_EQ(bare6->host, "::1");

    auto unix_path = parse_listen_address("unix:/run/tenantmail/policyd.sock");
    ASSERT_TRUE(unix_path.ok()) << unix_path.error();
    EXPECT_EQ(unix_path->kind, ListenAddress::Kind::unix_path);
    EXPECT_EQ(unix_path->path, "/run/tenantmail/policyd.sock");
    EXPECT_TRUE(parse_listen_address("local:/tmp/p.sock").ok());
}

TEST(ListenAddress, RefusesWhatItCannotBind) {
    for (const char* bad : {"8895", "tcp:8895@127.0.0.1", "inet:8895", "inet:@127.0.0.1", "inet:0@127.0.0.1",
                            "inet:65536@127.0.0.1", "inet:80x@127.0.0.1", "inet:8895@", "unix:relative.sock",
                            "unix:"}) {
        EXPECT_FALSE(parse_listen_address(bad).ok()) << bad;
    }
    auto error = parse_listen_address("inet:8895");
    ASSERT_FALSE(error.ok());
    EXPECT_NE(error.error().find("\"inet:8895\""), std::string::npos) << error.error();
}

}  // namespace
}  // namespace tenantmail::policyd
