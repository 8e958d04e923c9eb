// record_writer.h — stores message records (common/message_store.h) in Redis
// off the mail path. submit() never waits for Redis: it appends to a
// bounded queue and returns. One thread drains the queue with its own
// blocking RedisClient, pipelining every record waiting into one round trip.
// Redis down or slow: records wait in the queue (so a Redis restart loses
// nothing) and are retried with backoff; once the queue is full new records
// are dropped. Mail is never delayed or refused because of this.
// Logs one line when an outage (or a full queue) starts and one, with the
// number of records dropped, when records are stored again.
#pragma once

#include <prometheus/gauge.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/config.h"
#include "common/message_store.h"
#include "common/outage.h"
#include "common/redis.h"

namespace tenantmail::milter {

class RecordWriter {
public:
    RecordWriter(RedisSettings redis, std::string password, std::chrono::seconds ttl, std::size_t queue_limit);
    ~RecordWriter();
    RecordWriter(const RecordWriter&) = delete;
    RecordWriter& operator=(const RecordWriter&) = delete;

    // Starts the thread. Call after fork (detaching), never before.
    void start();
    // Writes what is queued if Redis answers (each attempt bounded by
    // redis.timeout), drops the rest with a log line, joins the thread.
    void stop();
    // Thread-safe; never blocks on Redis.
    void submit(MessageRecord record);
    // Kept at the queue's length from now on (nullptr: none). Before start().
    void set_depth_gauge(prometheus::Gauge* gauge) { depth_ = gauge; }

private:
    using Clock = std::chrono::steady_clock;

    void run();
    std::deque<MessageRecord> take_batch(std::unique_lock<std::mutex>& lock);
    Result<void> write(const std::deque<MessageRecord>& batch);
    Result<void> write_once(const std::deque<MessageRecord>& batch);
    void on_failure(std::deque<MessageRecord>& batch, const std::string& reason);
    void on_success(std::size_t written);

    const RedisSettings redis_settings_;
    const std::string password_;
    const std::chrono::seconds ttl_;
    const std::size_t queue_limit_;
    const std::string where_;

    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<MessageRecord> queue_;
    prometheus::Gauge* depth_ = nullptr;
    bool stopping_ = false;
    Outage outage_;               // Redis failed; records wait for it
    bool queue_full_ = false;     // dropping since the queue filled up
    std::uint64_t dropped_ = 0;   // since the outage or full queue began
    Clock::time_point retry_at_{};

    std::optional<RedisClient> client_;  // the writer thread's only
    std::thread thread_;
};

}  // namespace tenantmail::milter
