// rate_limiter.h — tenantmail's data in Redis: key names, the Lua script
// that makes one rate/suppression decision atomically, and the pure reading
// of its reply. No I/O here: policyd sends the script (policyd/rate_check.h),
// tenantmailctl reads the same keys for its usage and suppression views.
//
// Keys (the tenant id in a hash tag, so every key of a tenant lands in the
// same Redis Cluster slot and one script may touch them together):
//   tm:{TENANT}:rate:bulk           sorted set: one member per permitted
//   tm:{TENANT}:rate:transactional  recipient, score = Redis time in µs;
//                                   expires one window after the last permit
//   tm:{TENANT}:suppressed          hash: recipient (normalise_recipient,
//                                   common/recipient.h) -> JSON
//                                   {"reason":"...","time":UNIX_SECONDS};
//                                   no expiry (a suppression stays until
//                                   removed), so it is the one key that grows
//                                   with the tenant's list, on purpose.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/duration.h"
#include "common/recipient.h"  // normalise_recipient: the form of ARGV[1] and of the hash's fields
#include "common/result.h"
#include "common/tenants.h"

namespace tenantmail {

std::string rate_key(std::string_view tenant, TrafficClass traffic_class);
std::string suppression_key(std::string_view tenant);
// The same, written into out (cleared first), for callers that reuse a buffer.
void build_rate_key(std::string& out, std::string_view tenant, TrafficClass traffic_class);
void build_suppression_key(std::string& out, std::string_view tenant);

// The script. KEYS[1] = rate key, KEYS[2] = suppression key; ARGV[1] =
// normalised recipient ("" skips the suppression check), ARGV[2] = limit
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

// Suppression hash values. Written as JSON; a value that is not our JSON
// (e.g. set by hand) is read as the reason itself with time 0.
struct SuppressionEntry {
    std::string reason;
    std::int64_t time = 0;  // seconds since the epoch when it was added
};
std::string encode_suppression(const SuppressionEntry& entry);
SuppressionEntry decode_suppression(std::string_view value);

// Text from Redis or a client, made safe for an SMTP reply or a log line:
// bytes outside printable ASCII become '?', at most max_length bytes
// (then "..." is appended).
void append_printable(std::string& out, std::string_view text, std::size_t max_length);

}  // namespace tenantmail
