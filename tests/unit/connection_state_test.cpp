// connection_state_test.cpp — policyd's connection timeouts and slots
// without sockets: which timeout applies in which state, that the session's
// lazily re-armed timer is never late, and whose slot a new connection
// takes at max_connections (slow and silent clients before Postfix's idle
// connections; busy ones never).
#include "policyd/connection_state.h"

#include <gtest/gtest.h>

#include <vector>

namespace tenantmail::policyd {
namespace {

using Kind = ConnectionState::Kind;
using std::chrono::seconds;

const SessionClock::time_point t0 = SessionClock::time_point() + std::chrono::hours(1);
const ConnectionTimeouts timeouts{seconds(600), seconds(10)};

TEST(ConnectionDeadline, IdleAndSilentConnectionsGetTheIdleTimeout) {
    EXPECT_EQ(deadline({Kind::idle, t0}, timeouts), t0 + seconds(600));
    EXPECT_EQ(deadline({Kind::silent, t0}, timeouts), t0 + seconds(600));
}

TEST(ConnectionDeadline, PartialRequestAndUnreadAnswersGetTheRequestTimeout) {
    // A byte a second keeps a connection active, but not its request alive.
    EXPECT_EQ(deadline({Kind::partial_request, t0}, timeouts), t0 + seconds(10));
    EXPECT_EQ(deadline({Kind::unread_answers, t0}, timeouts), t0 + seconds(10));
}

TEST(ConnectionDeadline, BusyConnectionHasNone) {
    EXPECT_EQ(deadline({Kind::busy, t0}, timeouts), SessionClock::time_point::max());
    EXPECT_EQ(next_check({Kind::busy, t0}, timeouts, t0), t0 + seconds(10));
}

TEST(ConnectionDeadline, TimerArmedWhileIdleIsNeverLateForARequestStartedLater) {
    // Armed at t0 while idle: it looks again within one request timeout,
    // although the idle deadline is far away...
    const SessionClock::time_point armed = next_check({Kind::idle, t0}, timeouts, t0);
    EXPECT_EQ(armed, t0 + seconds(10));
    // ...so a request begun at any time after t0 is checked no later than
    // its deadline, and then re-armed for exactly that deadline.
    for (const auto started : {t0, t0 + seconds(3), t0 + seconds(9)}) {
        const ConnectionState partial{Kind::partial_request, started};
        EXPECT_LE(armed, deadline(partial, timeouts));
        EXPECT_EQ(next_check(partial, timeouts, armed), deadline(partial, timeouts));
    }
}

TEST(ConnectionDeadline, RequestTimeoutLongerThanIdleTimeoutIsHonoured) {
    const ConnectionTimeouts odd{seconds(2), seconds(30)};
    EXPECT_EQ(next_check({Kind::idle, t0}, odd, t0), t0 + seconds(2));
    EXPECT_EQ(next_check({Kind::partial_request, t0}, odd, t0), t0 + seconds(30));
}

TEST(ConnectionEviction, StalledLongestGoesFirst) {
    const std::vector<ConnectionState> states{{Kind::idle, t0 - seconds(250)},
                                              {Kind::partial_request, t0 - seconds(3)},
                                              {Kind::partial_request, t0 - seconds(8)},
                                              {Kind::busy, t0 - seconds(100)},
                                              {Kind::silent, t0 - seconds(500)}};
    EXPECT_EQ(choose_eviction(states), 2u);
}

TEST(ConnectionEviction, ClientNotReadingItsAnswersCountsAsStalled) {
    const std::vector<ConnectionState> states{{Kind::idle, t0 - seconds(250)},
                                              {Kind::unread_answers, t0 - seconds(5)},
                                              {Kind::partial_request, t0 - seconds(2)}};
    EXPECT_EQ(choose_eviction(states), 1u);
}

TEST(ConnectionEviction, SilentBeforeIdleThenIdleLongest) {
    // A connection that never sent a byte is less likely Postfix than one
    // that was served and waits for its next request.
    EXPECT_EQ(choose_eviction(std::vector<ConnectionState>{{Kind::idle, t0 - seconds(250)},
                                                           {Kind::silent, t0 - seconds(1)}}),
              1u);
    EXPECT_EQ(choose_eviction(std::vector<ConnectionState>{{Kind::idle, t0 - seconds(20)},
                                                           {Kind::idle, t0 - seconds(250)},
                                                           {Kind::idle, t0 - seconds(30)}}),
              1u);
}

TEST(ConnectionEviction, BusyConnectionsKeepTheirSlots) {
    EXPECT_EQ(choose_eviction(std::vector<ConnectionState>{{Kind::busy, t0}, {Kind::busy, t0 - seconds(9)}}),
              std::nullopt);
    EXPECT_EQ(choose_eviction(std::vector<ConnectionState>{}), std::nullopt);
}

TEST(ConnectionTimeoutReason, NamesTheState) {
    EXPECT_STREQ(timeout_reason(Kind::partial_request), "request incomplete");
    EXPECT_STREQ(timeout_reason(Kind::unread_answers), "answers not read");
    EXPECT_STREQ(timeout_reason(Kind::idle), "idle");
}

}  // namespace
}  // namespace tenantmail::policyd
