// reservation.h — counting only mail that is really queued (tenants.conf
// accepted_only). policyd counts a permitted recipient at RCPT, as always,
// so no limit can be exceeded while the message is still being sent; for a
// class counted accepted-only it also keeps, in tm:{T}:held:CONNECTION,
// what that permit added (window members, quota increments). At the end of
// the transaction the milter, which sees the same SMTP connection, either
// commits (the message is queued: its recipients' records are dropped, the
// counts stay) or releases (refused by the milter, RSET, client gone, or a
// recipient Postfix refused after policyd permitted it: the counts are
// taken back). Without word from the milter (Redis down at that moment, no
// milter, a transaction longer than kReservationTtl) the record expires
// and the counts stay: an error never lets a limit be exceeded, it only
// counts a message that was not sent.
//
// The two programs name the connection by what both see: the client's
// address and port and the server's address (policy attributes
// client_address, client_port, server_address; the milter's connect
// address and {daemon_addr}). On one MTA that is unique while the
// connection lasts.
//
// Builders are pure; run_reservation() does the I/O.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace tenantmail {

class RedisClient;  // common/redis.h

// How long a reservation waits for the milter's word.
inline constexpr std::chrono::milliseconds kReservationTtl{std::chrono::minutes(30)};

// "192.0.2.10,40312,192.0.2.25" from the three parts, addresses in
// canonical form (IpAddress); "" when one is missing or malformed (then
// nothing is held: the permit simply counts).
std::string connection_id(std::string_view client_address, std::string_view client_port,
                          std::string_view server_address);

// The script that commits or releases a connection's reservations. KEYS[1]
// = tm:{T}:held:CONNECTION; ARGV = the recipients the message was queued
// for (normalise_recipient form), none for a release. The record holds one
// field per permit (recipient "\n" Redis time) whose value lists what it
// added, one line each: "w\tKEY\tMEMBER" (a window member), "q\tKEY\t" (a
// quota increment); upper case W, Q for messages-counted limits, which are
// the message's: taken back only when none of its recipients is queued.
// Reply: {kept, released} permits.
std::string_view reservation_script();

std::vector<std::string> build_reservation_commit(std::string_view tenant, std::string_view connection,
                                                  const std::vector<std::string>& queued_recipients);
std::vector<std::string> build_reservation_release(std::string_view tenant, std::string_view connection);

struct ReservationResult {
    long long kept = 0;
    long long released = 0;
};

// EVALSHA, EVAL on NOSCRIPT.
Result<ReservationResult> run_reservation(RedisClient& redis, std::vector<std::string> argv);

// What a tenant holds now (tenantmailctl usage): connections with an open
// accepted-only transaction and the permits they hold. SCAN over the
// tenant's held keys, bounded (it stops at kMaxCountedConnections).
struct HeldReservations {
    long long connections = 0;
    long long permits = 0;
};
inline constexpr long long kMaxCountedConnections = 100'000;
Result<HeldReservations> read_held_reservations(RedisClient& redis, std::string_view tenant);

}  // namespace tenantmail
