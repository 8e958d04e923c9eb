// policy_server.h — the policy server: accepts Postfix's connections on one
// listening socket (TCP or unix) and runs a PolicySession for each, all on
// one io_context thread; Redis work goes through one shared AsyncRedis
// connection, so requests from every smtpd process are pipelined together.
// Holds the tenant registry; set_registry() swaps it (SIGHUP) without
// disturbing requests in flight, which keep copies of what they need.
// At max_connections a new connection takes the slot of the one that has
// waited longest for its client (connection_state.h: stalled first, then
// silent, then idle), so slow or silent clients cannot lock Postfix out; it
// is refused only while every connection has a request in Redis.
#pragma once

#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <unordered_set>

#include "common/redis.h"
#include "common/result.h"
#include "common/tenants.h"
#include "common/unique_fd.h"
#include "policyd/blocked_events.h"
#include "policyd/policy_metrics.h"
#include "policyd/decision.h"
#include "policyd/policy_protocol.h"

namespace tenantmail::policyd {

class PolicySession;

struct ServerSettings {
    DecisionSettings decision;
    std::chrono::milliseconds idle_timeout{std::chrono::seconds(600)};
    std::chrono::milliseconds request_timeout{std::chrono::seconds(10)};
    std::size_t max_connections = 1000;
    PolicyLimits limits;
};

struct ServerStats {
    std::uint64_t connections = 0;
    std::uint64_t requests = 0;
    std::uint64_t permitted = 0;
    std::uint64_t deferred = 0;
    std::uint64_t rejected = 0;
    std::uint64_t fallback = 0;  // redis_error_action answers
    std::uint64_t protocol_errors = 0;
    std::uint64_t evicted = 0;  // connections closed to make room at max_connections
};

class PolicyServer {
public:
    PolicyServer(boost::asio::io_context& io, ServerSettings settings, AsyncRedis& redis,
                 std::shared_ptr<const TenantRegistry> registry);
    ~PolicyServer();
    PolicyServer(const PolicyServer&) = delete;
    PolicyServer& operator=(const PolicyServer&) = delete;

    // Takes over a listening socket from open_listener() and starts accepting.
    Result<void> start(UniqueFd listener);
    // Stops accepting and closes every client connection.
    void stop();

    void set_registry(std::shared_ptr<const TenantRegistry> registry) { registry_ = std::move(registry); }
    // Where suppression refusals are reported (nullptr: not reported).
    void set_blocked_events(BlockedEvents* events) { blocked_events_ = events; }
    BlockedEvents* blocked_events() { return blocked_events_; }
    // Where decisions are counted for Prometheus (nullptr: no metrics).
    void set_metrics(PolicyMetrics* metrics) { metrics_ = metrics; }
    PolicyMetrics* metrics() { return metrics_; }
    const TenantRegistry& registry() const { return *registry_; }
    const ServerSettings& settings() const { return settings_; }
    AsyncRedis& redis() { return redis_; }
    boost::asio::io_context& io() { return io_; }
    ServerStats& stats() { return stats_; }
    std::size_t connections() const { return sessions_.size(); }

    // Called by a session when it closes.
    void forget(PolicySession* session) { sessions_.erase(session); }

private:
    using Acceptor = boost::asio::basic_socket_acceptor<boost::asio::generic::stream_protocol>;
    void accept();
    void on_accept_error(const boost::system::error_code& ec);
    // Closes the connection chosen by choose_eviction(); false when all are busy.
    bool make_room();

    boost::asio::io_context& io_;
    ServerSettings settings_;
    AsyncRedis& redis_;
    std::shared_ptr<const TenantRegistry> registry_;
    BlockedEvents* blocked_events_ = nullptr;
    PolicyMetrics* metrics_ = nullptr;
    Acceptor acceptor_;
    boost::asio::steady_timer accept_retry_;
    bool inet_ = false;
    bool stopped_ = false;
    std::unordered_set<PolicySession*> sessions_;
    std::chrono::steady_clock::time_point last_limit_warning_{};
    std::chrono::steady_clock::time_point last_accept_error_{};
    ServerStats stats_;
};

}  // namespace tenantmail::policyd
