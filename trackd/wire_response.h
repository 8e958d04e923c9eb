// wire_response.h — HTTP responses as the octets that go on the wire, all
// written by Beast's serializer. The two answers trackd gives most (the
// open pixel and a click's redirect) are serialized once per HTTP version,
// keep-alive and method, and reused: the redirect's bytes are fixed but for
// its Location, which goes between the two serialized halves. Location
// values are redirectable_url()s (no controls, no spaces), so nothing a
// token carries can end a header field.
#pragma once

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>
#include <string_view>

namespace tenantmail::trackd {

using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

// What HttpSession writes: the octets and whether the connection stays open.
struct WireResponse {
    std::string bytes;
    bool keep_alive = false;
};

// Status line, header fields and body, as Beast serializes them.
WireResponse to_wire(const HttpResponse& response);

// A response serialized once with a placeholder as one field's value;
// with() puts the real value in its place.
class WireTemplate {
public:
    WireTemplate() = default;
    WireTemplate(HttpResponse response, boost::beast::http::field field);
    WireResponse with(std::string_view value) const;

private:
    std::string before_;
    std::string after_;
    bool keep_alive_ = false;
};

}  // namespace tenantmail::trackd
