// rate_limiter.h — the exact sending-limit check: the Lua script that makes
// one suppression/pause/limits decision atomically per recipient, the argv
// it is sent with, and the pure reading of its reply. No I/O here: policyd
// sends the script (policyd/rate_check.h), tenantmailctl reads the same keys
// for its usage view. The keys are named in redis_keys.h (all in the
// tenant's hash slot); the suppression values in suppression.h; limits and
// calendars in sending_limit.h and quota_calendar.h.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/duration.h"
#include "common/quota_calendar.h"
#include "common/redis_keys.h"
#include "common/result.h"
#include "common/sending_limit.h"
#include "common/tenant_limits.h"
#include "common/tenants.h"

namespace tenantmail {

// The script. KEYS[1] = suppression hash, KEYS[2] = paused hash, KEYS[3] =
// the connection's reservation record (reservation.h), KEYS[3+i] = limit
// i's key. ARGV[1] = recipient as normalise_recipient() writes it ("" skips
// the suppression check), ARGV[2] = class name ("" skips the pause check),
// ARGV[3] = n, ARGV[4] = reservation hold ms (0: the permit is final), then
// four per limit: "w" or "q" ("W", "Q" when it counts messages), count, and
// window ms and 0 (w) or the period's first and end ms (q).
// Reply: {1, 0, 0, count_1, ..., count_n}  permitted; counts after this one
//        {0, i, retry_us, count_i}         limit i (from 1) reached; retry_us
//                                           until it frees (the latest of
//                                           those reached)
//        {2, 0, 0, suppression_value}      recipient suppressed
//        {3, 0, 0, reason}                 class paused
//        {4, 0, now_us}                    a quota period given is not the
//                                           one Redis's clock is in: compute
//                                           it again from now_us and resend
// Nothing is counted unless every limit has room.
std::string_view rate_script();
// Its SHA-1 in hex, as EVALSHA wants it (computed once).
const std::string& rate_script_sha1();

// One limit of a request, copied so a reload of tenants.conf during the
// round trip changes nothing under it.
struct AppliedLimit {
    SendingLimit limit;
    std::string login;  // "" for the tenant's own limits
    QuotaPeriod period{};  // quotas only
};

// The limits one recipient is checked against, and the argv that checks it.
// Reusable: build() keeps the strings' capacity, so a policyd session
// allocates nothing per request once warm.
class RateRequest {
public:
    // The limits of the tenant's class, its login's (if login has any), in
    // that order; messages-counted ones left out when count_messages is
    // false (a later recipient of a message already counted).
    void select(const Tenant& tenant, TrafficClass traffic_class, std::string_view login, bool count_messages);
    // Quota periods for now (the host's clock at first, Redis's after a
    // stale-period reply).
    void set_time(SysSeconds now);
    // Accepted-only: the SMTP connection (reservation.h's connection_id)
    // whose permits are held until the milter commits or releases them; ""
    // (the default) makes permits final.
    void hold_for(std::string_view connection);
    // The argv: EVALSHA (or EVAL with the body), numkeys, keys, args.
    void build_argv(std::string_view tenant, TrafficClass traffic_class, std::string_view recipient, bool with_body);

    std::span<const AppliedLimit> limits() const { return {limits_.data(), count_}; }
    bool counts_messages() const;  // a messages-counted limit is among them
    const QuotaTimeZone& time_zone() const { return zone_; }
    int argc() const { return static_cast<int>(pointers_.size()); }
    const char** argv() { return pointers_.data(); }
    const std::size_t* lengths() const { return lengths_.data(); }

private:
    std::array<AppliedLimit, kMaxLimitsPerRequest> limits_{};
    std::size_t count_ = 0;
    QuotaTimeZone zone_;
    unsigned month_start_ = 1;
    std::string connection_;
    std::vector<std::string> parts_;  // grows to its largest size and stays
    std::vector<const char*> pointers_;
    std::vector<std::size_t> lengths_;
};

// One element of a Redis reply, without hiredis types, so the reading of the
// script's reply is testable on its own. text is a view into the reply.
struct ReplyElement {
    enum class Type { integer, string, status, error, nil, array, other };
    Type type = Type::nil;
    long long integer = 0;
    std::string_view text;
    std::size_t elements = 0;  // for arrays
};

// Elements a reader needs to copy from the reply (3 + one count per limit).
inline constexpr std::size_t kRateReplyElements = 3 + kMaxLimitsPerRequest;

struct RateOutcome {
    enum class Kind {
        permitted,
        limited,       // limit_index's limit is full
        suppressed,    // detail: the suppression hash value
        paused,        // detail: the reason
        stale_period,  // redis_now: compute the quota periods again
        noscript,      // the script is not in Redis's cache: send it with EVAL
        error,         // detail: what was wrong with the reply
    };
    Kind kind = Kind::error;
    std::size_t limit_index = 0;  // limited: which limit (from 0)
    long long count = 0;          // limited: its count; permitted: the first limit's count after
    std::chrono::microseconds retry_after{0};  // limited: until that limit frees
    std::chrono::microseconds redis_now{0};    // stale_period
    std::string_view detail;
};

// top: the reply; elements: its elements when top is an array (may be fewer
// than top.elements if the caller copied only the first few).
RateOutcome interpret_rate_reply(const ReplyElement& top, std::span<const ReplyElement> elements);

// Seconds to tell a client to wait, rounded up, at least 1.
long long retry_seconds(std::chrono::microseconds retry_after);

}  // namespace tenantmail
