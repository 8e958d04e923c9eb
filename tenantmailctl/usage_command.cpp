// usage_command.cpp — `tenantmailctl usage TENANT [--json]`: how much of
// each rate limit the tenant has used right now, read from the same sorted
// sets the policy script writes (rate_limiter.h), with Redis's clock. Read
// only: it counts the events inside the window, it does not prune.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "common/duration.h"
#include "common/rate_limiter.h"
#include "tenantmailctl/cli_options.h"
#include "tenantmailctl/commands.h"
#include "tenantmailctl/ctl_config.h"
#include "tenantmailctl/ctl_redis.h"

namespace tenantmail::ctl {

namespace po = boost::program_options;

namespace {

struct ClassUsage {
    TrafficClass traffic_class = TrafficClass::bulk;
    RateLimit limit;
    long long count = 0;
    long long oldest_age_us = -1;  // -1: no event in the window
    long long retry_us = -1;       // -1: not full
};

// The score of the index-th event (0 = oldest) still inside the window.
Result<long long> score_at(RedisClient& client, const std::string& key, const std::string& min, long long index) {
    auto reply = client.command({"ZRANGEBYSCORE", key, min, "+inf", "WITHSCORES", "LIMIT", std::to_string(index), "1"});
    if (!reply) return Error{reply.error()};
    const redisReply* r = reply->get();
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) return make_error("event vanished while reading " + key);
    return std::stoll(std::string(r->element[1]->str, r->element[1]->len));
}

Result<ClassUsage> read_usage(RedisClient& client, const Tenant& tenant, TrafficClass traffic_class, long long now_us) {
    ClassUsage usage;
    usage.traffic_class = traffic_class;
    usage.limit = tenant.rate(traffic_class);
    const std::string key = rate_key(tenant.id, traffic_class);
    const long long window_us = static_cast<long long>(usage.limit.window.count()) * 1'000'000LL;
    // The script's window is (now - W, now]: exclusive lower bound.
    const std::string min = "(" + std::to_string(now_us - window_us);
    auto count = client.command({"ZCOUNT", key, min, "+inf"});
    if (!count) return Error{count.error()};
    usage.count = (*count)->integer;
    if (usage.count == 0) return usage;
    auto oldest = score_at(client, key, min, 0);
    if (!oldest) return Error{oldest.error()};
    usage.oldest_age_us = now_us - *oldest;
    if (usage.count >= static_cast<long long>(usage.limit.count)) {
        auto blocking = score_at(client, key, min, usage.count - usage.limit.count);
        if (!blocking) return Error{blocking.error()};
        usage.retry_us = *blocking + window_us - now_us;
    }
    return usage;
}

}  // namespace

int run_usage(const Args& args) {
    po::options_description desc("tenantmailctl usage TENANT: recipients counted in each rate window now");
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

    if (vm["json"].as<bool>()) {
        nlohmann::json classes = nlohmann::json::array();
        for (const ClassUsage& usage : usages) {
            classes.push_back({
                {"class", std::string(to_string(usage.traffic_class))},
                {"count", usage.count},
                {"limit", usage.limit.count},
                {"window_seconds", usage.limit.window.count()},
                {"oldest_age_seconds", usage.oldest_age_us < 0 ? nlohmann::json(nullptr)
                                                              : nlohmann::json(static_cast<double>(usage.oldest_age_us) / 1e6)},
                {"retry_in_seconds", usage.retry_us < 0 ? nlohmann::json(nullptr)
                                                        : nlohmann::json(retry_seconds(std::chrono::microseconds(usage.retry_us)))},
            });
        }
        const nlohmann::json out = {{"tenant", tenant->id}, {"classes", classes}};
        std::cout << out.dump(2) << '\n';
        return 0;
    }
    for (const ClassUsage& usage : usages) {
        std::printf("%s %s: %lld of %s used", tenant->id.c_str(), std::string(to_string(usage.traffic_class)).c_str(),
                    usage.count, describe(usage.limit).c_str());
        if (usage.retry_us >= 0) {
            std::printf(" (full; next slot in %llds)", retry_seconds(std::chrono::microseconds(usage.retry_us)));
        }
        if (usage.oldest_age_us >= 0) std::printf("; oldest counted %.1fs ago", static_cast<double>(usage.oldest_age_us) / 1e6);
        std::printf("\n");
    }
    return 0;
}

}  // namespace tenantmail::ctl
