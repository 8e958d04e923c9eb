// usage_command.cpp — `tenantmailctl usage TENANT [--json]`: how much of
// each limit the tenant (and each login with limits of its own) has used
// right now, with the headroom left, read from the same keys the policy
// script writes (rate_limiter.h) with Redis's clock, and whether a class is
// paused, and the bounce and complaint rates the automatic pause watches
// (sending_health.h) against their thresholds, and the accepted-only
// permits held by open transactions (reservation.h). Read only: it counts the
// events inside a window, it does not prune.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>

#include "common/duration.h"
#include "common/rate_limiter.h"
#include "common/reservation.h"
#include "common/sending_health.h"
#include "tenantmailctl/cli_options.h"
#include "tenantmailctl/commands.h"
#include "tenantmailctl/ctl_config.h"
#include "tenantmailctl/ctl_redis.h"

namespace tenantmail::ctl {

namespace po = boost::program_options;

namespace {

// One limit's use now.
struct LimitUsage {
    SendingLimit limit;
    std::string login;             // "" for the tenant's own
    long long count = 0;
    long long oldest_age_us = -1;  // windows: -1 when no event is in the window
    long long retry_us = -1;       // windows: -1 when not full
    QuotaPeriod period{};          // quotas
};

struct ClassUsage {
    TrafficClass traffic_class = TrafficClass::bulk;
    std::vector<LimitUsage> limits;
    std::optional<std::string> paused;  // the reason
};

// The score of the index-th event (0 = oldest) still inside the window.
Result<long long> score_at(RedisClient& client, const std::string& key, const std::string& min, long long index) {
    auto reply = client.command({"ZRANGEBYSCORE", key, min, "+inf", "WITHSCORES", "LIMIT", std::to_string(index), "1"});
    if (!reply) return Error{reply.error()};
    const redisReply* r = reply->get();
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) return make_error("event vanished while reading " + key);
    return std::stoll(std::string(r->element[1]->str, r->element[1]->len));
}

Result<void> read_window(RedisClient& client, const std::string& key, LimitUsage& usage, long long now_us) {
    const long long window_us = static_cast<long long>(usage.limit.window.count()) * 1'000'000LL;
    // The script's window is (now - W, now]: exclusive lower bound.
    const std::string min = "(" + std::to_string(now_us - window_us);
    auto count = client.command({"ZCOUNT", key, min, "+inf"});
    if (!count) return Error{count.error()};
    usage.count = (*count)->integer;
    if (usage.count == 0) return {};
    auto oldest = score_at(client, key, min, 0);
    if (!oldest) return Error{oldest.error()};
    usage.oldest_age_us = now_us - *oldest;
    if (usage.count >= static_cast<long long>(usage.limit.count)) {
        auto blocking = score_at(client, key, min, usage.count - usage.limit.count);
        if (!blocking) return Error{blocking.error()};
        usage.retry_us = *blocking + window_us - now_us;
    }
    return {};
}

Result<void> read_quota(RedisClient& client, const std::string& key, LimitUsage& usage) {
    auto value = client.command({"GET", key});
    if (!value) return Error{value.error()};
    const redisReply* r = value->get();
    usage.count = r->type == REDIS_REPLY_STRING ? std::stoll(std::string(r->str, r->len)) : 0;
    return {};
}

Result<ClassUsage> read_usage(RedisClient& client, const Tenant& tenant, TrafficClass traffic_class, long long now_us) {
    ClassUsage usage;
    usage.traffic_class = traffic_class;
    const SysSeconds now{std::chrono::seconds(now_us / 1'000'000)};
    const auto add = [&](const SendingLimit& limit, const std::string& login) -> Result<void> {
        LimitUsage entry{limit, login};
        if (limit.is_quota()) entry.period = quota_period(limit.period, now, tenant.time_zone, tenant.quota_month_start);
        std::string key;
        build_limit_key(key, tenant.id, traffic_class, limit, login, entry.period.start.time_since_epoch().count());
        auto read = limit.is_quota() ? read_quota(client, key, entry) : read_window(client, key, entry, now_us);
        if (!read) return read;
        usage.limits.push_back(std::move(entry));
        return {};
    };
    for (const SendingLimit& limit : tenant.rates_of(traffic_class)) {
        if (auto ok = add(limit, ""); !ok) return Error{ok.error()};
    }
    for (const SendingLimit& limit : tenant.quotas_of(traffic_class)) {
        if (auto ok = add(limit, ""); !ok) return Error{ok.error()};
    }
    for (const LoginLimit& entry : tenant.login_limits) {
        const auto of_class = [&](const SaslUser& user) {
            return user.login == entry.login && user.traffic_class == traffic_class;
        };
        if (std::none_of(tenant.sasl_users.begin(), tenant.sasl_users.end(), of_class)) continue;
        if (auto ok = add(entry.limit, entry.login); !ok) return Error{ok.error()};
    }
    auto paused = client.command({"HGET", paused_key(tenant.id), std::string(to_string(traffic_class))});
    if (!paused) return Error{paused.error()};
    if ((*paused)->type == REDIS_REPLY_STRING) usage.paused = std::string((*paused)->str, (*paused)->len);
    return usage;
}

nlohmann::json seconds_or_null(long long us) {
    return us < 0 ? nlohmann::json(nullptr) : nlohmann::json(static_cast<double>(us) / 1e6);
}

nlohmann::json limit_json(const LimitUsage& usage, const QuotaTimeZone& zone) {
    const long long headroom = std::max(0LL, static_cast<long long>(usage.limit.count) - usage.count);
    nlohmann::json out = {
        {"period", std::string(period_name(usage.limit.period))},
        {"counts", usage.limit.counts == LimitCounts::messages ? "messages" : "recipients"},
        {"login", usage.login.empty() ? nlohmann::json(nullptr) : nlohmann::json(usage.login)},
        {"count", usage.count},
        {"limit", usage.limit.count},
        {"headroom", headroom},
        {"config", to_string(usage.limit)},
    };
    if (usage.limit.is_quota()) {
        out["period_start"] = usage.period.start.time_since_epoch().count();
        out["resets_at"] = usage.period.end.time_since_epoch().count();
        out["resets_local"] = format_local_minute(usage.period.end, zone) + " " + zone.name();
    } else {
        out["window_seconds"] = usage.limit.window.count();
        out["oldest_age_seconds"] = seconds_or_null(usage.oldest_age_us);
        out["retry_in_seconds"] = usage.retry_us < 0 ? nlohmann::json(nullptr)
                                                     : nlohmann::json(retry_seconds(std::chrono::microseconds(usage.retry_us)));
    }
    return out;
}

void print_limit(const Tenant& tenant, const ClassUsage& usage, const LimitUsage& limit) {
    std::string what = describe(limit.limit);
    if (what.starts_with("limit ")) what = what.substr(6);
    std::printf("%s %s", tenant.id.c_str(), std::string(to_string(usage.traffic_class)).c_str());
    if (!limit.login.empty()) std::printf(" (login %s)", limit.login.c_str());
    std::printf(": %lld of %s used", limit.count, what.c_str());
    if (limit.limit.is_quota()) {
        std::printf("; resets %s %s", format_local_minute(limit.period.end, tenant.time_zone).c_str(),
                    tenant.time_zone.name().c_str());
    }
    if (limit.retry_us >= 0) {
        std::printf(" (full; next slot in %llds)", retry_seconds(std::chrono::microseconds(limit.retry_us)));
    }
    if (limit.oldest_age_us >= 0) std::printf("; oldest counted %.1fs ago", static_cast<double>(limit.oldest_age_us) / 1e6);
    std::printf("\n");
}

// The rates behind the automatic pause (sending_health.h), with the
// thresholds they are held to.
nlohmann::json health_json(const HealthCounts& c, const PausePolicy& policy) {
    return {{"period", format_pause_period(policy.period)},
            {"delivered", c.delivered},
            {"bounced", c.bounced},
            {"complained", c.complained},
            {"bounce_rate", format_rate(c.bounced, c.delivered + c.bounced)},
            {"complaint_rate", format_rate(c.complained, c.delivered)},
            {"bounce_threshold", format_rate_threshold(policy.bounce_rate_ppm)},
            {"complaint_threshold", format_rate_threshold(policy.complaint_rate_ppm)},
            {"min_delivered", policy.min_outcomes},
            {"rates_apply", c.delivered + c.bounced >= policy.min_outcomes}};
}

void print_health(const std::string& tenant, const HealthCounts& c, const PausePolicy& policy) {
    std::printf("%s health over %s: %lld delivered, %lld hard bounces (%s; pauses bulk at %s), %lld complaints "
                "(%s; pauses bulk at %s); %s\n",
                tenant.c_str(), format_pause_period(policy.period).c_str(), static_cast<long long>(c.delivered),
                static_cast<long long>(c.bounced), format_rate(c.bounced, c.delivered + c.bounced).c_str(),
                format_rate_threshold(policy.bounce_rate_ppm).c_str(), static_cast<long long>(c.complained),
                format_rate(c.complained, c.delivered).c_str(), format_rate_threshold(policy.complaint_rate_ppm).c_str(),
                c.delivered + c.bounced >= policy.min_outcomes
                    ? "the rates apply"
                    : ("the rates apply from " + std::to_string(policy.min_outcomes) + " outcomes").c_str());
}
}  // namespace

int run_usage(const Args& args) {
    po::options_description desc("tenantmailctl usage TENANT: what each limit and quota has counted now, and pauses");
    std::string tenant_id;
    desc.add_options()
        ("help,h", "show this help")
        ("tenant", po::value(&tenant_id)->required(), "tenant id")
        ("json", po::bool_switch(), "print JSON");
    add_ctl_config_options(desc);
    po::positional_options_description positional;
    positional.add("tenant", 1);
    po::variables_map vm;
    if (const int status = parse_command_options(args, desc, vm, &positional); status >= 0) return status;

    const auto fail = [](const std::string& message) {
        std::fprintf(stderr, "tenantmailctl usage: %s\n", message.c_str());
        return 1;
    };
    auto tenant = find_ctl_tenant(vm, tenant_id);
    if (!tenant) return fail(tenant.error());
    auto client = connect_ctl_redis(vm);
    if (!client) return fail(client.error());
    auto now = redis_time_us(*client);
    if (!now) return fail(now.error());

    std::vector<ClassUsage> usages;
    for (const TrafficClassInfo& info : kTrafficClasses) {
        auto usage = read_usage(*client, *tenant, info.traffic_class, *now);
        if (!usage) return fail(usage.error());
        usages.push_back(*usage);
    }

    auto health = read_sending_health(*client, tenant->id, tenant->pause.period);
    if (!health) return fail(health.error());
    auto held = read_held_reservations(*client, tenant->id);
    if (!held) return fail(held.error());

    if (vm["json"].as<bool>()) {
        nlohmann::json classes = nlohmann::json::array();
        for (const ClassUsage& usage : usages) {
            nlohmann::json limits = nlohmann::json::array();
            for (const LimitUsage& limit : usage.limits) limits.push_back(limit_json(limit, tenant->time_zone));
            nlohmann::json entry = {
                {"class", std::string(to_string(usage.traffic_class))},
                {"limits", limits},
                {"paused", usage.paused ? nlohmann::json(*usage.paused) : nlohmann::json(nullptr)},
            };
            // The first window's figures at the top level, as before limit lists.
            if (!usage.limits.empty() && !usage.limits.front().limit.is_quota()) {
                for (const char* field : {"count", "limit", "window_seconds", "oldest_age_seconds", "retry_in_seconds"}) {
                    entry[field] = limits.front()[field];
                }
            }
            classes.push_back(entry);
        }
        const nlohmann::json out = {{"tenant", tenant->id},
                                    {"time_zone", tenant->time_zone.name()},
                                    {"classes", classes},
                                    {"health", health_json(*health, tenant->pause)},
                                    {"reservations", {{"connections", held->connections}, {"permits", held->permits}}}};
        std::cout << out.dump(2) << '\n';
        return 0;
    }
    for (const ClassUsage& usage : usages) {
        for (const LimitUsage& limit : usage.limits) print_limit(*tenant, usage, limit);
        if (usage.paused) {
            std::printf("%s %s: paused: %s\n", tenant->id.c_str(), std::string(to_string(usage.traffic_class)).c_str(),
                        usage.paused->c_str());
        }
    }
    print_health(tenant->id, *health, tenant->pause);
    if (held->connections > 0 || tenant->counts_accepted_only(TrafficClass::bulk) ||
        tenant->counts_accepted_only(TrafficClass::transactional)) {
        std::printf("%s reservations: %lld permits held by %lld open transactions (accepted-only; given back if "
                    "not queued)\n",
                    tenant->id.c_str(), held->permits, held->connections);
    }
    return 0;
}

}  // namespace tenantmail::ctl
