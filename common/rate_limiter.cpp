// rate_limiter.cpp — the limits script, its argv and its reply.
#include "common/rate_limiter.h"

#include <charconv>

#include "common/redis_script.h"
#include "common/reservation.h"

namespace tenantmail {

namespace {

// Sliding windows: in ANY interval of length W, at most N are permitted.
// Keeping a log of the permitted events (a sorted set scored by time) makes
// that exact: at time t the events that count are those in (t - W, t];
// older ones are dropped first, and a new event is added only while fewer
// than N remain. (Fixed-window counters allow 2N across a boundary; the log
// does not.) Members must be unique or two permits in one microsecond would
// collapse into one: the member is the microsecond timestamp, with "-1",
// "-2", ... appended on the (rare) collision, which ZADD NX detects. A full
// window frees when event number (count - N) from the oldest is W old.
// Memory: at most N members per key, PEXPIRE W after each permit.
//
// Calendar quotas: one counter per period (its key names the period's first
// instant), so a monthly quota of millions is one integer; its expiry is
// set when the period's first permit creates it. The caller
// computes the period in the tenant's time zone; the script checks Redis's
// clock is inside it, so hosts with a wrong clock cannot count into the
// wrong month: they are told the time and compute again.
//
// Accepted-only (reservation.h): with a hold time, each permit also notes
// in the connection's reservation record what it added, so the milter can
// take it back when the message is not queued.
//
// Atomicity: Redis runs the whole script without interleaving another
// command, so any number of policyd processes on any number of hosts see one
// consistent state. Every limit is checked before any is counted: a
// recipient refused by one limit uses up none of the others. Time comes from
// Redis's TIME, never from the hosts.
constexpr std::string_view kRateScript = R"lua(-- tenantmail limits check v3
local recipient, class, n, hold_ms = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
if recipient ~= '' then
  local entry = redis.call('HGET', KEYS[1], recipient)
  if entry then return {2, 0, 0, entry} end
end
if class ~= '' then
  local reason = redis.call('HGET', KEYS[2], class)
  if reason then return {3, 0, 0, reason} end
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local now_ms = math.floor(now / 1000)
local counts = {}
local worst, worst_retry = 0, -1
for i = 1, n do
  local key, at = KEYS[3 + i], 4 + (i - 1) * 4
  local limit, a, b = tonumber(ARGV[at + 2]), tonumber(ARGV[at + 3]), tonumber(ARGV[at + 4])
  local count, retry
  local kind = ARGV[at + 1]
  if kind == 'w' or kind == 'W' then
    local window = a * 1000
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
    count = redis.call('ZCARD', key)
    if count >= limit then
      local first = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
      retry = tonumber(first[2]) + window - now
    end
  else
    if now_ms < a or now_ms >= b then return {4, 0, now} end
    count = tonumber(redis.call('GET', key) or '0')
    if count >= limit then retry = (b - now_ms) * 1000 end
  end
  counts[i] = count
  if retry and retry > worst_retry then worst, worst_retry = i, retry end
end
if worst > 0 then return {0, worst, worst_retry, counts[worst]} end
local reply = {1, 0, 0}
local member = time[1] .. string.format('%06d', tonumber(time[2]))
local held = {}
for i = 1, n do
  local key, at = KEYS[3 + i], 4 + (i - 1) * 4
  local kind = ARGV[at + 1]
  if kind == 'w' or kind == 'W' then
    local candidate, k = member, 0
    while redis.call('ZADD', key, 'NX', now, candidate) == 0 do
      k = k + 1
      candidate = member .. '-' .. k
    end
    redis.call('PEXPIRE', key, ARGV[at + 3])
    if hold_ms > 0 then held[#held + 1] = kind .. '\t' .. key .. '\t' .. candidate .. '\n' end
  else
    if redis.call('INCR', key) == 1 then redis.call('PEXPIREAT', key, tonumber(ARGV[at + 4]) + 60000) end
    if hold_ms > 0 then held[#held + 1] = kind .. '\t' .. key .. '\t\n' end
  end
  reply[3 + i] = counts[i] + 1
end
if #held > 0 then
  local what, field, k = table.concat(held), recipient .. '\n' .. member, 0
  while redis.call('HSETNX', KEYS[3], field, what) == 0 do
    k = k + 1
    field = recipient .. '\n' .. member .. '-' .. k
  end
  redis.call('PEXPIRE', KEYS[3], hold_ms)
end
return reply
)lua";

RateOutcome error_outcome(std::string_view detail) {
    RateOutcome outcome;
    outcome.kind = RateOutcome::Kind::error;
    outcome.detail = detail;
    return outcome;
}

std::int64_t milliseconds_of(SysSeconds instant) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(instant.time_since_epoch()).count();
}

// parts_[i] = the decimal form of value, without a temporary string.
void assign_number(std::string& part, std::int64_t value) {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
    part.assign(digits, end);
}

}  // namespace

std::string_view rate_script() { return kRateScript; }

const std::string& rate_script_sha1() {
    static const std::string sha1 = script_sha1(kRateScript);
    return sha1;
}

void RateRequest::select(const Tenant& tenant, TrafficClass traffic_class, std::string_view login,
                         bool count_messages) {
    count_ = 0;
    zone_ = tenant.time_zone;
    month_start_ = tenant.quota_month_start;
    const auto add = [&](const SendingLimit& limit, std::string_view of_login) {
        if (count_ == limits_.size()) return;  // the parser's bounds make this unreachable
        if (limit.counts == LimitCounts::messages && !count_messages) return;
        limits_[count_].limit = limit;
        limits_[count_].login.assign(of_login);
        ++count_;
    };
    for (const SendingLimit& limit : tenant.rates_of(traffic_class)) add(limit, "");
    for (const SendingLimit& limit : tenant.quotas_of(traffic_class)) add(limit, "");
    if (login.empty()) return;
    for (const LoginLimit& entry : tenant.login_limits) {
        if (entry.login == login) add(entry.limit, entry.login);
    }
}

void RateRequest::set_time(SysSeconds now) {
    for (std::size_t i = 0; i < count_; ++i) {
        AppliedLimit& applied = limits_[i];
        if (applied.limit.is_quota()) applied.period = quota_period(applied.limit.period, now, zone_, month_start_);
    }
}

bool RateRequest::counts_messages() const {
    for (std::size_t i = 0; i < count_; ++i) {
        if (limits_[i].limit.counts == LimitCounts::messages) return true;
    }
    return false;
}

void RateRequest::hold_for(std::string_view connection) { connection_.assign(connection); }

void RateRequest::build_argv(std::string_view tenant, TrafficClass traffic_class, std::string_view recipient,
                             bool with_body) {
    const std::size_t keys = 3 + count_;
    const std::size_t total = 3 + keys + 4 + 4 * count_;
    if (parts_.size() < total) parts_.resize(total);
    std::size_t at = 0;
    parts_[at++].assign(with_body ? "EVAL" : "EVALSHA");
    parts_[at++].assign(with_body ? rate_script() : std::string_view(rate_script_sha1()));
    assign_number(parts_[at++], static_cast<std::int64_t>(keys));
    build_suppression_key(parts_[at++], tenant);
    build_paused_key(parts_[at++], tenant);
    build_reservation_key(parts_[at++], tenant, connection_);
    for (std::size_t i = 0; i < count_; ++i) {
        const AppliedLimit& applied = limits_[i];
        const std::int64_t start = applied.period.start.time_since_epoch().count();
        build_limit_key(parts_[at++], tenant, traffic_class, applied.limit, applied.login, start);
    }
    parts_[at++].assign(recipient);
    parts_[at++].assign(to_string(traffic_class));
    assign_number(parts_[at++], static_cast<std::int64_t>(count_));
    assign_number(parts_[at++], connection_.empty() ? 0 : kReservationTtl.count());
    for (std::size_t i = 0; i < count_; ++i) {
        const AppliedLimit& applied = limits_[i];
        const bool quota = applied.limit.is_quota();
        const bool messages = applied.limit.counts == LimitCounts::messages;
        parts_[at++].assign(quota ? (messages ? "Q" : "q") : (messages ? "W" : "w"));
        assign_number(parts_[at++], applied.limit.count);
        if (quota) {
            assign_number(parts_[at++], milliseconds_of(applied.period.start));
            assign_number(parts_[at++], milliseconds_of(applied.period.end));
        } else {
            assign_number(parts_[at++], std::chrono::duration_cast<std::chrono::milliseconds>(applied.limit.window).count());
            parts_[at++].assign("0");
        }
    }
    pointers_.resize(total);
    lengths_.resize(total);
    for (std::size_t i = 0; i < total; ++i) {
        pointers_[i] = parts_[i].data();
        lengths_[i] = parts_[i].size();
    }
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
        return error_outcome("unexpected reply from the rate script (not an array of at least 3)");
    }
    for (std::size_t i = 0; i < 3; ++i) {
        if (elements[i].type != Type::integer) return error_outcome("unexpected reply from the rate script (not integers)");
    }
    RateOutcome outcome;
    const auto fourth = [&](Type type) { return top.elements >= 4 && elements.size() >= 4 && elements[3].type == type; };
    switch (elements[0].integer) {
        case 1:
            outcome.kind = RateOutcome::Kind::permitted;
            if (fourth(Type::integer)) outcome.count = elements[3].integer;
            return outcome;
        case 0:
            if (!fourth(Type::integer) || elements[1].integer < 1) {
                return error_outcome("unexpected reply from the rate script (limit reached without which)");
            }
            outcome.kind = RateOutcome::Kind::limited;
            outcome.limit_index = static_cast<std::size_t>(elements[1].integer - 1);
            outcome.retry_after = std::chrono::microseconds(elements[2].integer > 0 ? elements[2].integer : 0);
            outcome.count = elements[3].integer;
            return outcome;
        case 2:
        case 3:
            if (!fourth(Type::string)) {
                return error_outcome("unexpected reply from the rate script (refusal without its reason)");
            }
            outcome.kind = elements[0].integer == 2 ? RateOutcome::Kind::suppressed : RateOutcome::Kind::paused;
            outcome.detail = elements[3].text;
            return outcome;
        case 4:
            if (elements[2].integer <= 0) return error_outcome("unexpected reply from the rate script (no time)");
            outcome.kind = RateOutcome::Kind::stale_period;
            outcome.redis_now = std::chrono::microseconds(elements[2].integer);
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
