// rate_limiter.h — the exact sliding-window rate check: the Lua script that
// makes one rate/suppression decision atomically per recipient, and the
// pure reading of its reply. No I/O here: policyd sends the script
// (policyd/rate_check.h), tenantmailctl reads the same keys for its usage
// view. The keys are named in redis_keys.h (tm:{TENANT}:rate:CLASS and
// tm:{TENANT}:suppressed); the suppression values in suppression.h.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/duration.h"
#include "common/redis_keys.h"  // rate_key, suppression_key: KEYS[1] and KEYS[2]
#include "common/result.h"
#include "common/tenants.h"

namespace tenantmail {

// The script. KEYS[1] = rate key, KEYS[2] = suppression key; ARGV[1] =
// recipient as normalise_recipient() (recipient.h) writes it ("" skips the suppression check), ARGV[2] = limit
// (recipients per window), ARGV[3] = window in milliseconds.
// Reply: {1, count_after, 0}         permitted (count includes this one)
//        {0, count, retry_us}        limit reached; retry_us until a slot frees
//        {2, 0, 0, suppression_value} recipient suppressed (nothing counted)
std::string_view rate_script();
// Its SHA-1 in hex, as EVALSHA wants it (computed once).
const std::string& rate_script_sha1();

// One element of a Redis reply, without hiredis types, so the reading of the
// script's reply is testable on its own. text is a view into the reply.
struct ReplyElement {
    enum class Type { integer, string, status, error, nil, array, other };
    Type type = Type::nil;
    long long integer = 0;
    std::string_view text;
    std::size_t elements = 0;  // for arrays
};

struct RateOutcome {
    enum class Kind {
        permitted,
        limited,     // the window holds limit events already
        suppressed,  // detail: the suppression hash value
        noscript,    // the script is not in Redis's cache: send it with EVAL
        error,       // detail: what was wrong with the reply
    };
    Kind kind = Kind::error;
    long long count = 0;                        // events in the window (after a permit: including it)
    std::chrono::microseconds retry_after{0};  // limited: until the oldest counted event leaves
    std::string_view detail;
};

// top: the reply; elements: its elements when top is an array (may be fewer
// than top.elements if the caller copied only the first few; 4 is enough).
RateOutcome interpret_rate_reply(const ReplyElement& top, std::span<const ReplyElement> elements);

// Seconds to tell a client to wait, rounded up, at least 1.
long long retry_seconds(std::chrono::microseconds retry_after);

}  // namespace tenantmail
