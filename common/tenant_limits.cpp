// tenant_limits.cpp — parsing the limit lists of tenants.conf (see
// tenant_limits.h).
#include "common/tenant_limits.h"

#include <algorithm>

#include "common/text.h"

namespace tenantmail {

namespace {

std::string in_quotes(std::string_view text) { return "\"" + std::string(text) + "\""; }

// Same period and unit twice is a typo or a contradiction: refuse it.
bool same_kind(const SendingLimit& a, const SendingLimit& b) {
    return a.period == b.period && a.window == b.window && a.counts == b.counts;
}

Result<std::vector<SendingLimit>> parse_list(std::string_view value, LimitSyntax syntax, std::size_t max) {
    std::vector<SendingLimit> limits;
    for (const std::string_view item : split_list(value)) {
        auto limit = parse_sending_limit(item, syntax);
        if (!limit) return Error{limit.error()};
        for (const SendingLimit& earlier : limits) {
            if (same_kind(earlier, *limit)) return make_error(in_quotes(item) + ": the same period is listed twice");
        }
        limits.push_back(*limit);
    }
    if (limits.empty()) return make_error("empty");
    if (limits.size() > max) return make_error("at most " + std::to_string(max) + " limits");
    return limits;
}

bool looks_like_quota(std::string_view limit) {
    return limit.find("/day") != std::string_view::npos || limit.find("/month") != std::string_view::npos;
}

}  // namespace

Result<std::vector<SendingLimit>> parse_rate_list(std::string_view value) {
    auto limits = parse_list(value, LimitSyntax::window_only, kMaxRatesPerClass);
    if (!limits) return limits;
    const auto first = std::find_if(limits->begin(), limits->end(),
                                    [](const SendingLimit& l) { return l.counts == LimitCounts::recipients; });
    if (first != limits->end()) first->primary = true;
    return limits;
}

Result<std::vector<SendingLimit>> parse_quota_list(std::string_view value) {
    return parse_list(value, LimitSyntax::quota_only, kMaxQuotasPerClass);
}

Result<std::vector<LoginLimit>> parse_login_limits(std::string_view value) {
    std::vector<LoginLimit> limits;
    for (const std::string_view item : split_list(value)) {
        const std::size_t equals = item.rfind('=');
        if (equals == std::string_view::npos || equals == 0 || equals + 1 == item.size()) {
            return make_error(in_quotes(item) + " is not LOGIN=LIMIT, e.g. app1=100/1m");
        }
        LoginLimit entry;
        entry.login = std::string(item.substr(0, equals));
        const std::string_view text = item.substr(equals + 1);
        auto limit =
            parse_sending_limit(text, looks_like_quota(text) ? LimitSyntax::quota_only : LimitSyntax::window_only);
        if (!limit) return make_error(in_quotes(entry.login) + ": " + limit.error());
        entry.limit = *limit;
        std::size_t of_login = 0;
        for (const LoginLimit& earlier : limits) {
            if (earlier.login != entry.login) continue;
            if (same_kind(earlier.limit, entry.limit)) {
                return make_error(in_quotes(item) + ": the same period is listed twice for this login");
            }
            ++of_login;
        }
        if (of_login >= kMaxLimitsPerLogin) {
            return make_error("at most " + std::to_string(kMaxLimitsPerLogin) + " limits for " + in_quotes(entry.login));
        }
        limits.push_back(std::move(entry));
    }
    if (limits.empty()) return make_error("empty");
    return limits;
}

Result<unsigned> parse_month_start(std::string_view value) {
    const std::string_view text = trim(value);
    const bool digits = !text.empty() && text.size() <= 2 &&
                        std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
    const unsigned day = digits ? static_cast<unsigned>(std::stoul(std::string(text))) : 0;
    if (day < 1 || day > 31) {
        return make_error(in_quotes(text) + " is not a day of the month, 1-31 (29-31 mean the last day in shorter months)");
    }
    return day;
}

}  // namespace tenantmail
