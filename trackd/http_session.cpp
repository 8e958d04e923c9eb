// http_session.cpp — see http_session.h.
#include "trackd/http_session.h"

#include <boost/asio/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/asio/write.hpp>

#include "common/options/trackd.h"
#include "trackd/pages.h"

namespace tenantmail::trackd {

namespace beast = boost::beast;
namespace http = boost::beast::http;

HttpSession::HttpSession(TrackServer& server, boost::asio::ip::tcp::socket socket, IpAddress peer)
    : server_(&server), socket_(std::move(socket)), peer_(peer), buffer_(kHeaderLimit + kBodyLimit) {}

HttpSession::~HttpSession() {
    if (server_ != nullptr) server_->forget(this);
}

void HttpSession::close() {
    if (server_ == nullptr) return;
    server_->forget(this);
    server_ = nullptr;
    beast::error_code ignored;
    socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
}

void HttpSession::read() {
    if (server_ == nullptr) return;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(kHeaderLimit));
    parser_->body_limit(kBodyLimit);
    expires_after(server_->settings().request_timeout);
    http::async_read(socket_, buffer_, *parser_,
                     [self = shared_from_this()](const beast::error_code& ec, std::size_t) { self->on_read(ec); });
}

void HttpSession::on_read(const boost::system::error_code& ec) {
    if (server_ == nullptr) return;
    if (ec == http::error::header_limit) return fail_request(http::status::request_header_fields_too_large);
    if (ec == http::error::body_limit) return fail_request(http::status::payload_too_large);
    if (ec == http::error::end_of_stream || ec == boost::asio::error::eof ||
        ec == boost::asio::error::connection_reset || ec == boost::asio::error::operation_aborted) {
        close();
        return;
    }
    if (ec) return fail_request(http::status::bad_request);
    server_->handle(parser_->get(), peer_, [self = shared_from_this()](WireResponse response) {
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
    respond(to_wire(response));
}

void HttpSession::respond(WireResponse response) {
    if (server_ == nullptr) return;
    response_ = std::move(response);
    expires_after(server_->settings().request_timeout);
    boost::asio::async_write(socket_, boost::asio::buffer(response_.bytes), [self = shared_from_this()](
                                                                                 const beast::error_code& ec, std::size_t) {
        if (self->server_ == nullptr) return;
        if (ec) {
            self->close();
            return;
        }
        if (!self->response_.keep_alive) {
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
    if (drained_ == 0) {
        beast::error_code ignored;
        socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
        expires_after(std::chrono::seconds(1));
        drain_.resize(4096);
    }
    socket_.async_read_some(boost::asio::buffer(drain_), [self = shared_from_this()](const beast::error_code& ec,
                                                                                     std::size_t) {
        if (ec || ++self->drained_ > 16) {
            self->close();
            return;
        }
        self->linger_close();
    });
}

}  // namespace tenantmail::trackd
