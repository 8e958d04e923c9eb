// Tests for trackd/wire_response.h: the bytes Beast serializes, and
// templates that differ only in one field.
#include "trackd/wire_response.h"

#include <gtest/gtest.h>

namespace tenantmail::trackd {
namespace {

namespace http = boost::beast::http;

HttpResponse redirect(bool keep_alive) {
    HttpResponse response{http::status::found, 11};
    response.set(http::field::cache_control, "no-store");
    response.keep_alive(keep_alive);
    response.content_length(0);
    return response;
}

TEST(WireResponse, IsWhatBeastSerializes) {
    HttpResponse response{http::status::ok, 11};
    response.set(http::field::content_type, "text/plain");
    response.body() = "hello\n";
    response.prepare_payload();
    response.keep_alive(false);
    const WireResponse wire = to_wire(response);
    EXPECT_FALSE(wire.keep_alive);
    EXPECT_TRUE(wire.bytes.starts_with("HTTP/1.1 200 OK\r\n")) << wire.bytes;
    EXPECT_NE(wire.bytes.find("\r\nContent-Type: text/plain\r\n"), std::string::npos);
    EXPECT_NE(wire.bytes.find("\r\nContent-Length: 6\r\n"), std::string::npos);
    EXPECT_NE(wire.bytes.find("\r\nConnection: close\r\n"), std::string::npos);
    EXPECT_TRUE(wire.bytes.ends_with("\r\n\r\nhello\n")) << wire.bytes;
}

TEST(WireResponse, TemplateIsTheResponseWithTheValueInPlace) {
    const std::string url = "https://www.example.org/a?b=c&d=%20";
    for (const bool keep_alive : {false, true}) {
        HttpResponse direct = redirect(keep_alive);
        direct.set(http::field::location, url);
        const WireTemplate made(redirect(keep_alive), http::field::location);
        const WireResponse wire = made.with(url);
        EXPECT_EQ(wire.bytes, to_wire(direct).bytes);
        EXPECT_EQ(wire.keep_alive, keep_alive);
    }
}

TEST(WireResponse, TemplateOfAnEmptyValueStillEndsTheHeader) {
    const WireTemplate made(redirect(true), http::field::location);
    const WireResponse wire = made.with("");
    EXPECT_NE(wire.bytes.find("Location: \r\n"), std::string::npos) << wire.bytes;
    EXPECT_TRUE(wire.bytes.ends_with("\r\n\r\n"));
}

}  // namespace
}  // namespace tenantmail::trackd
