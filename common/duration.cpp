// duration.cpp — parsing and formatting of durations and rate limits.
// Overflow is checked at every step: a config value must either mean what it
// says or be refused, never wrap into a tiny or negative timeout.
#include "common/duration.h"

#include <array>
#include <limits>

#include "common/text.h"

namespace tenantmail {
namespace {

struct Unit {
    std::string_view suffix;
    std::int64_t milliseconds;
};

// Longest suffix first so "ms" is not read as "m" followed by junk.
constexpr std::array<Unit, 5> kUnits{{
    {"ms", 1},
    {"s", 1000},
    {"m", 60 * 1000},
    {"h", 60 * 60 * 1000},
    {"d", 24 * 60 * 60 * 1000},
}};

constexpr std::int64_t kMaxMilliseconds = std::numeric_limits<std::int64_t>::max();

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string in_quotes(std::string_view text) { return "\"" + std::string(text) + "\""; }

// Decimal digits only, checked against max.
Result<std::uint64_t> parse_number(std::string_view digits, std::uint64_t max, std::string_view what) {
    if (digits.empty()) return make_error("missing number");
    std::uint64_t value = 0;
    for (const char c : digits) {
        if (!is_digit(c)) return make_error("not a number: " + in_quotes(digits));
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (value > (max - digit) / 10) return make_error(std::string(what) + " too large");
        value = value * 10 + digit;
    }
    return value;
}

Result<std::chrono::milliseconds> parse_duration_body(std::string_view text) {
    if (text.empty()) return make_error("empty");
    if (text.front() == '-' || text.front() == '+') return make_error("no sign allowed");
    std::size_t digits = 0;
    while (digits < text.size() && is_digit(text[digits])) ++digits;
    if (digits == 0) return make_error("must start with a number");
    const std::string_view suffix = text.substr(digits);
    std::int64_t unit = 1000;  // bare number: seconds
    if (!suffix.empty()) {
        unit = 0;
        for (const Unit& u : kUnits) {
            if (suffix == u.suffix) unit = u.milliseconds;
        }
        if (unit == 0) return make_error("unknown unit " + in_quotes(suffix) + " (use ms, s, m, h or d)");
    }
    const auto max = static_cast<std::uint64_t>(kMaxMilliseconds / unit);
    auto number = parse_number(text.substr(0, digits), max, "value");
    if (!number) return Error{number.error()};
    return std::chrono::milliseconds(static_cast<std::int64_t>(*number) * unit);
}

}  // namespace

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
    const std::string_view value = trim(text);
    auto parsed = parse_duration_body(value);
    if (!parsed) return make_error("invalid duration " + in_quotes(value) + ": " + parsed.error());
    return parsed;
}

namespace {

Result<RateLimit> parse_rate_limit_body(std::string_view text) {
    const std::size_t slash = text.find('/');
    if (slash == std::string_view::npos) return make_error("expected <count>/<window>, e.g. 500/3m");
    const std::string_view count_text = text.substr(0, slash);
    const std::string_view window_text = text.substr(slash + 1);
    if (count_text.empty()) return make_error("missing count before '/'");
    if (window_text.empty()) return make_error("missing window after '/'");
    if (count_text.front() == '-' || count_text.front() == '+') return make_error("no sign allowed");
    auto count = parse_number(count_text, std::numeric_limits<std::uint32_t>::max(), "count");
    if (!count) return Error{count.error()};
    if (*count == 0) return make_error("count must be at least 1 (to stop a tenant, remove it)");
    auto window = parse_duration_body(window_text);
    if (!window) return make_error("window: " + window.error());
    if (*window < std::chrono::seconds(1)) return make_error("window must be at least 1s");
    if (*window % std::chrono::seconds(1) != std::chrono::milliseconds(0)) {
        return make_error("window must be whole seconds");
    }
    if (*window > kMaxRateWindow) return make_error("window longer than " + format_duration(kMaxRateWindow));
    return RateLimit{static_cast<std::uint32_t>(*count), std::chrono::duration_cast<std::chrono::seconds>(*window)};
}

}  // namespace

Result<RateLimit> parse_rate_limit(std::string_view text) {
    const std::string_view value = trim(text);
    auto parsed = parse_rate_limit_body(value);
    if (!parsed) return make_error("invalid rate limit " + in_quotes(value) + ": " + parsed.error());
    return parsed;
}

std::string format_duration(std::chrono::milliseconds duration) {
    const std::int64_t ms = duration.count();
    if (ms == 0) return "0s";
    // From the largest unit down; "ms" last so it always divides.
    for (auto it = kUnits.rbegin(); it != kUnits.rend(); ++it) {
        if (ms % it->milliseconds == 0) return std::to_string(ms / it->milliseconds) + std::string(it->suffix);
    }
    return std::to_string(ms) + "ms";
}

std::string to_string(const RateLimit& limit) {
    return std::to_string(limit.count) + "/" + format_duration(limit.window);
}

std::string describe(const RateLimit& limit) {
    return std::to_string(limit.count) + " per " + format_duration(limit.window);
}

}  // namespace tenantmail
