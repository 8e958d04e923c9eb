// dispatcher_tenant.cpp — one tenant's moves in the dispatcher (see
// dispatcher.h): reading and taking over entries, retries and touches,
// building a batch and POSTing it, and what a POST's outcome does. Every
// Redis command goes through control(), which turns a broken connection
// into redis_failed(); an error reply is handled where it is met.
#include <algorithm>

#include "common/dead_letter.h"
#include "common/duration.h"
#include "common/log.h"
#include "common/printable.h"
#include "webhookd/dispatcher.h"
#include "webhookd/signature.h"

namespace tenantmail::webhookd {
namespace {

using std::chrono::milliseconds;
using namespace std::chrono_literals;

// A consumer of the group with nothing pending, silent this long, belongs
// to a dispatcher that is gone (a restart gets a new hostname:pid name).
constexpr milliseconds kConsumerExpiry = 24h;
constexpr milliseconds kConsumerCleanupEvery = 1h;
constexpr std::size_t kErrorExcerpt = 200;

std::int64_t wall_ms() {
    return std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string ms_text(milliseconds duration) { return std::to_string(duration.count()); }

// "2m", "37s": a wait rounded to whole seconds for log lines.
std::string wait_text(milliseconds wait) {
    return format_duration(std::chrono::duration_cast<std::chrono::seconds>(wait + 999ms));
}

std::vector<std::string> with_ids(std::vector<std::string> args, const std::vector<std::string>& ids) {
    args.insert(args.end(), ids.begin(), ids.end());
    return args;
}

}  // namespace

// ---------------------------------------------------------------------------
// One tenant's next move

void Dispatcher::step(TenantState& t, Clock::time_point now) {
    if (t.broken) return;
    if (!t.group_ready && !ensure_group(t)) return;
    if (!t.unacked.empty()) {
        if (!ack(t, t.unacked)) return;
        t.unacked.clear();
    }
    if (t.in_read || t.phase == Phase::posting) return;
    if (t.removed) {
        if (t.phase == Phase::waiting) {
            release(t, t.batch->ids, 0ms);
            t.batch.reset();
            t.phase = Phase::idle;
        }
        return;
    }
    if (stopping_) return;
    if (t.phase == Phase::waiting) {
        if (now >= t.retry_at) {
            retry(t, now);
        } else if (now >= t.touch_at) {
            touch(t, now);
        }
        return;
    }
    if (t.check_history) {
        auto entries = read_entries(t, "0");
        if (!entries) return;
        if (!entries->empty()) return deliver(t, *entries, now);
        t.check_history = false;
    }
    if (now >= t.claim_at) {
        claim(t, now);
        if (t.phase != Phase::idle || !redis_up_) return;
    }
    if (t.fetch_now) {
        auto entries = read_entries(t, ">");
        if (!entries) return;
        t.fetch_now = false;
        if (!entries->empty()) deliver(t, *entries, now);
    }
}

bool Dispatcher::ensure_group(TenantState& t) {
    // From 0: events appended before the first dispatcher ever ran are
    // delivered too.
    auto reply = control({"XGROUP", "CREATE", t.key, settings_.group, "0", "MKSTREAM"});
    if (!reply) return false;
    if (reply->type == RespValue::Type::error && reply->text.rfind("BUSYGROUP", 0) != 0) {
        LOG_ERROR("tenant %s: cannot use %s: %s; its events are not dispatched until a reload", t.id.c_str(),
                  t.key.c_str(), reply->text.c_str());
        t.broken = true;
        return false;
    }
    t.group_ready = true;
    return true;
}

std::optional<std::vector<StreamEntry>> Dispatcher::read_entries(TenantState& t, const char* from) {
    auto reply = control({"XREADGROUP", "GROUP", settings_.group, me_, "COUNT", std::to_string(settings_.max_batch),
                          "STREAMS", t.key, from});
    if (!reply) return std::nullopt;
    if (reply->type == RespValue::Type::error) {
        // NOGROUP: the stream was deleted, and the group with it.
        LOG_WARNING("tenant %s: XREADGROUP on %s: %s", t.id.c_str(), t.key.c_str(), reply->text.c_str());
        t.group_ready = false;
        return std::nullopt;
    }
    auto reads = parse_read_reply(*reply);
    if (!reads) {
        redis_failed(reads.error());
        return std::nullopt;
    }
    std::vector<StreamEntry> entries;
    for (StreamRead& read : *reads) {
        for (StreamEntry& entry : read.entries) entries.push_back(std::move(entry));
    }
    return entries;
}

void Dispatcher::claim(TenantState& t, Clock::time_point now) {
    const milliseconds interval = std::max<milliseconds>(1s, settings_.claim_after / 2);
    auto reply = control({"XAUTOCLAIM", t.key, settings_.group, me_, ms_text(settings_.claim_after), t.claim_cursor,
                          "COUNT", std::to_string(settings_.max_batch)});
    if (!reply) return;
    if (reply->type == RespValue::Type::error) {
        LOG_WARNING("tenant %s: XAUTOCLAIM on %s: %s", t.id.c_str(), t.key.c_str(), reply->text.c_str());
        if (reply->text.rfind("NOGROUP", 0) == 0) t.group_ready = false;
        t.claim_at = now + interval;
        return;
    }
    auto claimed = parse_autoclaim_reply(*reply);
    if (!claimed) {
        redis_failed(claimed.error());
        return;
    }
    t.claim_cursor = claimed->next_cursor;
    const bool wrapped = t.claim_cursor == "0-0";
    t.claim_at = wrapped ? now + interval : now;
    if (!claimed->deleted_ids.empty()) {
        LOG_WARNING("tenant %s: %zu pending events were trimmed from %s before they were delivered", t.id.c_str(),
                    claimed->deleted_ids.size(), t.key.c_str());
    }
    if (!claimed->entries.empty()) {
        LOG_INFO("tenant %s: took over %zu events a silent dispatcher held for %s or more", t.id.c_str(),
                 claimed->entries.size(), format_duration(settings_.claim_after).c_str());
        deliver(t, claimed->entries, now);
        return;
    }
    if (wrapped && now >= t.cleanup_at) cleanup_consumers(t, now);
}

void Dispatcher::cleanup_consumers(TenantState& t, Clock::time_point now) {
    t.cleanup_at = now + kConsumerCleanupEvery;
    auto reply = control({"XINFO", "CONSUMERS", t.key, settings_.group});
    if (!reply || reply->type == RespValue::Type::error) return;
    auto consumers = parse_consumers_reply(*reply);
    if (!consumers) return;
    for (const ConsumerInfo& consumer : *consumers) {
        if (consumer.name == me_ || consumer.pending != 0 || consumer.idle_ms < kConsumerExpiry.count()) continue;
        if (!control({"XGROUP", "DELCONSUMER", t.key, settings_.group, consumer.name})) return;
        LOG_INFO("tenant %s: removed consumer %s, silent for %s with nothing pending", t.id.c_str(),
                 consumer.name.c_str(), format_duration(milliseconds(consumer.idle_ms)).c_str());
    }
}

void Dispatcher::retry(TenantState& t, Clock::time_point now) {
    // Re-reading our own pending entries counts the attempt in Redis.
    auto entries = read_entries(t, "0");
    if (!entries) return;
    const std::size_t held = t.batch->ids.size();
    t.batch.reset();
    t.phase = Phase::idle;
    if (entries->empty()) {
        LOG_INFO("tenant %s: the %zu events held for a retry were settled by another dispatcher", t.id.c_str(), held);
        t.fetch_now = true;
        return;
    }
    deliver(t, *entries, now);
}

void Dispatcher::touch(TenantState& t, Clock::time_point now) {
    // JUSTID: resets the idle time without counting a delivery.
    auto args = with_ids({"XCLAIM", t.key, settings_.group, me_, "0"}, t.batch->ids);
    args.push_back("JUSTID");
    auto reply = control(args);
    if (!reply) return;
    if (reply->type == RespValue::Type::error) {
        LOG_WARNING("tenant %s: XCLAIM on %s: %s", t.id.c_str(), t.key.c_str(), reply->text.c_str());
    }
    t.touch_at = now + settings_.claim_after / 3;
}

bool Dispatcher::ack(TenantState& t, const std::vector<std::string>& ids) {
    if (ids.empty()) return true;
    auto reply = control(with_ids({"XACK", t.key, settings_.group}, ids));
    if (!reply) return false;
    if (reply->type == RespValue::Type::error) {
        LOG_WARNING("tenant %s: XACK on %s: %s", t.id.c_str(), t.key.c_str(), reply->text.c_str());
    }
    return true;
}

// Hands entries back to the group: with their idle time set as if they had
// been left alone for claim_after minus the backoff still due, any
// dispatcher's XAUTOCLAIM takes them when their retry is due, not up to
// claim_after later.
void Dispatcher::release(TenantState& t, const std::vector<std::string>& ids, milliseconds remaining_wait) {
    if (ids.empty() || !redis_up_) return;
    const milliseconds idle = settings_.claim_after - std::min(remaining_wait, settings_.claim_after);
    auto args = with_ids({"XCLAIM", t.key, settings_.group, me_, "0"}, ids);
    args.insert(args.end(), {"IDLE", ms_text(idle), "JUSTID"});
    if (auto reply = control(args); reply && reply->type == RespValue::Type::error) {
        LOG_WARNING("tenant %s: XCLAIM on %s: %s", t.id.c_str(), t.key.c_str(), reply->text.c_str());
    }
}

// ---------------------------------------------------------------------------
// Batches and POSTs

void Dispatcher::deliver(TenantState& t, const std::vector<StreamEntry>& entries, Clock::time_point now) {
    Batch batch = build_batch(t.id, entries);
    if (!batch.rejected.empty()) {
        std::vector<std::string> ids;
        for (const RejectedEntry& rejected : batch.rejected) {
            LOG_WARNING("tenant %s: stream entry %s of %s is not delivered: %s", t.id.c_str(), rejected.id.c_str(),
                        t.key.c_str(), rejected.reason.c_str());
            ids.push_back(rejected.id);
        }
        if (!ack(t, ids)) return;  // still pending; read again after the reconnection
    }
    if (batch.empty()) {
        t.fetch_now = true;
        return;
    }
    start_post(t, std::move(batch), now);
}

void Dispatcher::start_post(TenantState& t, Batch batch, Clock::time_point now) {
    const std::int64_t timestamp = wall_ms() / 1000;
    PostRequest request;
    request.url = t.url;
    request.body = batch.document;
    request.headers = {
        "Content-Type: application/json",
        "X-Tenantmail-Timestamp: " + std::to_string(timestamp),
        "X-Tenantmail-Signature: " + webhook_signature(t.secret, timestamp, batch.document),
        "Expect:",  // no 100-continue round trip (and receivers that mishandle it)
    };
    request.timeout = settings_.http_timeout;
    request.connect_timeout = settings_.connect_timeout;
    const std::uint64_t token = next_token_++;
    t.batch = std::move(batch);
    if (auto started = poster_->start(token, std::move(request)); !started) {
        on_failure(t, started.error(), now);
        return;
    }
    t.phase = Phase::posting;
    t.token = token;
    posts_.emplace(token, t.id);
    LOG_DEBUG("tenant %s: POST of %zu events started", t.id.c_str(), t.batch->events.size());
}

void Dispatcher::on_post_done(const PostOutcome& outcome) {
    const auto it = posts_.find(outcome.token);
    if (it == posts_.end()) return;
    const auto tenant = tenants_.find(it->second);
    posts_.erase(it);
    if (tenant == tenants_.end()) return;
    TenantState& t = *tenant->second;
    const auto now = Clock::now();
    if (outcome.success()) {
        LOG_INFO("tenant %s: %zu events delivered (HTTP %ld)", t.id.c_str(), t.batch->events.size(), outcome.status);
        if (metrics_ != nullptr) metrics_->delivered(t.id, *t.batch);
        t.unacked.insert(t.unacked.end(), t.batch->ids.begin(), t.batch->ids.end());
        t.batch.reset();
        t.phase = Phase::idle;
        t.attempts = 0;
        t.fetch_now = true;
        if (redis_up_ && ack(t, t.unacked)) t.unacked.clear();
        return;
    }
    std::string error = outcome.error;
    if (error.empty()) {
        error = "HTTP " + std::to_string(outcome.status);
        if (!outcome.response_start.empty()) error += ": " + excerpt(outcome.response_start, kErrorExcerpt);
    }
    on_failure(t, error, now);
}

void Dispatcher::on_failure(TenantState& t, const std::string& error, Clock::time_point now) {
    const std::size_t count = t.batch->events.size();
    if (!redis_up_) {
        t.attempts += 1;
        wait_for_retry(t, backoff_after(t.attempts, schedule_), error + "; Redis unavailable", now);
        return;
    }
    // How often Redis has handed these entries out is the attempt count,
    // whichever dispatcher made the earlier attempts.
    auto reply = control({"XPENDING", t.key, settings_.group, t.batch->min_id, t.batch->max_id,
                          std::to_string(t.batch->ids.size()), me_});
    if (!reply) {
        t.attempts += 1;
        wait_for_retry(t, backoff_after(t.attempts, schedule_), error + "; Redis unavailable", now);
        return;
    }
    auto pending = parse_pending_reply(*reply);
    std::uint64_t attempts = 0;
    std::size_t held = 0;
    if (pending) {
        for (const PendingEntry& entry : *pending) {
            if (std::find(t.batch->ids.begin(), t.batch->ids.end(), entry.id) == t.batch->ids.end()) continue;
            ++held;
            attempts = std::max(attempts, entry.deliveries);
        }
    }
    if (pending && held == 0) {
        LOG_WARNING("tenant %s: %zu events not delivered (%s); another dispatcher has taken them over",
                    t.id.c_str(), count, error.c_str());
        t.batch.reset();
        t.phase = Phase::idle;
        t.check_history = true;
        return;
    }
    t.attempts = std::max<std::uint64_t>(attempts, t.attempts + 1);
    const RetryDecision decision = decide_after_failure(t.batch->first_ms, wall_ms(), t.attempts, schedule_);
    if (!decision.dead_letter) {
        if (metrics_ != nullptr) metrics_->failed(t.id);
        wait_for_retry(t, milliseconds(std::max<std::int64_t>(0, decision.retry_at_ms - wall_ms())), error, now);
        return;
    }
    auto moved = control(build_dead_letter_eval(*t.batch, settings_.group, excerpt(error, 500), t.attempts,
                                                wall_ms() / 1000));
    if (!moved || moved->type == RespValue::Type::error) {
        if (moved) LOG_ERROR("tenant %s: cannot move a batch to %s: %s", t.id.c_str(),
                             dead_letter_key(t.id).c_str(), moved->text.c_str());
        wait_for_retry(t, schedule_.initial, error, now);
        return;
    }
    if (metrics_ != nullptr) metrics_->dead(t.id);
    LOG_WARNING("tenant %s: %zu events not delivered (%s), attempt %llu; given up after %s, moved to %s",
                t.id.c_str(), count, error.c_str(), static_cast<unsigned long long>(t.attempts),
                format_duration(settings_.retry_for).c_str(), dead_letter_key(t.id).c_str());
    t.batch.reset();
    t.phase = Phase::idle;
    t.attempts = 0;
    t.fetch_now = true;
}

void Dispatcher::wait_for_retry(TenantState& t, milliseconds wait, const std::string& error, Clock::time_point now) {
    LOG_WARNING("tenant %s: %zu events not delivered (%s), attempt %llu; next attempt in %s", t.id.c_str(),
                t.batch->events.size(), error.c_str(), static_cast<unsigned long long>(t.attempts),
                wait_text(wait).c_str());
    t.phase = Phase::waiting;
    t.retry_at = now + wait;
    t.touch_at = now + settings_.claim_after / 3;
}

void Dispatcher::update_backlog_metrics() {
    if (metrics_ == nullptr) return;
    const std::int64_t now_ms = wall_ms();
    metrics_->begin_backlog();
    for (const auto& [id, t] : tenants_) {
        if (t->batch && t->batch->first_ms > 0) {
            metrics_->held(t->id, milliseconds(std::max<std::int64_t>(0, now_ms - t->batch->first_ms)));
        }
    }
    metrics_->end_backlog();
}

}  // namespace tenantmail::webhookd
