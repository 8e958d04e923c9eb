// sending_health.cpp — the pause thresholds of tenants.conf and the health
// check script (see sending_health.h).
#include "common/sending_health.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "common/duration.h"
#include "common/events.h"
#include "common/message_store.h"
#include "common/redis.h"
#include "common/redis_keys.h"
#include "common/redis_script.h"
#include "common/text.h"

namespace tenantmail {

namespace {

constexpr std::uint32_t kPpmPerPercent = 10'000;
constexpr std::uint32_t kMaxMinOutcomes = 1'000'000'000;

bool all_digits(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Why one script: reading the buckets, deciding and pausing happen together,
// so two bounce processes recording reports at the same moment pause once
// and announce it once. A class already paused (by hand or earlier) is left
// as it is: its reason stays the one the tenant was told.
//
// KEYS: paused hash, events stream, then the period's hour buckets.
// ARGV: min outcomes, bounce ppm, complaint ppm (0: off), period ("24h"),
// paused event JSON, reason marker, counts marker, stream cap.
// Reply: {0, "", delivered, bounced, complained} healthy;
//        {1, reason, delivered, bounced, complained} paused now;
//        {2, reason held, 0, 0, 0} already paused.
constexpr std::string_view kHealthScript = R"lua(-- tenantmail health v1
local paused_key, events_key = KEYS[1], KEYS[2]
local min_outcomes, bounce_ppm, complaint_ppm = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local period, event, reason_marker, counts_marker, stream_cap = ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local held = redis.call('HGET', paused_key, 'bulk')
if held then return {2, held, 0, 0, 0} end
local d, b, c = 0, 0, 0
for i = 3, #KEYS do
  local v = redis.call('HMGET', KEYS[i], 'delivered', 'bounced', 'complained')
  d = d + (tonumber(v[1]) or 0)
  b = b + (tonumber(v[2]) or 0)
  c = c + (tonumber(v[3]) or 0)
end
local reason = nil
if d + b >= min_outcomes then
  if complaint_ppm > 0 and d > 0 and c * 1000000 >= complaint_ppm * d then
    reason = string.format('complaint rate %.2f%% over %s', 100 * c / d, period)
  elseif bounce_ppm > 0 and b * 1000000 >= bounce_ppm * (d + b) then
    reason = string.format('hard-bounce rate %.2f%% over %s', 100 * b / (d + b), period)
  end
end
if not reason then return {0, '', d, b, c} end
redis.call('HSET', paused_key, 'bulk', reason)
local function replace(text, marker, value)
  local first, last = string.find(text, marker, 1, true)
  if not first then return text end
  return string.sub(text, 1, first - 1) .. value .. string.sub(text, last + 1)
end
event = replace(event, reason_marker, cjson.encode(reason))
event = replace(event, counts_marker, cjson.encode({delivered = d, bounced = b, complained = c}))
redis.call('XADD', events_key, 'MAXLEN', '~', stream_cap, '*', 'event', event)
return {1, reason, d, b, c}
)lua";

const std::string& health_script_sha1() {
    static const std::string sha1 = script_sha1(kHealthScript);
    return sha1;
}

std::vector<std::string> bucket_keys(std::string_view tenant, std::chrono::hours period, std::int64_t now_unix) {
    std::vector<std::string> keys;
    const std::int64_t hour = health_hour(now_unix);
    for (std::int64_t h = 0; h < period.count(); ++h) keys.push_back(health_bucket_key(tenant, hour - h));
    return keys;
}

std::int64_t now_unix() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::int64_t integer_at(const redisReply* reply, std::size_t index) {
    if (reply->elements <= index) return 0;
    const redisReply* element = reply->element[index];
    return element->type == REDIS_REPLY_INTEGER ? element->integer : 0;
}

}  // namespace

Result<std::chrono::hours> parse_pause_period(std::string_view value) {
    const std::string text(trim(value));
    auto parsed = parse_duration(text);
    if (!parsed) return Error{parsed.error()};
    const auto hours = std::chrono::duration_cast<std::chrono::hours>(*parsed);
    if (hours != *parsed || hours.count() < 1 || hours > kMaxPausePeriod) {
        return make_error("\"" + text + "\" is not a whole number of hours from 1h to 7d");
    }
    return hours;
}

Result<std::uint32_t> parse_rate_threshold(std::string_view value) {
    const std::string_view text = trim(value);
    if (text == "off") return 0u;
    const std::string quoted = "\"" + std::string(text) + "\"";
    const auto bad = [&] { return make_error(quoted + " is not a percentage like 5% or 0.3% (or off)"); };
    if (text.size() < 2 || text.size() > 12 || text.back() != '%') return bad();
    const std::string_view number = text.substr(0, text.size() - 1);
    const std::size_t dot = number.find('.');
    const std::string_view whole = number.substr(0, dot);
    const std::string_view fraction = dot == std::string_view::npos ? std::string_view() : number.substr(dot + 1);
    if (!all_digits(whole) || whole.size() > 3 || (dot != std::string_view::npos && !all_digits(fraction))) {
        return bad();
    }
    if (fraction.size() > 4) return make_error(quoted + ": at most four decimals");
    std::uint32_t ppm = static_cast<std::uint32_t>(std::stoul(std::string(whole))) * kPpmPerPercent;
    std::uint32_t scale = kPpmPerPercent / 10;
    for (const char digit : fraction) {
        ppm += static_cast<std::uint32_t>(digit - '0') * scale;
        scale /= 10;
    }
    if (ppm == 0) return make_error(quoted + ": must be above 0% (off turns the check off)");
    if (ppm > 100 * kPpmPerPercent) return make_error(quoted + ": above 100%");
    return ppm;
}

Result<std::uint32_t> parse_min_outcomes(std::string_view value) {
    const std::string_view text = trim(value);
    if (!all_digits(text) || text.size() > 10 || std::stoull(std::string(text)) < 1 ||
        std::stoull(std::string(text)) > kMaxMinOutcomes) {
        return make_error("\"" + std::string(text) + "\" is not a count from 1 to " + std::to_string(kMaxMinOutcomes));
    }
    return static_cast<std::uint32_t>(std::stoul(std::string(text)));
}

std::string format_rate_threshold(std::uint32_t ppm) {
    if (ppm == 0) return "off";
    std::string text = std::to_string(ppm / kPpmPerPercent);
    std::string fraction = std::to_string(ppm % kPpmPerPercent + kPpmPerPercent).substr(1);  // 4 digits
    while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
    if (!fraction.empty()) text.append(".").append(fraction);
    return text + "%";
}

std::string format_pause_period(std::chrono::hours period) {
    // "over 24h" reads better than "over 1d"; whole days from two on.
    if (period.count() >= 48 && period.count() % 24 == 0) return std::to_string(period.count() / 24) + "d";
    return std::to_string(period.count()) + "h";
}

std::string_view health_counter(RecipientStatus status) {
    switch (status) {
        case RecipientStatus::delivered: return "delivered";
        case RecipientStatus::bounced: return "bounced";
        case RecipientStatus::complained: return "complained";
        case RecipientStatus::queued:
        case RecipientStatus::deferred:
        case RecipientStatus::blocked: return "";
    }
    return "";
}

std::int64_t health_hour(std::int64_t unix_seconds) {
    return unix_seconds >= 0 ? unix_seconds / 3600 : (unix_seconds - 3599) / 3600;
}

std::string format_rate(std::int64_t part, std::int64_t whole) {
    if (whole <= 0) return "-";
    char text[32];
    std::snprintf(text, sizeof text, "%.2f%%", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
    return text;
}

std::string_view health_check_script() { return kHealthScript; }

std::vector<std::string> build_health_check(std::string_view tenant, const PausePolicy& policy,
                                            std::int64_t now_unix, std::size_t stream_cap) {
    Event event = make_event(EventKind::paused, std::string(tenant), "");
    event.timestamp = now_unix;
    const std::string reason_marker = "@@tenantmail-reason-" + event.id + "@@";
    const std::string counts_marker = "@@tenantmail-counts-" + event.id + "@@";
    event.details = {{"class", "bulk"},
                     {"reason", reason_marker},
                     {"automatic", true},
                     {"period", format_pause_period(policy.period)},
                     {"counts", counts_marker}};
    const std::vector<std::string> buckets = bucket_keys(tenant, policy.period, now_unix);
    std::vector<std::string> argv{"EVALSHA", health_script_sha1(), std::to_string(2 + buckets.size()),
                                  paused_key(tenant), events_stream_key(tenant)};
    argv.insert(argv.end(), buckets.begin(), buckets.end());
    argv.insert(argv.end(), {std::to_string(policy.min_outcomes), std::to_string(policy.bounce_rate_ppm),
                             std::to_string(policy.complaint_rate_ppm), format_pause_period(policy.period),
                             event_to_json(event).dump(), "\"" + reason_marker + "\"",
                             "\"" + counts_marker + "\"", std::to_string(stream_cap)});
    return argv;
}

Result<HealthVerdict> check_sending_health(RedisClient& redis, std::string_view tenant, const PausePolicy& policy,
                                           std::size_t stream_cap) {
    std::vector<std::string> argv = build_health_check(tenant, policy, now_unix(), stream_cap);
    auto reply = redis.command(argv);
    if (!reply && is_noscript_error(reply.error())) {
        argv[0] = "EVAL";
        argv[1] = std::string(kHealthScript);
        reply = redis.command(argv);
    }
    const std::string what = "tenant " + std::string(tenant) + ": cannot check the bounce and complaint rates: ";
    if (!reply) return make_error(what + reply.error());
    const redisReply* r = reply->get();
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 5 || r->element[0]->type != REDIS_REPLY_INTEGER ||
        r->element[1]->type != REDIS_REPLY_STRING) {
        return make_error(what + "unexpected reply from the health script");
    }
    HealthVerdict verdict;
    const long long code = r->element[0]->integer;
    verdict.kind = code == 1   ? HealthVerdict::Kind::paused_now
                   : code == 2 ? HealthVerdict::Kind::already_paused
                               : HealthVerdict::Kind::healthy;
    verdict.reason.assign(r->element[1]->str, r->element[1]->len);
    verdict.counts = {integer_at(r, 2), integer_at(r, 3), integer_at(r, 4)};
    return verdict;
}

Result<HealthCounts> read_sending_health(RedisClient& redis, std::string_view tenant, std::chrono::hours period) {
    std::vector<std::vector<std::string>> commands;
    for (std::string& key : bucket_keys(tenant, period, now_unix())) {
        commands.push_back({"HMGET", std::move(key), "delivered", "bounced", "complained"});
    }
    auto replies = redis.pipeline(commands);
    if (!replies) return Error{replies.error()};
    HealthCounts counts;
    for (const RedisReply& reply : *replies) {
        const redisReply* r = reply.get();
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 3) continue;
        std::int64_t* fields[] = {&counts.delivered, &counts.bounced, &counts.complained};
        for (std::size_t i = 0; i < 3; ++i) {
            if (r->element[i]->type == REDIS_REPLY_STRING) *fields[i] += std::atoll(r->element[i]->str);
        }
    }
    return counts;
}

}  // namespace tenantmail
