#include "tenantmailctl/ctl_redis.h"

#include <cstdlib>

#include "common/config.h"
#include "tenantmailctl/all_options.h"
#include "tenantmailctl/ctl_config.h"

namespace tenantmail::ctl {

namespace po = boost::program_options;

Result<RedisClient> connect_ctl_redis(const po::variables_map& vm) {
    auto config = load_all_options(vm["config"].as<std::string>(), vm["config"].defaulted());
    if (!config) return Error{config.error()};
    const RedisSettings redis = common_settings(config->options).redis;
    auto password = read_redis_password(redis);
    if (!password) return Error{password.error()};
    return RedisClient::connect(redis, *password);
}

Result<Tenant> find_ctl_tenant(const po::variables_map& vm, const std::string& id) {
    auto registry = load_ctl_registry(vm);
    if (!registry) return Error{registry.error()};
    const Tenant* tenant = registry->find(id);
    if (tenant == nullptr) return make_error("unknown tenant \"" + id + "\"");
    return *tenant;
}

Result<long long> redis_time_us(RedisClient& client) {
    auto reply = client.command({"TIME"});
    if (!reply) return Error{reply.error()};
    const redisReply* r = reply->get();
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING ||
        r->element[1]->type != REDIS_REPLY_STRING) {
        return make_error("unexpected reply to TIME from Redis");
    }
    return std::atoll(r->element[0]->str) * 1'000'000LL + std::atoll(r->element[1]->str);
}

}  // namespace tenantmail::ctl
