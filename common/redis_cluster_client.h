// redis_cluster_client.h — the blocking RedisClient's Cluster mode ([redis]
// cluster_nodes): one direct RedisClient per master, connected when first
// needed, and the slot map that says which gets a command (redis_cluster.h
// has the rules). RedisClient forwards to it; nothing else uses it.
// Any I/O failure fails the call, as in the other modes: the owner drops
// the RedisClient and connects again, which reads the slot map again (so a
// failover's new master is found).
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/redis.h"
#include "common/redis_cluster.h"
#include "common/result.h"

namespace tenantmail {

// Reads the slot map from the first of nodes that answers CLUSTER SLOTS
// (each bounded by settings.timeout); the error names each node's failure.
Result<SlotMap> read_slot_map(const std::vector<RedisEndpoint>& nodes, const RedisSettings& settings,
                              const std::string& password);

class RedisClusterClient {
public:
    static Result<std::unique_ptr<RedisClusterClient>> connect(const RedisSettings& settings,
                                                               const std::string& password);

    // The reply after following redirections; error replies are replies,
    // an error is a failed connection.
    Result<RedisReply> command(int argc, const char** argv, const std::size_t* lengths);
    // Split per master, each part one round trip; replies in the commands'
    // order. A MULTI ... EXEC block goes whole to the master of its first key.
    Result<std::vector<RedisReply>> pipeline(const std::vector<std::vector<std::string>>& commands);
    // For one long command (XREADGROUP BLOCK on one slot): sent to its
    // master, whose descriptor fd() then is.
    Result<void> send(const std::vector<std::string>& args);
    Result<std::optional<RespValue>> receive();
    int fd() const;
    const std::string& where() const { return where_; }

private:
    RedisClusterClient(RedisSettings settings, std::string password, SlotMap map);
    Result<RedisClient*> node(const RedisEndpoint& endpoint);
    Result<RedisClient*> node_for(std::optional<std::uint16_t> slot);
    // After MOVED: the slot's new owner now, the whole map from it next.
    void note_moved(const ClusterRedirect& redirect);
    Result<RedisReply> send_once(RedisClient& client, int argc, const char** argv, const std::size_t* lengths,
                                 bool asking);
    // Runs commands [first, last) as one block on one master, following
    // redirections of the block as a whole.
    Result<std::vector<RedisReply>> run_block(const std::vector<std::vector<std::string>>& commands, std::size_t first,
                                              std::size_t last);

    RedisSettings settings_;
    std::string password_;
    SlotMap map_;
    std::map<std::string, RedisClient> nodes_;  // by describe_endpoint()
    RedisClient* receiving_ = nullptr;         // send()'s node
    std::string where_;
};

}  // namespace tenantmail
