// rate_limiter.cpp — the rate/suppression script and its reply.
#include "common/rate_limiter.h"

#include "common/redis_script.h"

namespace tenantmail {

namespace {

// The exact sliding window. The rule: in ANY interval of length W, at most
// N recipients are permitted. Keeping a log of the permitted events (a
// sorted set scored by time) makes that exact: at time t the events that
// count are those in (t - W, t]; older ones are dropped first, and a new
// event is added only while fewer than N remain. Every window ending at an
// event's time therefore holds at most N events, and no window ending
// between events holds more than the one ending at the last event before it.
// (Fixed-window counters allow 2N across a boundary; the log does not.)
//
// Atomicity: Redis runs the whole script without interleaving another
// command, so any number of policyd processes, on any number of hosts,
// sharing this Redis see one consistent log. Time comes from Redis's TIME,
// never from the hosts, so their clocks need not agree.
//
// Members must be unique or two permits in one microsecond would collapse
// into one: the member is the microsecond timestamp, with "-1", "-2", ...
// appended on the (rare) collision, which ZADD NX detects.
//
// Refusal: the window is full; the slot that frees first is the one of
// event number (count - N) from the oldest (normally the oldest itself;
// later ones if the limit was lowered while the window was fuller), and it
// frees when that event is W old.
//
// Memory: at most N members per key; PEXPIRE W after each permit removes a
// key whose window has run out. Refusals write nothing.
constexpr std::string_view kRateScript = R"lua(-- tenantmail rate check v1
local rate_key, suppression_key = KEYS[1], KEYS[2]
local recipient = ARGV[1]
local limit = tonumber(ARGV[2])
local window = tonumber(ARGV[3]) * 1000
if recipient ~= '' then
  local entry = redis.call('HGET', suppression_key, recipient)
  if entry then return {2, 0, 0, entry} end
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
redis.call('ZREMRANGEBYSCORE', rate_key, '-inf', now - window)
local count = redis.call('ZCARD', rate_key)
if count < limit then
  local member = time[1] .. string.format('%06d', tonumber(time[2]))
  local candidate, n = member, 0
  while redis.call('ZADD', rate_key, 'NX', now, candidate) == 0 do
    n = n + 1
    candidate = member .. '-' .. n
  end
  redis.call('PEXPIRE', rate_key, ARGV[3])
  return {1, count + 1, 0}
end
local first = redis.call('ZRANGE', rate_key, count - limit, count - limit, 'WITHSCORES')
return {0, count, tonumber(first[2]) + window - now}
)lua";


RateOutcome error_outcome(std::string_view detail) {
    RateOutcome outcome;
    outcome.kind = RateOutcome::Kind::error;
    outcome.detail = detail;
    return outcome;
}

}  // namespace

std::string_view rate_script() { return kRateScript; }

const std::string& rate_script_sha1() {
    static const std::string sha1 = script_sha1(kRateScript);
    return sha1;
}

RateOutcome interpret_rate_reply(const ReplyElement& top, std::span<const ReplyElement> elements) {
    using Type = ReplyElement::Type;
    if (top.type == Type::error) {
        if (is_noscript_error(top.text)) {
            RateOutcome outcome;
            outcome.kind = RateOutcome::Kind::noscript;
            outcome.detail = top.text;
            return outcome;
        }
        return error_outcome(top.text);
    }
    if (top.type != Type::array || top.elements < 3 || elements.size() < 3) {
        return error_outcome("unexpected reply from the rate script (not an array of 3 or 4)");
    }
    for (std::size_t i = 0; i < 3; ++i) {
        if (elements[i].type != Type::integer) return error_outcome("unexpected reply from the rate script (not integers)");
    }
    RateOutcome outcome;
    outcome.count = elements[1].integer;
    switch (elements[0].integer) {
        case 1:
            outcome.kind = RateOutcome::Kind::permitted;
            return outcome;
        case 0:
            outcome.kind = RateOutcome::Kind::limited;
            outcome.retry_after = std::chrono::microseconds(elements[2].integer > 0 ? elements[2].integer : 0);
            return outcome;
        case 2:
            if (top.elements < 4 || elements.size() < 4 || elements[3].type != Type::string) {
                return error_outcome("unexpected reply from the rate script (suppression without its entry)");
            }
            outcome.kind = RateOutcome::Kind::suppressed;
            outcome.count = 0;
            outcome.detail = elements[3].text;
            return outcome;
        default:
            return error_outcome("unexpected reply from the rate script (unknown code)");
    }
}

long long retry_seconds(std::chrono::microseconds retry_after) {
    const long long us = retry_after.count();
    const long long seconds = (us + 999'999) / 1'000'000;
    return seconds < 1 ? 1 : seconds;
}

}  // namespace tenantmail
