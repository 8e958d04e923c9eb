// redis_cluster_async.cpp — AsyncRedis in Cluster mode (redis_cluster.h has
// the rules, redis_cluster_async.h the parts). The io thread never waits:
// the slot map is read on a thread of its own, and until the first map is
// known commands are refused as while Redis is down. A command that meets
// MOVED or ASK is sent again, from its ClusterCommand, by the io thread that
// got the redirection; one meeting TRYAGAIN or CLUSTERDOWN after a short
// timer, within its deadline.
#include <boost/asio/post.hpp>

#include "common/log.h"
#include "common/redis_cluster_async.h"
#include "common/redis_cluster_client.h"
#include "common/redis_sentinel.h"

namespace tenantmail {

namespace asio = boost::asio;

namespace {

// The map is read again at most this often however many redirections and
// failures ask for it (a resharding sends MOVED for every slot it moves).
constexpr std::chrono::milliseconds kMapRereadInterval{200};
constexpr std::chrono::milliseconds kClusterRetryDelay{20};

std::string_view error_of(const redisReply* reply) {
    if (reply == nullptr || reply->type != REDIS_REPLY_ERROR) return {};
    return std::string_view(reply->str, reply->len);
}

}  // namespace

AsyncRedis::ClusterCommand::ClusterCommand(AsyncRedis& owner_, RedisReplyHandler& handler_, int argc,
                                           const char** argv_, const std::size_t* lengths,
                                           Clock::time_point deadline_, std::optional<std::uint16_t> slot_)
    : owner(&owner_),
      handler(&handler_),
      args([&] {
          std::vector<std::string> copy;
          copy.reserve(static_cast<std::size_t>(argc));
          for (int i = 0; i < argc; ++i) copy.emplace_back(argv_[i], lengths[i]);
          return copy;
      }()),
      argv(args),
      deadline(deadline_),
      slot(slot_) {}

bool AsyncRedis::cluster_command(int argc, const char** argv, const std::size_t* lengths,
                                 RedisReplyHandler& handler, Clock::time_point deadline) {
    Cluster& cluster = *cluster_;
    const std::optional<std::uint16_t> slot = command_slot(argc, argv, lengths);
    AsyncRedis* node = slot ? cluster.owner[*slot] : cluster.any;
    if (state_ != State::up || node == nullptr) {
        ++stats_.refused;
        return false;
    }
    auto* command = new ClusterCommand(*this, handler, argc, argv, lengths, deadline, slot);
    if (!send_to(*node, *command)) {
        delete command;
        ++stats_.refused;
        read_cluster_map();  // that master is down: a failover may have replaced it
        return false;
    }
    ++stats_.sent;
    return true;
}

bool AsyncRedis::send_to(AsyncRedis& node, ClusterCommand& command) {
    return node.command(command.argv.count(), command.argv.pointers.data(), command.argv.lengths.data(), command,
                        command.deadline);
}

void AsyncRedis::on_cluster_reply(ClusterCommand& command, const redisReply* reply) {
    std::unique_ptr<ClusterCommand> owned(&command);
    const std::string_view error = error_of(reply);
    const bool stopping = state_ == State::stopped;
    if (reply == nullptr) {
        ++stats_.failed;
        if (!stopping) read_cluster_map();
        command.handler->on_redis_reply(nullptr);
        return;
    }
    const auto redirect = parse_cluster_redirect(error);
    const bool retry = is_cluster_retry_error(error);
    if (stopping || (!redirect && !retry) || command.redirects >= kMaxClusterRedirects) {
        command.handler->on_redis_reply(reply);
        return;
    }
    ++command.redirects;
    if (redirect) {
        AsyncRedis& node = cluster_node(redirect->node);
        if (redirect->kind == ClusterRedirect::Kind::moved) {
            ++cluster_->moved;
            cluster_->owner[redirect->slot] = &node;
            read_cluster_map();
        } else {
            ++cluster_->asked;
            // Pipelined on the same connection: ASKING reaches the node
            // right before the command it allows.
            const char* asking = "ASKING";
            const std::size_t length = 6;
            node.command(1, &asking, &length, cluster_->ignore, command.deadline);
        }
        if (send_to(node, command)) {
            owned.release();
            return;
        }
        ++stats_.failed;
        command.handler->on_redis_reply(nullptr);
        return;
    }
    // TRYAGAIN or CLUSTERDOWN: again shortly, if the deadline allows.
    ++cluster_->retried;
    if (Clock::now() + kClusterRetryDelay >= command.deadline) {
        command.handler->on_redis_reply(reply);
        return;
    }
    auto timer = std::make_shared<asio::steady_timer>(io_, kClusterRetryDelay);
    timer->async_wait([this, timer, command = owned.release(), alive = alive_](const boost::system::error_code&) {
        std::unique_ptr<ClusterCommand> again(command);
        if (!*alive) return;
        AsyncRedis* node = again->slot ? cluster_->owner[*again->slot] : cluster_->any;
        if (state_ == State::up && node != nullptr && send_to(*node, *again)) {
            again.release();
            return;
        }
        ++stats_.failed;
        again->handler->on_redis_reply(nullptr);
    });
}

AsyncRedis& AsyncRedis::cluster_node(const RedisEndpoint& endpoint) {
    auto& slot = cluster_->nodes[describe_endpoint(endpoint)];
    if (!slot) {
        RedisSettings direct;
        direct.host = endpoint.host;
        direct.port = endpoint.port;
        direct.timeout = settings_.timeout;
        direct.password_file = settings_.password_file;
        slot = std::make_unique<AsyncRedis>(io_, direct, password_, wording_);
        for (const auto& args : startup_commands_) slot->add_startup_command(args);
        slot->set_write_delay(write_delay_);
        slot->set_observer(observer_);
        slot->start();
    }
    return *slot;
}

void AsyncRedis::read_cluster_map() {
    Cluster& cluster = *cluster_;
    if (state_ == State::stopped) return;
    if (cluster.reading || cluster.reread_armed) {
        cluster.reread_wanted = cluster.reading;
        return;
    }
    const auto now = Clock::now();
    if (cluster.mapped && now - cluster.read_at < kMapRereadInterval) {
        cluster.reread_armed = true;
        cluster.reread_timer.expires_at(cluster.read_at + kMapRereadInterval);
        cluster.reread_timer.async_wait([this](const boost::system::error_code& ec) {
            if (ec) return;
            cluster_->reread_armed = false;
            read_cluster_map();
        });
        return;
    }
    cluster.reading = true;
    cluster.read_at = now;
    if (cluster.reader.joinable()) cluster.reader.join();  // finished: it posted its map
    // Ask the masters of the last map first (the seeds may be gone), then the seeds.
    std::vector<RedisEndpoint> ask = cluster.known;
    for (const RedisEndpoint& seed : settings_.cluster_nodes) {
        if (std::find(ask.begin(), ask.end(), seed) == ask.end()) ask.push_back(seed);
    }
    cluster.reader = std::thread([this, ask = std::move(ask), settings = settings_, password = password_,
                                  alive = alive_, &io = io_] {
        Result<SlotMap> map = read_slot_map(ask, settings, password);
        asio::post(io, [this, alive, map = std::move(map)]() mutable {
            if (*alive) on_cluster_map(std::move(map));
        });
    });
}

void AsyncRedis::on_cluster_map(Result<SlotMap> map) {
    Cluster& cluster = *cluster_;
    cluster.reading = false;
    if (state_ == State::stopped) return;
    if (!map) {
        if (!cluster.mapped) {
            // No map ever: nothing can be sent; an outage like a down server.
            const Outage::Failure failure = outage_.on_failure(Clock::now());
            if (failure.log_now) {
                ++stats_.outages;
                LOG_ERROR("Redis at %s unavailable: %s; %s", where_.c_str(), map.error().c_str(),
                          wording_.while_down.c_str());
            }
            reconnect_timer_.expires_after(failure.delay);
            reconnect_timer_.async_wait([this](const boost::system::error_code& ec) {
                if (!ec) read_cluster_map();
            });
        } else {
            LOG_DEBUG("Redis at %s: cannot read the slot map again: %s", where_.c_str(), map.error().c_str());
            cluster.reread_wanted = true;
        }
    } else {
        std::array<AsyncRedis*, kClusterSlots> owner{};
        std::size_t changed = 0;
        for (std::size_t slot = 0; slot < kClusterSlots; ++slot) {
            if (map->owner[slot] != SlotMap::kNoOwner) owner[slot] = &cluster_node(map->masters[map->owner[slot]]);
            if (owner[slot] != cluster.owner[slot]) ++changed;
        }
        if (cluster.mapped && changed > 0 && observer_ != nullptr) observer_->on_failover();
        if (cluster.mapped && (changed > 0 || cluster.moved + cluster.asked + cluster.retried > 0)) {
            // A resharding or failover, visible: bounded by the reread interval.
            LOG_INFO("Redis at %s: slot map read again, %zu slots served by another master than before; %llu MOVED, "
                     "%llu ASK, %llu TRYAGAIN or CLUSTERDOWN since the last reading",
                     where_.c_str(), changed, static_cast<unsigned long long>(cluster.moved),
                     static_cast<unsigned long long>(cluster.asked), static_cast<unsigned long long>(cluster.retried));
        }
        cluster.moved = cluster.asked = cluster.retried = 0;
        cluster.owner = owner;
        cluster.known = map->masters;
        cluster.any = &cluster_node(map->masters.front());
        // Masters gone from the map (failed over, removed) stop here; they
        // stay allocated until we are destroyed, since their timers may
        // still have completions queued.
        for (auto it = cluster.nodes.begin(); it != cluster.nodes.end();) {
            const bool in_map = std::any_of(map->masters.begin(), map->masters.end(), [&](const RedisEndpoint& m) {
                return describe_endpoint(m) == it->first;
            });
            if (in_map) {
                ++it;
                continue;
            }
            it->second->stop();
            cluster.retired.push_back(std::move(it->second));
            it = cluster.nodes.erase(it);
        }
        const bool first = !cluster.mapped;
        cluster.mapped = true;
        state_ = State::up;
        if (const auto ended = outage_.on_success(Clock::now())) {
            LOG_WARNING("Redis at %s is reachable again after %.1fs", where_.c_str(),
                        std::chrono::duration<double>(ended->duration).count());
        } else if (first) {
            LOG_INFO("connected to Redis at %s: %zu masters", where_.c_str(), map->masters.size());
        }
    }
    if (std::exchange(cluster.reread_wanted, false)) read_cluster_map();
}

}  // namespace tenantmail
