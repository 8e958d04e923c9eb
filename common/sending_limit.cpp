// sending_limit.cpp — parsing and wording of one limit (see sending_limit.h).
#include "common/sending_limit.h"

#include "common/text.h"

namespace tenantmail {

namespace {

constexpr std::string_view kMessagesSuffix = ":messages";
constexpr std::string_view kRecipientsSuffix = ":recipients";

std::string in_quotes(std::string_view text) { return "\"" + std::string(text) + "\""; }

// "10000/day" -> count 10000, period day; anything else is not a quota.
Result<SendingLimit> parse_quota(std::string_view text) {
    const std::size_t slash = text.find('/');
    if (slash == std::string_view::npos) return make_error("expected <count>/day or <count>/month");
    const std::string_view period = text.substr(slash + 1);
    SendingLimit limit;
    if (period == "day") {
        limit.period = LimitPeriod::day;
    } else if (period == "month") {
        limit.period = LimitPeriod::month;
    } else {
        return make_error("a quota is per day or per month, e.g. 10000/day");
    }
    // The count follows the rate limit rules (digits, >= 1, 32 bits).
    auto count = parse_rate_limit(std::string(text.substr(0, slash)) + "/1s");
    if (!count) return make_error("count: " + count.error());
    limit.count = count->count;
    return limit;
}

}  // namespace

Result<SendingLimit> parse_sending_limit(std::string_view text, LimitSyntax syntax) {
    std::string_view body = trim(text);
    const std::string_view whole = body;
    LimitCounts counts = LimitCounts::recipients;
    if (body.ends_with(kMessagesSuffix)) {
        counts = LimitCounts::messages;
        body.remove_suffix(kMessagesSuffix.size());
    } else if (body.ends_with(kRecipientsSuffix)) {
        body.remove_suffix(kRecipientsSuffix.size());
    }
    SendingLimit limit;
    if (syntax == LimitSyntax::quota_only) {
        auto quota = parse_quota(body);
        if (!quota) return make_error("invalid quota " + in_quotes(whole) + ": " + quota.error());
        limit = *quota;
    } else {
        auto rate = parse_rate_limit(body);
        if (!rate) return make_error(rate.error());
        limit.count = rate->count;
        limit.window = rate->window;
    }
    limit.counts = counts;
    return limit;
}

std::string to_string(const SendingLimit& limit) {
    std::string text = std::to_string(limit.count) + "/";
    if (limit.period == LimitPeriod::window) {
        text += format_duration(limit.window);
    } else {
        text += period_name(limit.period);
    }
    if (limit.counts == LimitCounts::messages) text += kMessagesSuffix;
    return text;
}

std::string describe(const SendingLimit& limit) {
    const std::string unit = limit.counts == LimitCounts::messages ? " messages" : "";
    switch (limit.period) {
        case LimitPeriod::window:
            return "limit " + std::to_string(limit.count) + unit + " per " + format_duration(limit.window);
        case LimitPeriod::day: return "daily quota " + std::to_string(limit.count) + unit;
        case LimitPeriod::month: return "monthly quota " + std::to_string(limit.count) + unit;
    }
    return "limit";
}

std::string_view period_name(LimitPeriod period) {
    switch (period) {
        case LimitPeriod::window: return "window";
        case LimitPeriod::day: return "day";
        case LimitPeriod::month: return "month";
    }
    return "window";
}

}  // namespace tenantmail
