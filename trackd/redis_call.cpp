// redis_call.cpp — see redis_call.h.
#include "trackd/redis_call.h"

#include <memory>
#include <string_view>

#include "common/log.h"

namespace tenantmail::trackd {
namespace {

unsigned long long reloads = 0;

bool is_noscript(const redisReply* reply) {
    return reply != nullptr && reply->type == REDIS_REPLY_ERROR &&
           is_noscript_error(std::string_view(reply->str, reply->len));
}

// Owns itself from the moment AsyncRedis accepted the command (copying
// its arguments at once) until its final reply (or failure) arrives, which
// AsyncRedis guarantees exactly once per accepted command.
class Call final : public RedisReplyHandler {
public:
    Call(AsyncRedis& redis, ScriptCommand command, RedisDone done)
        : redis_(redis), command_(std::move(command)), done_(std::move(done)) {}

    bool start() { return redis_.command(command_.argv, *this); }

    void on_redis_reply(const redisReply* reply) override {
        std::unique_ptr<Call> self(this);
        if (is_noscript(reply) && command_.argv[0] != "EVAL") {
            if (reloads++ == 0) LOG_INFO("a trackd script was not in Redis's script cache; sending it again");
            command_.use_eval();
            if (redis_.command(command_.argv, *this)) {
                self.release();  // the EVAL's reply comes here again
                return;
            }
            reply = nullptr;
        }
        done_(reply);
    }

private:
    AsyncRedis& redis_;
    ScriptCommand command_;
    RedisDone done_;
};

}  // namespace

unsigned long long script_reloads() { return reloads; }

bool send_script_command(AsyncRedis& redis, ScriptCommand command, RedisDone done) {
    auto call = std::make_unique<Call>(redis, std::move(command), std::move(done));
    if (!call->start()) return false;
    call.release();  // deleted in on_redis_reply
    return true;
}

}  // namespace tenantmail::trackd
