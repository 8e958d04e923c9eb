// redis_link.h — one hiredis connection as the dispatcher uses it: short
// commands that wait for their reply (bounded by redis.timeout), and one
// long command at a time (XREADGROUP ... BLOCK) that is sent, then awaited
// through fd() in the same poll as the HTTP transfers, so neither blocks
// the other. Replies come back as RespValue. Any I/O error leaves the link
// unusable; the owner drops it and connects anew.
#pragma once

#include <hiredis/hiredis.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/result.h"
#include "webhookd/stream_reply.h"

namespace tenantmail::webhookd {

class RedisLink {
public:
    static Result<RedisLink> connect(const RedisSettings& settings, const std::string& password);

    // Sends and waits. Error means the connection failed (it is unusable
    // now); an error reply (-ERR ...) is a RespValue of type error.
    Result<RespValue> command(const std::vector<std::string>& args);

    // Sends without waiting; then poll fd() for reading and call receive().
    Result<void> send(const std::vector<std::string>& args);
    int fd() const { return context_->fd; }
    // Reads what has arrived: the reply once complete (an error reply is a
    // RespValue of type error), nullopt while incomplete.
    Result<std::optional<RespValue>> receive();

    const std::string& where() const { return where_; }

private:
    struct ContextDeleter {
        void operator()(redisContext* context) const { redisFree(context); }
    };
    explicit RedisLink(redisContext* context) : context_(context) {}
    Error io_error() const;

    std::unique_ptr<redisContext, ContextDeleter> context_;
    std::string where_;
};

}  // namespace tenantmail::webhookd
