// http_session.h — one client connection of trackd: HTTP/1.1 with
// keep-alive, read with Boost.Beast within fixed bounds (request line and
// header fields kHeaderLimit, body kBodyLimit: options/trackd.h) and
// request_timeout for each request, idle wait included. The timeout is a
// deadline the server's sweep checks (TrackServer), not a timer per read
// and write. A request over a bound gets 431 or 413, a malformed one 400,
// and the connection is closed.
// Requests on one connection are answered in order, one at a time.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "common/network.h"
#include "trackd/track_server.h"

namespace tenantmail::trackd {

class HttpSession : public std::enable_shared_from_this<HttpSession> {
public:
    HttpSession(TrackServer& server, boost::asio::ip::tcp::socket socket, IpAddress peer);
    ~HttpSession();
    HttpSession(const HttpSession&) = delete;
    HttpSession& operator=(const HttpSession&) = delete;

    void start() { read(); }
    // Closes the connection; the server forgets the session at once.
    void close();
    // Whether the current request (or the closing linger) ran out of time.
    bool expired(std::chrono::steady_clock::time_point now) const { return now >= deadline_; }

private:
    void read();
    void on_read(const boost::system::error_code& ec);
    void respond(WireResponse response);
    void fail_request(boost::beast::http::status status);
    void linger_close();
    void expires_after(std::chrono::steady_clock::duration timeout) {
        deadline_ = std::chrono::steady_clock::now() + timeout;
    }

    TrackServer* server_;  // nullptr once closed
    boost::asio::ip::tcp::socket socket_;
    std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
    IpAddress peer_;
    boost::beast::flat_buffer buffer_;
    std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
    WireResponse response_;  // being written
    std::vector<char> drain_;  // linger_close's discarded input
    int drained_ = 0;
};

}  // namespace tenantmail::trackd
