// track_server.h — tenantmail-trackd's HTTP server: accepts connections on
// one listening socket and runs an HttpSession (http_session.h) for each,
// all on one io_context thread. What a request means is request_decision.h;
// this turns the decision into a response and the event into Redis
// commands over one shared, pipelined AsyncRedis connection.
//
// The reader is never kept waiting for Redis on an open or a click: the
// pixel or redirect goes out at once and the event follows; when Redis is
// down or does not answer within redis.timeout, the event is lost, with one
// warning line naming tenant, kind, queue id and recipient. An unsubscribe
// is answered only once Redis has the suppression: 200 then, 503 with
// Retry-After when Redis failed (RFC 8058 senders retry).
// Holds the tenant registry; set_registry() swaps it (SIGHUP).
#pragma once

#include "trackd/track_metrics.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_set>

#include "common/events.h"
#include "common/network.h"
#include "common/redis.h"
#include "common/redis_script.h"
#include "common/result.h"
#include "common/tenants.h"
#include "common/tracking_token.h"
#include "common/unique_fd.h"
#include "trackd/request_decision.h"
#include "trackd/track_events.h"
#include "trackd/wire_response.h"

namespace tenantmail::trackd {

class HttpSession;

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;

struct ServerSettings {
    std::vector<Network> trusted_proxies;
    std::chrono::seconds scanner_window{10};
    std::chrono::seconds open_repeat_window{3600};
    std::chrono::milliseconds request_timeout{std::chrono::seconds(10)};
    std::size_t connection_limit = 1000;
    std::size_t stream_cap = kDefaultEventsStreamCap;
};

struct ServerStats {
    std::uint64_t connections = 0;
    std::uint64_t refused_connections = 0;  // over connection_limit
    std::uint64_t requests = 0;
    std::uint64_t opens = 0;
    std::uint64_t clicks = 0;
    std::uint64_t unsubscribes = 0;
    std::uint64_t not_found = 0;
    std::uint64_t events = 0;          // recorded
    std::uint64_t repeated_opens = 0;  // within open_repeat_window: no event
    std::uint64_t lost_events = 0;
};

class TrackServer {
public:
    TrackServer(boost::asio::io_context& io, ServerSettings settings, AsyncRedis& redis, TrackingTokenCodec codec,
                std::shared_ptr<const TenantRegistry> registry);
    ~TrackServer();
    TrackServer(const TrackServer&) = delete;
    TrackServer& operator=(const TrackServer&) = delete;

    // Takes over a listening TCP socket from open_listener().
    Result<void> start(UniqueFd listener);
    // Stops accepting and closes every connection.
    void stop();

    void set_registry(std::shared_ptr<const TenantRegistry> registry) { registry_ = std::move(registry); }
    const TenantRegistry& registry() const { return *registry_; }
    const ServerSettings& settings() const { return settings_; }
    const ServerStats& stats() const { return stats_; }
    // Counts for Prometheus as well (nullptr: none). Before start().
    void set_metrics(TrackMetrics* metrics) { metrics_ = metrics; }

    // One request from a session: reply is called with the response, at once
    // or (unsubscribe) when Redis has answered; not at all after stop().
    void handle(const HttpRequest& request, const IpAddress& peer, std::function<void(WireResponse)> reply);

    void forget(HttpSession* session) { sessions_.erase(session); }

private:
    void accept();
    // Closes every session past its deadline (request_timeout), a few times
    // per timeout: one timer for all sessions.
    void sweep();
    void record(const EventSummary& event, ScriptCommand command);
    void lost(const EventSummary& event, std::string_view why);

    boost::asio::io_context& io_;
    TrackMetrics* metrics_ = nullptr;
    ServerSettings settings_;
    AsyncRedis& redis_;
    TrackingTokenCodec codec_;
    std::shared_ptr<const TenantRegistry> registry_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer accept_retry_;
    boost::asio::steady_timer sweep_timer_;
    std::chrono::steady_clock::time_point last_accept_error_{};
    bool stopped_ = false;
    std::unordered_set<HttpSession*> sessions_;
    // [HTTP/1.1][keep-alive][HEAD] and [HTTP/1.1][keep-alive]
    WireResponse pixel_wire_[2][2][2];
    WireTemplate redirect_wire_[2][2];
    std::chrono::steady_clock::time_point last_limit_warning_{};
    ServerStats stats_;
};

}  // namespace tenantmail::trackd
