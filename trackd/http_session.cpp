// http_session.cpp — see http_session.h.
#include "trackd/http_session.h"

#include <boost/asio/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "common/options/trackd.h"
#include "trackd/pages.h"

namespace tenantmail::trackd {

namespace beast = boost::beast;
namespace http = boost::beast::http;

HttpSession::HttpSession(TrackServer& server, boost::asio::ip::tcp::socket socket, IpAddress peer)
    : server_(&server), stream_(std::move(socket)), peer_(peer), buffer_(kHeaderLimit + kBodyLimit) {}

HttpSession::~HttpSession() {
    if (server_ != nullptr) server_->forget(this);
}

void HttpSession::close() {
    if (server_ == nullptr) return;
    server_->forget(this);
    server_ = nullptr;
    beast::error_code ignored;
    stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    stream_.close();
}

void HttpSession::read() {
    if (server_ == nullptr) return;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(kHeaderLimit));
    parser_->body_limit(kBodyLimit);
    stream_.expires_after(server_->settings().request_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](const beast::error_code& ec, std::size_t) { self->on_read(ec); });
}

void HttpSession::on_read(const boost::system::error_code& ec) {
    if (server_ == nullptr) return;
    if (ec == http::error::header_limit) return fail_request(http::status::request_header_fields_too_large);
    if (ec == http::error::body_limit) return fail_request(http::status::payload_too_large);
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == boost::asio::error::eof ||
        ec == boost::asio::error::connection_reset || ec == boost::asio::error::operation_aborted) {
        close();
        return;
    }
    if (ec) return fail_request(http::status::bad_request);
    server_->handle(parser_->get(), peer_, [self = shared_from_this()](HttpResponse response) {
        self->respond(std::move(response));
    });
}

void HttpSession::fail_request(http::status status) {
    HttpResponse response{status, 11};
    response.set(http::field::content_type, "text/plain");
    response.set(http::field::cache_control, "no-store");
    response.body() = std::string(http::obsolete_reason(status)) + "\n";
    response.keep_alive(false);
    response.prepare_payload();
    respond(std::move(response));
}

void HttpSession::respond(HttpResponse response) {
    if (server_ == nullptr) return;
    response_ = std::move(response);
    stream_.expires_after(server_->settings().request_timeout);
    http::async_write(stream_, response_, [self = shared_from_this()](const beast::error_code& ec, std::size_t) {
        if (self->server_ == nullptr) return;
        if (ec) {
            self->close();
            return;
        }
        if (!self->response_.keep_alive()) {
            self->linger_close();
            return;
        }
        self->read();
    });
}

// Closing a socket with unread input makes the kernel send a reset, which can
// reach the client before our answer (a 431 to a client still sending its
// header fields): send FIN first, then drain what comes for a short while.
void HttpSession::linger_close() {
    beast::error_code ignored;
    stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
    stream_.expires_after(std::chrono::seconds(1));
    drain_.resize(4096);
    stream_.async_read_some(boost::asio::buffer(drain_), [self = shared_from_this()](const beast::error_code& ec,
                                                                                     std::size_t) {
        if (ec || ++self->drained_ > 16) {
            self->close();
            return;
        }
        self->linger_close();
    });
}

}  // namespace tenantmail::trackd
