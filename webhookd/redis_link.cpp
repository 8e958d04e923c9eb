// redis_link.cpp — see redis_link.h.
#include "webhookd/redis_link.h"

#include <sys/time.h>

#include "common/redis.h"

namespace tenantmail::webhookd {
namespace {

timeval to_timeval(std::chrono::milliseconds duration) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(duration.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((duration.count() % 1000) * 1000);
    return tv;
}

struct ReplyDeleter {
    void operator()(redisReply* reply) const { freeReplyObject(reply); }
};

}  // namespace

Result<RedisLink> RedisLink::connect(const RedisSettings& settings, const std::string& password) {
    const timeval tv = to_timeval(settings.timeout);
    redisContext* context = settings.socket.empty()
                                ? redisConnectWithTimeout(settings.host.c_str(), settings.port, tv)
                                : redisConnectUnixWithTimeout(settings.socket.c_str(), tv);
    const std::string where = describe_redis(settings);
    if (context == nullptr) return make_error("cannot connect to Redis at " + where + ": out of memory");
    RedisLink link(context);
    link.where_ = where;
    if (context->err) return make_error("cannot connect to Redis at " + where + ": " + context->errstr);
    if (redisSetTimeout(context, tv) != REDIS_OK) {
        return make_error("cannot set a timeout on the Redis connection to " + where);
    }
    if (!password.empty()) {
        auto auth = link.command({"AUTH", password});
        if (!auth) return Error{auth.error()};
        if (auth->type == RespValue::Type::error) return make_error("Redis at " + where + ": AUTH: " + auth->text);
    }
    return link;
}

Error RedisLink::io_error() const {
    return make_error("Redis at " + where_ + ": " + (context_->err ? std::string(context_->errstr) : "no reply"));
}

Result<RespValue> RedisLink::command(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (const std::string& arg : args) {
        argv.push_back(arg.data());
        lengths.push_back(arg.size());
    }
    std::unique_ptr<redisReply, ReplyDeleter> reply(static_cast<redisReply*>(
        redisCommandArgv(context_.get(), static_cast<int>(argv.size()), argv.data(), lengths.data())));
    if (!reply) return io_error();
    return resp_from_hiredis(reply.get());
}

Result<void> RedisLink::send(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (const std::string& arg : args) {
        argv.push_back(arg.data());
        lengths.push_back(arg.size());
    }
    if (redisAppendCommandArgv(context_.get(), static_cast<int>(argv.size()), argv.data(), lengths.data()) !=
        REDIS_OK) {
        return io_error();
    }
    int done = 0;
    while (!done) {
        if (redisBufferWrite(context_.get(), &done) != REDIS_OK) return io_error();
    }
    return {};
}

Result<std::optional<RespValue>> RedisLink::receive() {
    void* raw = nullptr;
    // A reply may already sit complete in hiredis's buffer; read the
    // socket only when not, and only once (poll said it is readable).
    if (redisGetReplyFromReader(context_.get(), &raw) != REDIS_OK) return io_error();
    if (raw == nullptr) {
        if (redisBufferRead(context_.get()) != REDIS_OK) return io_error();
        if (redisGetReplyFromReader(context_.get(), &raw) != REDIS_OK) return io_error();
    }
    if (raw == nullptr) return std::optional<RespValue>{};
    std::unique_ptr<redisReply, ReplyDeleter> reply(static_cast<redisReply*>(raw));
    return std::optional<RespValue>(resp_from_hiredis(reply.get()));
}

}  // namespace tenantmail::webhookd
