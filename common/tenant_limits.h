// tenant_limits.h — the tenants.conf values that set sending limits: the
// lists of CLASS_rate (sliding windows) and CLASS_quota (calendar quotas),
// login_limits (a SASL login's own limits, applied beside the tenant's) and
// quota_month_start. Pure parsing with the rules that keep one request's
// limits few and distinct; tenants.cpp stores the results.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/sending_limit.h"

namespace tenantmail {

// Bounds per list, so one request never carries more than
// kMaxLimitsPerRequest limits into Redis.
inline constexpr std::size_t kMaxRatesPerClass = 4;
inline constexpr std::size_t kMaxQuotasPerClass = 4;
inline constexpr std::size_t kMaxLimitsPerLogin = 8;
inline constexpr std::size_t kMaxLimitsPerRequest = kMaxRatesPerClass + kMaxQuotasPerClass + kMaxLimitsPerLogin;

// A login's own limit (tenants.conf "login_limits = LOGIN=LIMIT ...").
struct LoginLimit {
    std::string login;
    SendingLimit limit;
    bool operator==(const LoginLimit&) const = default;
};

// "500/3m 5000/1h 100/1m:messages": the first recipients window is primary.
Result<std::vector<SendingLimit>> parse_rate_list(std::string_view value);
// "10000/day 200000/month".
Result<std::vector<SendingLimit>> parse_quota_list(std::string_view value);
// "app1=100/1m app1=2000/day batch=50/1m:messages"; the login is split at
// the last '=' (limits hold none). Whether each login is the tenant's is
// checked with the rest of the tenant.
Result<std::vector<LoginLimit>> parse_login_limits(std::string_view value);
// 1..31.
Result<unsigned> parse_month_start(std::string_view value);

}  // namespace tenantmail
