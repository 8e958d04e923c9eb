// connection_state.cpp — timeouts and slot eviction (see connection_state.h).
#include "policyd/connection_state.h"

#include <algorithm>

namespace tenantmail::policyd {

namespace {

using Kind = ConnectionState::Kind;

// Lower gives up its slot first; busy never does.
int eviction_rank(Kind kind) {
    switch (kind) {
        case Kind::partial_request:
        case Kind::unread_answers: return 0;
        case Kind::silent: return 1;
        case Kind::idle: return 2;
        case Kind::busy: return -1;
    }
    return -1;
}

}  // namespace

SessionClock::time_point deadline(const ConnectionState& state, const ConnectionTimeouts& timeouts) {
    switch (state.kind) {
        case Kind::silent:
        case Kind::idle: return state.since + timeouts.idle;
        case Kind::partial_request:
        case Kind::unread_answers: return state.since + timeouts.request;
        case Kind::busy: return SessionClock::time_point::max();
    }
    return SessionClock::time_point::max();
}

SessionClock::time_point next_check(const ConnectionState& state, const ConnectionTimeouts& timeouts,
                                    SessionClock::time_point now) {
    return std::min(deadline(state, timeouts), now + timeouts.request);
}

const char* timeout_reason(Kind kind) {
    switch (kind) {
        case Kind::silent: return "no request since the connection opened";
        case Kind::idle: return "idle";
        case Kind::partial_request: return "request incomplete";
        case Kind::unread_answers: return "answers not read";
        case Kind::busy: return "busy";
    }
    return "idle";
}

std::optional<std::size_t> choose_eviction(std::span<const ConnectionState> states) {
    std::optional<std::size_t> chosen;
    for (std::size_t i = 0; i < states.size(); ++i) {
        const int rank = eviction_rank(states[i].kind);
        if (rank < 0) continue;
        if (!chosen) {
            chosen = i;
            continue;
        }
        const ConnectionState& best = states[*chosen];
        const int best_rank = eviction_rank(best.kind);
        if (rank < best_rank || (rank == best_rank && states[i].since < best.since)) chosen = i;
    }
    return chosen;
}

}  // namespace tenantmail::policyd
