// policy_session.h — one client connection (one Postfix smtpd process):
// read, parse, decide, answer, in order, one request at a time. Only what
// is needed to word the answer is copied from a request (into buffers the
// session reuses), so steady traffic allocates next to nothing here.
// A protocol error closes this connection only, after a log line; so do the
// timeouts of connection_state.h (idle_timeout between requests,
// request_timeout for a request to arrive and for answers to be read);
// nothing a client does blocks another, and what it can make us hold is
// bounded: one request (max_request_size) in, kMaxUnsentBytes of answers out.
#pragma once

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "policyd/connection_state.h"
#include "policyd/decision.h"
#include "policyd/policy_protocol.h"
#include "policyd/rate_check.h"

namespace tenantmail::policyd {

class PolicyServer;

class PolicySession final : public std::enable_shared_from_this<PolicySession>, private RateCheckHandler {
public:
    using Socket = boost::asio::generic::stream_protocol::socket;

    // Answers waiting to be written beyond which no further request is
    // parsed (nor read): a client that pipelines and never reads is held
    // back by TCP, not by our memory.
    static constexpr std::size_t kMaxUnsentBytes = 16 * 1024;

    PolicySession(PolicyServer& server, Socket socket, std::string peer);
    void start();
    void close();
    // What the connection waits for, for the timeouts and for the server
    // choosing whose slot a new connection takes.
    ConnectionState state() const;
    // Closed to make room for a new connection (max_connections).
    void evict();

private:
    using Clock = SessionClock;

    void read();
    void on_read(const boost::system::error_code& ec, std::size_t count);
    void process();
    bool handle(const PolicyRequest& request);  // true: waiting for Redis
    void on_rate_outcome(const RateOutcome& outcome) override;
    void write();
    void arm_timer(Clock::time_point when);
    void on_timer();
    std::size_t unsent() const { return out_.size() + writing_.size(); }
    void log_decision(const RateOutcome& outcome);
    void report_blocked(const RateOutcome& outcome);

    PolicyServer& server_;
    Socket socket_;
    std::string peer_;
    PolicyParser parser_;
    boost::asio::steady_timer timer_;  // the timeouts; see next_check()
    Clock::time_point last_activity_;    // last read or completed write
    Clock::time_point last_read_;
    Clock::time_point request_started_;  // first byte of the unfinished request
    Clock::time_point write_started_;
    bool received_any_ = false;
    std::string out_;      // answers not yet written
    std::string writing_;  // answers being written
    RateCheck check_;
    std::shared_ptr<PolicySession> self_while_checking_;
    bool checking_ = false;
    bool reading_ = false;
    bool write_active_ = false;
    bool closing_ = false;  // protocol error: close once answers are out
    bool closed_ = false;
    // The request under check, for the answer and the log line.
    std::string tenant_;
    TrafficClass traffic_class_ = TrafficClass::bulk;
    std::string recipient_;  // as sent
    std::string normalised_;
    std::string queue_id_;
    std::string instance_;
    std::string route_;  // the class's transport:nexthop, copied: a reload may replace the registry
    std::string action_;
    // The message whose first recipient the messages-counted limits counted.
    std::string counted_instance_;
    std::string counted_tenant_;
};

}  // namespace tenantmail::policyd
