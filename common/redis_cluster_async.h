// redis_cluster_async.h — AsyncRedis's Cluster mode, inside: for redis.cpp
// and redis_cluster_async.cpp only. The parent AsyncRedis routes; each
// master has a child AsyncRedis in direct mode, which does the connection,
// pipelining, deadlines, reconnection and outage logging as for one server.
// Every command sent carries a ClusterCommand: the copy of its arguments a
// redirection needs to send it again.
#pragma once

#include <array>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/redis.h"

namespace tenantmail {

struct AsyncRedis::ClusterCommand final : RedisReplyHandler {
    ClusterCommand(AsyncRedis& owner_, RedisReplyHandler& handler_, int argc, const char** argv,
                   const std::size_t* lengths, Clock::time_point deadline_, std::optional<std::uint16_t> slot_);
    void on_redis_reply(const redisReply* reply) override { owner->on_cluster_reply(*this, reply); }

    AsyncRedis* owner;
    RedisReplyHandler* handler;
    std::vector<std::string> args;
    RedisArgv argv;  // points into args
    Clock::time_point deadline;
    std::optional<std::uint16_t> slot;
    int redirects = 0;
};

struct AsyncRedis::Cluster {
    explicit Cluster(boost::asio::io_context& io) : reread_timer(io) {}

    struct IgnoreReply final : RedisReplyHandler {
        void on_redis_reply(const redisReply*) override {}
    };

    std::map<std::string, std::unique_ptr<AsyncRedis>> nodes;  // by describe_endpoint()
    std::array<AsyncRedis*, kClusterSlots> owner{};            // nullptr: no master known
    AsyncRedis* any = nullptr;                                 // for key-less commands
    std::vector<RedisEndpoint> known;                          // the map's masters, then cluster_nodes
    bool mapped = false;                                       // a map was read once
    std::thread reader;
    bool reading = false;  // reader runs
    bool reread_wanted = false;
    Clock::time_point read_at{};
    boost::asio::steady_timer reread_timer;
    bool reread_armed = false;
    IgnoreReply ignore;  // ASKING's reply
    // Redirections since the map was last read, for its log line.
    std::uint64_t moved = 0, asked = 0, retried = 0;
    std::vector<std::unique_ptr<AsyncRedis>> retired;  // stopped, out of the map
};

}  // namespace tenantmail
