// reservation_settler.h — the milter's side of accepted-only counting
// (common/reservation.h): at the end of each transaction of a class counted
// accepted-only, commit the permits policyd holds for the connection (the
// message was queued, for these recipients) or release them (refused,
// RSET, client gone).
//
// Synchronous, inside the callback: the MTA sends the next transaction's
// MAIL to the milter only after this returns, so its recipients' permits
// (same connection, same record) are never settled as this one's. Each
// libmilter worker thread (Debian's libmilter runs a pool of them, shared by
// all connections) keeps its own Redis connection, opened on first use. A failure (each call is bounded by redis.timeout; after one,
// calls are skipped for a doubling delay) leaves the counts as they are:
// a limit is never exceeded, a message not sent may stay counted. Logged
// once per outage, and the recovery.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "common/outage.h"

namespace tenantmail::milter {

class ReservationSettler {
public:
    ReservationSettler(RedisSettings redis, std::string password);

    // recipients: as the client gave them (the milter's envelope); they are
    // compared in normalise_recipient() form, as policyd counted them.
    void commit(std::string_view tenant, std::string_view connection, const std::vector<std::string>& recipients);
    void release(std::string_view tenant, std::string_view connection);

private:
    void run(std::string_view tenant, std::string_view connection, std::vector<std::string> argv, const char* what);
    bool may_try();
    void failed(std::string_view tenant, const std::string& reason);
    void succeeded();

    const RedisSettings redis_;
    const std::string password_;
    std::mutex mutex_;  // guards the outage state
    Outage outage_;
    Outage::Clock::time_point retry_at_{};
};

}  // namespace tenantmail::milter
