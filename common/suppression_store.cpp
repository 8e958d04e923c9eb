// suppression_store.cpp — see suppression_store.h.
#include "common/suppression_store.h"

namespace tenantmail {
namespace {

// KEYS[1] the suppression hash, KEYS[2] the event stream; ARGV: recipient,
// entry, then the rest of build_event_xadd's argv after its key.
constexpr const char* kSuppressWithEventScript =
    "if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end\n"
    "redis.call('XADD', KEYS[2], unpack(ARGV, 3))\n"
    "return 1\n";

Result<bool> integer_flag(const Result<RedisReply>& reply, const std::string& what) {
    if (!reply) return Error{reply.error()};
    if ((*reply)->type != REDIS_REPLY_INTEGER) return make_error("unexpected reply to " + what + " from Redis");
    return (*reply)->integer == 1;
}

}  // namespace

std::vector<std::string> build_suppression_hsetnx(std::string_view tenant, std::string_view recipient,
                                                  const SuppressionEntry& entry) {
    return {"HSETNX", suppression_key(tenant), std::string(recipient), encode_suppression(entry)};
}

Result<bool> add_suppression(RedisClient& redis, std::string_view tenant, std::string_view recipient,
                             const SuppressionEntry& entry) {
    return integer_flag(redis.command(build_suppression_hsetnx(tenant, recipient, entry)),
                        "HSETNX " + suppression_key(tenant));
}

std::vector<std::string> build_suppress_with_event(std::string_view tenant, std::string_view recipient,
                                                   const SuppressionEntry& entry, const Event& event,
                                                   std::size_t cap) {
    const std::vector<std::string> xadd = build_event_xadd(event, cap);
    std::vector<std::string> argv{"EVAL",           kSuppressWithEventScript, "2", suppression_key(tenant), xadd[1],
                                  std::string(recipient), encode_suppression(entry)};
    argv.insert(argv.end(), xadd.begin() + 2, xadd.end());
    return argv;
}

Result<bool> suppress_with_event(RedisClient& redis, std::string_view tenant, std::string_view recipient,
                                 const SuppressionEntry& entry, const Event& event, std::size_t cap) {
    return integer_flag(redis.command(build_suppress_with_event(tenant, recipient, entry, event, cap)),
                        "the suppression script on " + suppression_key(tenant));
}

}  // namespace tenantmail
