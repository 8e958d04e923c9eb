// redis_cluster.h — Redis Cluster's routing rules, pure: the hash slot of a
// key and of a command, the slot map read from CLUSTER SLOTS, and the
// MOVED/ASK redirections. The clients of redis.h do the I/O:
//   1. at connect, CLUSTER SLOTS from the first of [redis] cluster_nodes that
//      answers gives the master of each of the 16384 slots;
//   2. each command goes to the master of its routing key's slot (a key-less
//      command to any master); a pipeline is split per master, a MULTI/EXEC
//      block kept whole on the master of its first key;
//   3. MOVED updates the map (and the map is read again), ASK sends ASKING
//      and the command once to the named node, TRYAGAIN and CLUSTERDOWN are
//      retried after a short backoff; at most kMaxClusterRedirects per command.
// Every script and multi-key command of tenantmail touches one slot: the keys
// of a tenant share its hash tag (redis_keys.h).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "common/redis_value.h"
#include "common/result.h"

namespace tenantmail {

constexpr std::size_t kClusterSlots = 16384;
constexpr int kMaxClusterRedirects = 5;

// CRC16 (XMODEM) of the key's hash tag, the text between the first { and the
// next }, when that is not empty; of the whole key otherwise; mod 16384.
std::uint16_t key_hash_slot(std::string_view key);

// The slot a command must go to: that of its routing key (the first key;
// for EVAL/EVALSHA the first of KEYS, for XREAD[GROUP] the first stream,
// for XGROUP/XINFO/OBJECT/MEMORY the key after the subcommand, for SCAN the
// hash tag of its MATCH pattern), nullopt for a command without one (PING,
// SCRIPT LOAD, MULTI, EXEC, TIME, ...).
std::optional<std::uint16_t> command_slot(int argc, const char* const* argv, const std::size_t* lengths);
std::optional<std::uint16_t> command_slot(const std::vector<std::string>& args);

// Which master serves each slot.
struct SlotMap {
    static constexpr std::uint16_t kNoOwner = 0xffff;
    std::vector<RedisEndpoint> masters;  // distinct; indexes into it below
    std::array<std::uint16_t, kClusterSlots> owner;
    SlotMap() { owner.fill(kNoOwner); }
    // The master's index in masters, added when new.
    std::uint16_t index_of(const RedisEndpoint& master);
    bool covers_all() const;
};

// The reply to CLUSTER SLOTS: [[start, end, [host, port, id...], replicas...], ...].
// An empty host means the node that was asked (asked_host).
Result<SlotMap> parse_cluster_slots(const RespValue& reply, std::string_view asked_host);

// "MOVED 3999 127.0.0.1:6381" and "ASK 3999 127.0.0.1:6381".
struct ClusterRedirect {
    enum class Kind { moved, ask } kind = Kind::moved;
    std::uint16_t slot = 0;
    RedisEndpoint node;
};
std::optional<ClusterRedirect> parse_cluster_redirect(std::string_view error);

// TRYAGAIN (a multi-key command during a slot's migration) and CLUSTERDOWN:
// worth asking again after a short wait.
bool is_cluster_retry_error(std::string_view error);

}  // namespace tenantmail
