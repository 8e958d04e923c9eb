// policy_server.cpp — accepting connections and keeping track of sessions.
#include "policyd/policy_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/asio/error.hpp>
#include <optional>
#include <vector>

#include "common/log.h"
#include "policyd/connection_state.h"
#include "policyd/policy_session.h"

namespace tenantmail::policyd {

namespace asio = boost::asio;

namespace {

// "192.0.2.1:40312", "[2001:db8::1]:40312" or "unix", for log lines.
std::string describe_peer(int fd) {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return "unknown";
    char text[INET6_ADDRSTRLEN] = "";
    if (address.ss_family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(&address);
        ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
        return std::string(text) + ":" + std::to_string(ntohs(in->sin_port));
    }
    if (address.ss_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&address);
        ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
        return "[" + std::string(text) + "]:" + std::to_string(ntohs(in6->sin6_port));
    }
    return "unix";
}

}  // namespace

PolicyServer::PolicyServer(asio::io_context& io, ServerSettings settings, AsyncRedis& redis,
                           std::shared_ptr<const TenantRegistry> registry)
    : io_(io),
      settings_(std::move(settings)),
      redis_(redis),
      registry_(std::move(registry)),
      acceptor_(io),
      accept_retry_(io) {}

PolicyServer::~PolicyServer() { stop(); }

Result<void> PolicyServer::start(UniqueFd listener) {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        return make_error("cannot inspect the listening socket");
    }
    inet_ = address.ss_family == AF_INET || address.ss_family == AF_INET6;
    const asio::generic::stream_protocol protocol(address.ss_family, inet_ ? IPPROTO_TCP : 0);
    boost::system::error_code ec;
    acceptor_.assign(protocol, listener.get(), ec);
    if (ec) return make_error("cannot use the listening socket: " + ec.message());
    listener.release();  // the acceptor owns it now
    accept();
    return {};
}

void PolicyServer::stop() {
    if (stopped_) return;
    stopped_ = true;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    accept_retry_.cancel();
    const std::vector<PolicySession*> open(sessions_.begin(), sessions_.end());
    for (PolicySession* session : open) session->close();
}

void PolicyServer::accept() {
    if (stopped_) return;
    acceptor_.async_accept([this](const boost::system::error_code& ec, PolicySession::Socket socket) {
        if (stopped_) return;
        if (ec) {
            on_accept_error(ec);
            return;
        }
        ++stats_.connections;
        if (sessions_.size() >= settings_.max_connections && !make_room()) {
            const auto now = std::chrono::steady_clock::now();
            if (now - last_limit_warning_ > std::chrono::minutes(1)) {
                last_limit_warning_ = now;
                LOG_WARNING("%zu client connections open (connection_limit), all waiting for Redis; "
                            "refusing new ones", sessions_.size());
            }
            boost::system::error_code ignored;
            socket.close(ignored);
        } else {
            std::string peer = describe_peer(socket.native_handle());
            auto session = std::make_shared<PolicySession>(*this, std::move(socket), std::move(peer));
            sessions_.insert(session.get());
            session->start();
        }
        accept();
    });
}

bool PolicyServer::make_room() {
    std::vector<PolicySession*> open;
    std::vector<ConnectionState> states;
    open.reserve(sessions_.size());
    states.reserve(sessions_.size());
    for (PolicySession* session : sessions_) {
        open.push_back(session);
        states.push_back(session->state());
    }
    const std::optional<std::size_t> chosen = choose_eviction(states);
    if (!chosen) return false;
    ++stats_.evicted;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_limit_warning_ > std::chrono::minutes(1)) {
        last_limit_warning_ = now;
        LOG_WARNING("%zu client connections open (connection_limit); closing the one waiting longest for its "
                    "client (%s) for each new one", sessions_.size(), timeout_reason(states[*chosen].kind));
    }
    open[*chosen]->evict();
    return true;
}

void PolicyServer::on_accept_error(const boost::system::error_code& ec) {
    if (ec == asio::error::operation_aborted) return;
    // Out of descriptors and the like: wait a little rather than spin, and
    // say so once a minute rather than ten times a second.
    const auto now = std::chrono::steady_clock::now();
    if (now - last_accept_error_ > std::chrono::minutes(1)) {
        last_accept_error_ = now;
        LOG_ERROR("accepting a connection failed: %s; retrying every 100ms", ec.message().c_str());
    }
    accept_retry_.expires_after(std::chrono::milliseconds(100));
    accept_retry_.async_wait([this](const boost::system::error_code& timer_ec) {
        if (!timer_ec) accept();
    });
}

}  // namespace tenantmail::policyd
