// redis_call.cpp — see redis_call.h.
#include "trackd/redis_call.h"

#include <memory>

namespace tenantmail::trackd {
namespace {

// Owns itself from the moment AsyncRedis accepted the command until its
// reply (or failure) arrives, which AsyncRedis guarantees exactly once.
class Call final : public RedisReplyHandler {
public:
    explicit Call(RedisDone done) : done_(std::move(done)) {}
    void on_redis_reply(const redisReply* reply) override {
        const std::unique_ptr<Call> self(this);
        done_(reply);
    }

private:
    RedisDone done_;
};

}  // namespace

bool send_redis_command(AsyncRedis& redis, const std::vector<std::string>& args, RedisDone done) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    argv.reserve(args.size());
    lengths.reserve(args.size());
    for (const std::string& arg : args) {
        argv.push_back(arg.data());
        lengths.push_back(arg.size());
    }
    auto call = std::make_unique<Call>(std::move(done));
    // AsyncRedis copies the arguments at once.
    if (!redis.command(static_cast<int>(argv.size()), argv.data(), lengths.data(), *call)) return false;
    call.release();  // deleted in on_redis_reply
    return true;
}

}  // namespace tenantmail::trackd
