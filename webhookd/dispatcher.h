// dispatcher.h — the event loop of tenantmail-webhookd, on one thread.
//
// Per tenant with a webhook_url, events wait in tm:{T}:events and are read
// through the consumer group webhookd.group, so several dispatchers share
// the work and Redis remembers what each holds (its pending list). A tenant
// moves through three phases:
//   idle     nothing held; new entries come from one blocking XREADGROUP
//            over every idle tenant's stream (sent, then awaited in the same
//            poll as the HTTP transfers: RedisClient::send, common/redis.h;
//            in Redis Cluster mode a pipelined read of each stream every
//            cluster_poll_interval instead), or from an
//            XAUTOCLAIM of entries a silent dispatcher held past claim_after;
//   posting  one batch (at most max_batch events) is being POSTed; the other
//            tenants go on (libcurl multi, http_poster.h);
//   waiting  the POST failed; the batch stays pending in Redis and is tried
//            again (re-read from this consumer's pending list, which counts
//            the attempt) after the backoff of retry_policy.h, or moved to
//            the dead letters (common/dead_letter.h) once retry_for has passed.
//            Meanwhile the entries are touched (XCLAIM JUSTID) every
//            claim_after/3, so no other dispatcher mistakes them for
//            abandoned.
// One batch at a time per tenant keeps a dead receiver from piling up
// pending entries: its new events stay unread in the stream.
// XACK comes only after a 2xx. Whatever is pending when a dispatcher dies is
// taken over by another (or the restarted one) after claim_after: events
// are delivered at least once, duplicates carry the same event id.
// Redis down: logged once, reconnected with backoff; POSTs in flight finish
// and are acknowledged once Redis is back.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/event_batch.h"
#include "common/outage.h"
#include "common/redis.h"
#include "webhookd/http_poster.h"
#include "webhookd/retry_policy.h"
#include "webhookd/webhook_metrics.h"
#include "common/options/webhookd.h"
#include "webhookd/webhook_tenants.h"

namespace tenantmail::webhookd {

class Dispatcher {
public:
    // signal_fd: a signalfd for SIGHUP (reload), SIGTERM and SIGINT (stop
    // after the POSTs in flight; a second one abandons them).
    Dispatcher(WebhookSettings settings, std::string redis_password, std::string consumer,
               std::vector<WebhookTenant> tenants, std::unique_ptr<HttpPoster> poster, int signal_fd);
    ~Dispatcher();
    Dispatcher(const Dispatcher&) = delete;
    Dispatcher& operator=(const Dispatcher&) = delete;

    // Until stopped by a signal.
    void run();
    // Counts batches and the backlog's age (nullptr: none). Before run().
    void set_metrics(WebhookMetrics* metrics) { metrics_ = metrics; }

private:
    using Clock = std::chrono::steady_clock;
    enum class Phase { idle, posting, waiting };
    struct TenantState {
        std::string id;
        std::string url;
        std::string secret;
        std::string key;  // tm:{id}:events
        Phase phase = Phase::idle;
        bool removed = false;        // gone from tenants.conf: dropped once it holds nothing
        bool group_ready = false;    // XGROUP CREATE done since the last (re)connection
        bool broken = false;         // Redis refused the stream (wrong type): skipped until a reload
        bool check_history = true;   // this consumer may hold entries it does not know of
        bool fetch_now = false;      // look for more entries at once (after a batch settled)
        bool in_read = false;        // part of the outstanding blocking read
        Clock::time_point claim_at;  // next XAUTOCLAIM pass
        std::string claim_cursor = "0-0";
        Clock::time_point cleanup_at;  // next look for long-dead consumers
        std::optional<Batch> batch;    // posting or waiting
        std::uint64_t attempts = 0;    // of the batch, as Redis counts deliveries
        Clock::time_point retry_at;
        Clock::time_point touch_at;
        std::vector<std::string> unacked;  // delivered, XACK still to do (Redis was down)
        std::uint64_t token = 0;           // of the POST in flight
    };

    // Redis plumbing
    void connect();
    void redis_failed(const std::string& reason);
    std::optional<RespValue> control(const std::vector<std::string>& args);

    // One tenant's next move, when Redis is up.
    void step(TenantState& t, Clock::time_point now);
    bool ensure_group(TenantState& t);
    std::optional<std::vector<StreamEntry>> read_entries(TenantState& t, const char* from);
    void claim(TenantState& t, Clock::time_point now);
    void cleanup_consumers(TenantState& t, Clock::time_point now);
    void retry(TenantState& t, Clock::time_point now);
    void touch(TenantState& t, Clock::time_point now);
    bool ack(TenantState& t, const std::vector<std::string>& ids);
    void release(TenantState& t, const std::vector<std::string>& ids, std::chrono::milliseconds remaining_wait);

    // Batches and POSTs
    void deliver(TenantState& t, const std::vector<StreamEntry>& entries, Clock::time_point now);
    void start_post(TenantState& t, Batch batch, Clock::time_point now);
    void on_post_done(const PostOutcome& outcome);
    void on_failure(TenantState& t, const std::string& error, Clock::time_point now);
    void wait_for_retry(TenantState& t, std::chrono::milliseconds wait, const std::string& error,
                        Clock::time_point now);

    // The blocking read
    bool eligible_for_read(const TenantState& t, Clock::time_point now) const;
    void ensure_read(Clock::time_point now);
    void on_reader_ready();

    void handle_signals();
    void reload();
    void finish();
    std::chrono::milliseconds next_wakeup(Clock::time_point now) const;
    TenantState* tenant_by_key(const std::string& key);
    bool cluster_mode() const { return !settings_.common.redis.cluster_nodes.empty(); }
    void poll_streams(Clock::time_point now);
    void note_connected();

    WebhookSettings settings_;
    RetrySchedule schedule_;
    std::string password_;
    std::string me_;
    std::unique_ptr<HttpPoster> poster_;
    int signal_fd_;
    std::map<std::string, std::unique_ptr<TenantState>> tenants_;
    std::unordered_map<std::uint64_t, std::string> posts_;  // POST token -> tenant
    std::uint64_t next_token_ = 1;

    std::optional<RedisClient> control_;
    std::optional<RedisClient> reader_;
    long long reader_id_ = 0;
    bool redis_up_ = false;
    Outage outage_;
    Clock::time_point reconnect_at_;

    bool read_outstanding_ = false;
    bool unblock_sent_ = false;
    Clock::time_point read_deadline_;
    Clock::time_point next_poll_at_{};
    WebhookMetrics* metrics_ = nullptr;
    void update_backlog_metrics();  // Cluster mode's next poll_streams()

    bool stopping_ = false;
};

}  // namespace tenantmail::webhookd
