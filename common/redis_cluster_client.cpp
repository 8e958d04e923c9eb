// redis_cluster_client.cpp — see redis_cluster_client.h.
#include "common/redis_cluster_client.h"

#include <algorithm>
#include <thread>

#include "common/redis_sentinel.h"

namespace tenantmail {
namespace {

RedisSettings direct_settings(const RedisEndpoint& endpoint, const RedisSettings& settings) {
    RedisSettings direct;
    direct.host = endpoint.host;
    direct.port = endpoint.port;
    direct.timeout = settings.timeout;
    return direct;
}

std::string_view error_text(const redisReply* reply) {
    if (reply == nullptr || reply->type != REDIS_REPLY_ERROR) return {};
    return std::string_view(reply->str, reply->len);
}

bool is_command(const std::vector<std::string>& args, std::string_view name) {
    if (args.empty() || args[0].size() != name.size()) return false;
    return std::equal(name.begin(), name.end(), args[0].begin(),
                      [](char a, char b) { return a == (b >= 'a' && b <= 'z' ? static_cast<char>(b - 32) : b); });
}

// Between tries after TRYAGAIN, CLUSTERDOWN or an ASK inside MULTI: 10, 20,
// 40, 80 ms; about as long as a slot's migration step takes.
void back_off(int attempt) { std::this_thread::sleep_for(std::chrono::milliseconds(10 << std::min(attempt, 3))); }

}  // namespace

Result<SlotMap> read_slot_map(const std::vector<RedisEndpoint>& nodes, const RedisSettings& settings,
                              const std::string& password) {
    std::string failures;
    for (const RedisEndpoint& endpoint : nodes) {
        auto map = [&]() -> Result<SlotMap> {
            auto client = RedisClient::connect(direct_settings(endpoint, settings), password);
            if (!client) return Error{client.error()};
            auto reply = client->call({"CLUSTER", "SLOTS"});
            if (!reply) return Error{reply.error()};
            auto parsed = parse_cluster_slots(*reply, endpoint.host);
            if (parsed && parsed->masters.empty()) return make_error("serves no slot (the cluster is not set up)");
            return parsed;
        }();
        if (map) return map;
        if (!failures.empty()) failures += "; ";
        failures += describe_endpoint(endpoint) + ": " + map.error();
    }
    return make_error("no Redis Cluster node gave the slot map (" + failures + ")");
}

Result<std::unique_ptr<RedisClusterClient>> RedisClusterClient::connect(const RedisSettings& settings,
                                                                        const std::string& password) {
    auto map = read_slot_map(settings.cluster_nodes, settings, password);
    if (!map) return Error{map.error()};
    return std::unique_ptr<RedisClusterClient>(new RedisClusterClient(settings, password, std::move(*map)));
}

RedisClusterClient::RedisClusterClient(RedisSettings settings, std::string password, SlotMap map)
    : settings_(std::move(settings)), password_(std::move(password)), map_(std::move(map)),
      where_(describe_redis(settings_)) {}

Result<RedisClient*> RedisClusterClient::node(const RedisEndpoint& endpoint) {
    const std::string name = describe_endpoint(endpoint);
    if (auto found = nodes_.find(name); found != nodes_.end()) return &found->second;
    auto client = RedisClient::connect(direct_settings(endpoint, settings_), password_);
    if (!client) return Error{client.error()};
    return &nodes_.emplace(name, std::move(*client)).first->second;
}

Result<RedisClient*> RedisClusterClient::node_for(std::optional<std::uint16_t> slot) {
    std::uint16_t index = slot ? map_.owner[*slot] : SlotMap::kNoOwner;
    if (index == SlotMap::kNoOwner) {
        // A key-less command goes to any master (the first of the map); a
        // slot no master serves is the cluster's to refuse (CLUSTERDOWN).
        if (map_.masters.empty()) return make_error("Redis Cluster via " + where_ + " has no master");
        index = 0;
    }
    return node(map_.masters[index]);
}

void RedisClusterClient::note_moved(const ClusterRedirect& redirect) {
    map_.owner[redirect.slot] = map_.index_of(redirect.node);
    // One slot moved usually means a resharding or a failover moved many:
    // read the whole map from the node that has it.
    auto client = node(redirect.node);
    if (!client) return;
    auto reply = (*client)->call({"CLUSTER", "SLOTS"});
    if (!reply) return;
    if (auto map = parse_cluster_slots(*reply, redirect.node.host); map && !map->masters.empty()) {
        map_ = std::move(*map);
    }
}

Result<std::vector<RedisReply>> RedisClusterClient::run_block(const std::vector<std::vector<std::string>>& commands,
                                                              std::size_t first, std::size_t last) {
    std::optional<std::uint16_t> slot;
    for (std::size_t i = first; i < last && !slot; ++i) slot = command_slot(commands[i]);
    std::optional<RedisEndpoint> ask_node;
    Result<std::vector<RedisReply>> replies = std::vector<RedisReply>{};
    for (int attempt = 0; attempt <= kMaxClusterRedirects; ++attempt) {
        auto client = ask_node ? node(*ask_node) : node_for(slot);
        if (!client) return Error{client.error()};
        std::vector<std::vector<std::string>> block;
        if (ask_node) block.push_back({"ASKING"});
        block.insert(block.end(), commands.begin() + static_cast<std::ptrdiff_t>(first),
                     commands.begin() + static_cast<std::ptrdiff_t>(last));
        replies = (*client)->pipeline(block);
        if (!replies) return replies;
        if (ask_node) replies->erase(replies->begin());
        ask_node.reset();
        std::optional<std::string> redirected;
        for (const RedisReply& reply : *replies) {
            const std::string_view error = error_text(reply.get());
            if (parse_cluster_redirect(error) || is_cluster_retry_error(error)) {
                redirected = std::string(error);
                break;
            }
        }
        if (!redirected) return replies;
        if (const auto redirect = parse_cluster_redirect(*redirected)) {
            if (redirect->kind == ClusterRedirect::Kind::moved) {
                note_moved(*redirect);
                continue;
            }
            // ASKING covers the next command only: a MULTI block waits for
            // the migration instead.
            if (last - first == 1) {
                ask_node = redirect->node;
                continue;
            }
        }
        back_off(attempt);
    }
    return replies;  // still redirected: the caller sees the last error replies
}

Result<RedisReply> RedisClusterClient::command(int argc, const char** argv, const std::size_t* lengths) {
    std::vector<std::vector<std::string>> one(1);
    one[0].reserve(static_cast<std::size_t>(argc));
    for (int i = 0; i < argc; ++i) one[0].emplace_back(argv[i], lengths[i]);
    auto replies = run_block(one, 0, 1);
    if (!replies) return Error{replies.error()};
    return std::move(replies->front());
}

Result<std::vector<RedisReply>> RedisClusterClient::pipeline(const std::vector<std::vector<std::string>>& commands) {
    // Blocks: a MULTI ... EXEC run, or one command.
    struct Block {
        std::size_t first, last;
        RedisClient* client;
    };
    std::vector<Block> blocks;
    for (std::size_t i = 0; i < commands.size();) {
        std::size_t last = i + 1;
        if (is_command(commands[i], "MULTI")) {
            while (last < commands.size() && !is_command(commands[last - 1], "EXEC") &&
                   !is_command(commands[last - 1], "DISCARD")) {
                ++last;
            }
        }
        std::optional<std::uint16_t> slot;
        for (std::size_t k = i; k < last && !slot; ++k) slot = command_slot(commands[k]);
        auto client = node_for(slot);
        if (!client) return Error{client.error()};
        blocks.push_back({i, last, *client});
        i = last;
    }
    // One round trip per master, the blocks of each in their order.
    std::vector<RedisReply> replies(commands.size());
    std::vector<RedisClient*> clients;
    for (const Block& block : blocks) {
        if (std::find(clients.begin(), clients.end(), block.client) == clients.end()) clients.push_back(block.client);
    }
    for (RedisClient* client : clients) {
        std::vector<std::vector<std::string>> part;
        std::vector<std::size_t> positions;
        for (const Block& block : blocks) {
            if (block.client != client) continue;
            for (std::size_t k = block.first; k < block.last; ++k) {
                part.push_back(commands[k]);
                positions.push_back(k);
            }
        }
        auto got = client->pipeline(part);
        if (!got) return Error{got.error()};
        for (std::size_t k = 0; k < positions.size(); ++k) replies[positions[k]] = std::move((*got)[k]);
    }
    // Blocks redirected (a resharding or failover under way) run again alone.
    for (const Block& block : blocks) {
        const bool redirected = std::any_of(replies.begin() + static_cast<std::ptrdiff_t>(block.first),
                                            replies.begin() + static_cast<std::ptrdiff_t>(block.last),
                                            [](const RedisReply& reply) {
                                                const std::string_view error = error_text(reply.get());
                                                return parse_cluster_redirect(error) || is_cluster_retry_error(error);
                                            });
        if (!redirected) continue;
        auto again = run_block(commands, block.first, block.last);
        if (!again) return Error{again.error()};
        for (std::size_t k = block.first; k < block.last; ++k) replies[k] = std::move((*again)[k - block.first]);
    }
    return replies;
}

Result<void> RedisClusterClient::send(const std::vector<std::string>& args) {
    auto client = node_for(command_slot(args));
    if (!client) return Error{client.error()};
    receiving_ = *client;
    return receiving_->send(args);
}

Result<std::optional<RespValue>> RedisClusterClient::receive() {
    if (receiving_ == nullptr) return make_error("Redis Cluster via " + where_ + ": nothing was sent");
    auto got = receiving_->receive();
    // A redirection here (the slot moved while the command waited) is an
    // error like a lost connection: the owner connects again and so reads
    // the map again.
    if (got && *got && (*got)->type == RespValue::Type::error &&
        (parse_cluster_redirect((*got)->text) || is_cluster_retry_error((*got)->text))) {
        return make_error("Redis Cluster via " + where_ + ": " + (*got)->text);
    }
    return got;
}

int RedisClusterClient::fd() const { return receiving_ == nullptr ? -1 : receiving_->fd(); }

}  // namespace tenantmail
