// dispatcher.cpp — see dispatcher.h. The loop itself, the Redis
// connections, the blocking read, signals, reload and shutdown; one
// tenant's moves are in dispatcher_tenant.cpp.
#include "webhookd/dispatcher.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>

#include "common/duration.h"
#include "common/log.h"

namespace tenantmail::webhookd {
namespace {

using std::chrono::milliseconds;
using namespace std::chrono_literals;

constexpr milliseconds kMaxSleep = 1s;
constexpr milliseconds kFirstReconnect = 100ms;
constexpr milliseconds kMaxReconnect = 5s;

}  // namespace

Dispatcher::Dispatcher(WebhookSettings settings, std::string redis_password, std::string consumer,
                       std::vector<WebhookTenant> tenants, std::unique_ptr<HttpPoster> poster, int signal_fd)
    : settings_(std::move(settings)),
      schedule_{settings_.retry_initial, settings_.retry_max, settings_.retry_for},
      password_(std::move(redis_password)),
      me_(std::move(consumer)),
      poster_(std::move(poster)),
      signal_fd_(signal_fd),
      outage_(kFirstReconnect, kMaxReconnect) {
    for (WebhookTenant& tenant : tenants) {
        auto state = std::make_unique<TenantState>();
        state->id = tenant.id;
        state->url = std::move(tenant.url);
        state->secret = std::move(tenant.secret);
        state->key = events_stream_key(state->id);
        tenants_.emplace(tenant.id, std::move(state));
    }
}

Dispatcher::~Dispatcher() = default;

// ---------------------------------------------------------------------------
// Redis plumbing

void Dispatcher::connect() {
    auto control = RedisClient::connect(settings_.common.redis, password_);
    if (!control) return redis_failed(control.error());
    if (cluster_mode()) {
        // No blocking reader: poll_streams() reads through control_.
        control_.emplace(std::move(*control));
        return note_connected();
    }
    auto reader = RedisClient::connect(settings_.common.redis, password_);
    if (!reader) return redis_failed(reader.error());
    auto id = reader->call({"CLIENT", "ID"});
    if (!id) return redis_failed(id.error());
    if (id->type != RespValue::Type::integer) return redis_failed("CLIENT ID: " + id->text);
    control_.emplace(std::move(*control));
    reader_.emplace(std::move(*reader));
    reader_id_ = id->integer;
    note_connected();
}

void Dispatcher::note_connected() {
    const auto now = Clock::now();
    redis_up_ = true;
    if (const auto ended = outage_.on_success(now)) {
        const double seconds = std::chrono::duration<double>(ended->duration).count();
        LOG_WARNING("Redis at %s is reachable again after %.1fs", control_->where().c_str(), seconds);
    }
    LOG_INFO("connected to Redis at %s as consumer %s of group %s", control_->where().c_str(), me_.c_str(),
             settings_.group.c_str());
}

// Once per outage at error level, then at debug level per attempt: a Redis
// that stays down for an hour must not flood the log.
void Dispatcher::redis_failed(const std::string& reason) {
    const auto now = Clock::now();
    const std::string where = "Redis at " + describe_redis(settings_.common.redis);
    const std::string text = reason.find(where) == std::string::npos ? where + ": " + reason : reason;
    const Outage::Failure failure = outage_.on_failure(now);
    if (failure.log_now) {
        LOG_ERROR("%s; events wait in Redis until it is back", text.c_str());
    } else {
        LOG_DEBUG("still no Redis: %s", text.c_str());
    }
    redis_up_ = false;
    control_.reset();
    reader_.reset();
    read_outstanding_ = false;
    unblock_sent_ = false;
    for (auto& [id, t] : tenants_) {
        t->group_ready = false;
        t->in_read = false;
        // A reply lost with the connection may have handed us entries.
        t->check_history = true;
    }
    reconnect_at_ = now + failure.delay;
}

std::optional<RespValue> Dispatcher::control(const std::vector<std::string>& args) {
    if (!redis_up_) return std::nullopt;
    auto reply = control_->call(args);
    if (!reply) {
        redis_failed(reply.error());
        return std::nullopt;
    }
    return std::move(*reply);
}

// ---------------------------------------------------------------------------
// The blocking read

bool Dispatcher::eligible_for_read(const TenantState& t, Clock::time_point now) const {
    return t.phase == Phase::idle && !t.removed && !t.broken && t.group_ready && !t.check_history && !t.fetch_now &&
           t.unacked.empty() && t.claim_at > now;
}

void Dispatcher::ensure_read(Clock::time_point now) {
    if (cluster_mode()) return poll_streams(now);
    if (read_outstanding_) {
        // A tenant became ready to read that the blocked read does not
        // cover: cut the read short rather than let its events wait.
        const bool stale = std::any_of(tenants_.begin(), tenants_.end(), [&](const auto& entry) {
            return !entry.second->in_read && eligible_for_read(*entry.second, now);
        });
        if ((stale || stopping_) && !unblock_sent_) {
            if (!control({"CLIENT", "UNBLOCK", std::to_string(reader_id_)})) return;
            unblock_sent_ = true;
        }
        return;
    }
    if (stopping_) return;
    std::vector<TenantState*> readers;
    for (auto& [id, t] : tenants_) {
        if (eligible_for_read(*t, now)) readers.push_back(t.get());
    }
    if (readers.empty()) return;
    std::vector<std::string> args{"XREADGROUP", "GROUP", settings_.group, me_, "COUNT",
                                  std::to_string(settings_.max_batch), "BLOCK", std::to_string(settings_.block.count()), "STREAMS"};
    for (const TenantState* t : readers) args.push_back(t->key);
    args.insert(args.end(), readers.size(), ">");
    if (auto sent = reader_->send(args); !sent) {
        redis_failed(sent.error());
        return;
    }
    for (TenantState* t : readers) t->in_read = true;
    read_outstanding_ = true;
    unblock_sent_ = false;
    read_deadline_ = now + settings_.block + settings_.common.redis.timeout + 1s;
}

void Dispatcher::on_reader_ready() {
    auto got = reader_->receive();
    if (!got) {
        redis_failed(got.error());
        return;
    }
    if (!*got) return;  // more of the reply to come
    const RespValue reply = std::move(**got);
    read_outstanding_ = false;
    unblock_sent_ = false;
    std::vector<TenantState*> were_in_read;
    for (auto& [id, t] : tenants_) {
        if (t->in_read) were_in_read.push_back(t.get());
        t->in_read = false;
    }
    if (reply.type == RespValue::Type::error) {
        if (reply.text.rfind("NOGROUP", 0) == 0) {
            LOG_WARNING("XREADGROUP: %s; creating the consumer groups again", reply.text.c_str());
            for (TenantState* t : were_in_read) t->group_ready = false;
            return;
        }
        redis_failed("XREADGROUP: " + reply.text);
        return;
    }
    auto reads = parse_read_reply(reply);
    if (!reads) {
        redis_failed(reads.error());
        return;
    }
    const auto now = Clock::now();
    for (const StreamRead& read : *reads) {
        TenantState* t = tenant_by_key(read.key);
        if (t == nullptr) continue;  // cannot happen: we named the streams
        if (t->removed || stopping_ || t->phase != Phase::idle) {
            std::vector<std::string> ids;
            for (const StreamEntry& entry : read.entries) ids.push_back(entry.id);
            release(*t, ids, 0ms);
            continue;
        }
        deliver(*t, read.entries, now);
        if (!redis_up_) return;
    }
}

// Cluster mode: each tenant's stream is in its own slot, and one XREADGROUP
// may only name streams of one slot. So the idle tenants' streams are read
// without BLOCK, all in one pipeline (a round trip per master), every
// cluster_poll_interval, and at once again after a read that found events.
void Dispatcher::poll_streams(Clock::time_point now) {
    if (stopping_ || now < next_poll_at_) return;
    std::vector<TenantState*> readers;
    for (auto& [id, t] : tenants_) {
        if (eligible_for_read(*t, now)) readers.push_back(t.get());
    }
    next_poll_at_ = now + settings_.cluster_poll_interval;
    if (readers.empty()) return;
    std::vector<std::vector<std::string>> reads;
    reads.reserve(readers.size());
    for (const TenantState* t : readers) {
        reads.push_back({"XREADGROUP", "GROUP", settings_.group, me_, "COUNT", std::to_string(settings_.max_batch),
                         "STREAMS", t->key, ">"});
    }
    auto replies = control_->pipeline(reads);
    if (!replies) return redis_failed(replies.error());
    for (std::size_t i = 0; i < readers.size() && redis_up_; ++i) {
        TenantState& t = *readers[i];
        const RespValue reply = resp_value((*replies)[i].get());
        if (reply.type == RespValue::Type::error) {
            LOG_WARNING("tenant %s: XREADGROUP on %s: %s", t.id.c_str(), t.key.c_str(), reply.text.c_str());
            t.group_ready = false;
            continue;
        }
        auto read = parse_read_reply(reply);
        if (!read) return redis_failed(read.error());
        for (const StreamRead& stream : *read) {
            if (stream.entries.empty()) continue;
            next_poll_at_ = now;
            deliver(t, stream.entries, now);
        }
    }
}

Dispatcher::TenantState* Dispatcher::tenant_by_key(const std::string& key) {
    for (auto& [id, t] : tenants_) {
        if (t->key == key) return t.get();
    }
    return nullptr;
}

// ---------------------------------------------------------------------------
// Signals, reload, shutdown

void Dispatcher::handle_signals() {
    signalfd_siginfo info{};
    while (::read(signal_fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
        const int signal_number = static_cast<int>(info.ssi_signo);
        if (signal_number == SIGHUP) {
            reload();
            continue;
        }
        if (!stopping_) {
            stopping_ = true;
            if (poster_->running() == 0) {
                LOG_INFO("stopping on signal %d", signal_number);
            } else {
                LOG_INFO("stopping on signal %d: finishing %zu POSTs in flight (signal again to abandon them)",
                         signal_number, poster_->running());
            }
            continue;
        }
        const auto now = Clock::now();
        for (const std::uint64_t token : poster_->abandon_all()) {
            const auto it = posts_.find(token);
            if (it == posts_.end()) continue;
            TenantState& t = *tenants_.at(it->second);
            posts_.erase(it);
            LOG_INFO("tenant %s: POST of %zu events abandoned; they will be delivered again", t.id.c_str(),
                     t.batch->events.size());
            t.phase = Phase::waiting;
            t.retry_at = now;
        }
    }
}

void Dispatcher::reload() {
    auto loaded = load_webhook_tenants(settings_.common.tenants_file);
    if (!loaded) {
        LOG_ERROR("reload refused, still serving the previous tenants: %s", loaded.error().c_str());
        return;
    }
    for (auto& [id, t] : tenants_) t->removed = true;
    for (WebhookTenant& tenant : *loaded) {
        auto& slot = tenants_[tenant.id];
        if (!slot) {
            slot = std::make_unique<TenantState>();
            slot->id = tenant.id;
            slot->key = events_stream_key(tenant.id);
        }
        slot->removed = false;
        if (slot->broken) {
            slot->broken = false;
            slot->group_ready = false;
        }
        slot->url = std::move(tenant.url);
        slot->secret = std::move(tenant.secret);
    }
    LOG_INFO("reloaded: %zu tenants with a webhook", loaded->size());
}

void Dispatcher::finish() {
    const auto now = Clock::now();
    if (redis_up_) {
        for (auto& [id, t] : tenants_) {
            if (!redis_up_) break;
            if (!t->unacked.empty() && ack(*t, t->unacked)) t->unacked.clear();
            if (t->batch) {
                const auto remaining = t->phase == Phase::waiting && t->retry_at > now
                                           ? std::chrono::duration_cast<milliseconds>(t->retry_at - now)
                                           : 0ms;
                release(*t, t->batch->ids, remaining);
                continue;
            }
            // Leave no consumer behind that holds nothing: restarts would
            // otherwise add one per run to the group.
            auto pending = control({"XPENDING", t->key, settings_.group, "-", "+", "1", me_});
            if (pending && pending->is_array() && pending->elements.empty()) {
                control({"XGROUP", "DELCONSUMER", t->key, settings_.group, me_});
            }
        }
    }
}

std::chrono::milliseconds Dispatcher::next_wakeup(Clock::time_point now) const {
    Clock::time_point due = now + kMaxSleep;
    if (!redis_up_) {
        due = std::min(due, reconnect_at_);
    } else {
        for (const auto& [id, t] : tenants_) {
            if (t->broken) continue;
            if (!t->group_ready || !t->unacked.empty()) {
                due = now;
                break;
            }
            if (t->in_read || t->phase == Phase::posting || stopping_) continue;
            if (t->removed) {
                if (t->phase == Phase::waiting) due = now;
                continue;
            }
            if (t->phase == Phase::waiting) {
                due = std::min({due, t->retry_at, t->touch_at});
            } else if (t->check_history || t->fetch_now) {
                due = now;
            } else {
                due = std::min(due, t->claim_at);
            }
        }
    }
    if (read_outstanding_) due = std::min(due, read_deadline_);
    if (cluster_mode() && redis_up_) due = std::min(due, next_poll_at_);
    if (stopping_) due = std::min(due, now + 100ms);
    return std::max(0ms, std::chrono::duration_cast<milliseconds>(due - now));
}

void Dispatcher::run() {
    reconnect_at_ = Clock::now();
    for (;;) {
        auto now = Clock::now();
        if (!redis_up_ && now >= reconnect_at_) connect();
        if (stopping_ && poster_->running() == 0 && !read_outstanding_) break;
        if (redis_up_) {
            for (auto& [id, t] : tenants_) {
                if (!redis_up_) break;
                step(*t, now);
            }
            std::erase_if(tenants_, [](const auto& entry) {
                const TenantState& t = *entry.second;
                return t.removed && t.phase == Phase::idle && !t.in_read && t.unacked.empty();
            });
            if (redis_up_) ensure_read(Clock::now());
        }
        update_backlog_metrics();
        std::vector<curl_waitfd> fds{{signal_fd_, CURL_WAIT_POLLIN, 0}};
        if (read_outstanding_) fds.push_back({reader_->fd(), CURL_WAIT_POLLIN, 0});
        poster_->wait(fds, next_wakeup(Clock::now()));
        if (fds[0].revents != 0) handle_signals();
        if (read_outstanding_ && fds.size() > 1 && fds[1].revents != 0) on_reader_ready();
        for (const PostOutcome& outcome : poster_->finished()) on_post_done(outcome);
        if (read_outstanding_ && Clock::now() > read_deadline_) {
            redis_failed("no answer to XREADGROUP within " +
                         format_duration(settings_.block + settings_.common.redis.timeout));
        }
    }
    finish();
}

}  // namespace tenantmail::webhookd