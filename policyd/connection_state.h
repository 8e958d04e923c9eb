// connection_state.h — what a client connection is waiting for, as far as
// timeouts and connection slots care; pure, so the rules are unit-tested
// without sockets. The session reports its state; these functions say when
// it has waited too long and which connection gives up its slot when a new
// one arrives at max_connections.
//
// Timeouts, from the moment the connection entered its state:
//   silent           connected, no byte yet             idle_timeout
//   idle             between requests                   idle_timeout
//   partial_request  bytes of a request, no empty line  request_timeout
//   unread_answers   answers the client does not read   request_timeout
//   busy             its request is in Redis            none (redis.timeout bounds it)
// Postfix sends a whole request in one write and reads every answer at
// once, so the last two last microseconds for it; a client that dribbles a
// request a byte at a time, or pipelines without reading, is cut off after
// request_timeout instead of holding a slot for idle_timeout.
//
// Slots: when all max_connections are taken, a new connection takes the slot
// of the connection stalled longest (partial_request, unread_answers), else
// of the one silent longest, else of the one idle longest; busy connections
// keep theirs. Postfix closes and reopens a policy connection without losing
// the request (smtpd_policy_service_try_limit), so taking an idle slot costs
// it one reconnect, while refusing new connections made it defer mail.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>

namespace tenantmail::policyd {

using SessionClock = std::chrono::steady_clock;

struct ConnectionState {
    enum class Kind { silent, idle, partial_request, unread_answers, busy };
    Kind kind = Kind::silent;
    SessionClock::time_point since{};  // when the connection entered this state
};

struct ConnectionTimeouts {
    std::chrono::milliseconds idle{std::chrono::seconds(600)};
    std::chrono::milliseconds request{std::chrono::seconds(10)};
};

// When the connection has waited too long in its state; time_point::max()
// for busy.
SessionClock::time_point deadline(const ConnectionState& state, const ConnectionTimeouts& timeouts);

// When the session's timer should next look: the deadline, but never later
// than now + the request timeout. A state entered after the timer was armed
// has a deadline at least a request timeout away, so the timer, re-armed by
// this rule each time it fires, is never late for it; and it need not be
// re-armed for every request.
SessionClock::time_point next_check(const ConnectionState& state, const ConnectionTimeouts& timeouts,
                                    SessionClock::time_point now);

// "request incomplete", "answers unread", ..., for the log line of a close.
const char* timeout_reason(ConnectionState::Kind kind);

// The connection whose slot a new one takes (index into states), or none
// when every connection is busy.
std::optional<std::size_t> choose_eviction(std::span<const ConnectionState> states);

}  // namespace tenantmail::policyd
