// policy_session.h — one client connection (one Postfix smtpd process):
// read, parse, decide, answer, in order, one request at a time. Only what
// is needed to word the answer is copied from a request (into buffers the
// session reuses), so steady traffic allocates next to nothing here.
// A protocol error closes this connection only, after a log line; a client
// idle for idle_timeout is closed; nothing a client does blocks another.
#pragma once

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "policyd/decision.h"
#include "policyd/policy_protocol.h"
#include "policyd/rate_check.h"

namespace tenantmail::policyd {

class PolicyServer;

class PolicySession final : public std::enable_shared_from_this<PolicySession>, private RateCheckHandler {
public:
    using Socket = boost::asio::generic::stream_protocol::socket;

    PolicySession(PolicyServer& server, Socket socket, std::string peer);
    void start();
    void close();

private:
    using Clock = std::chrono::steady_clock;

    void read();
    void on_read(const boost::system::error_code& ec, std::size_t count);
    void process();
    bool handle(const PolicyRequest& request);  // true: waiting for Redis
    void on_rate_outcome(const RateOutcome& outcome) override;
    void write();
    void arm_idle_timer(Clock::time_point when);
    void on_idle_timer();
    void log_decision(const RateOutcome& outcome);
    void report_blocked(const RateOutcome& outcome);

    PolicyServer& server_;
    Socket socket_;
    std::string peer_;
    PolicyParser parser_;
    boost::asio::steady_timer idle_timer_;
    Clock::time_point last_activity_;
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
    RateLimit limit_;
    std::string recipient_;  // as sent
    std::string normalised_;
    std::string queue_id_;
    std::string action_;
};

}  // namespace tenantmail::policyd
