// record_writer.cpp — see record_writer.h.
#include "milter/record_writer.h"

#include <algorithm>

#include "common/log.h"

namespace tenantmail::milter {

namespace {

constexpr std::size_t kMaxBatch = 256;  // records per pipelined round trip
constexpr std::chrono::milliseconds kFirstBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{5000};

// The first error reply among a batch's replies (EXEC's own elements
// included), or "" when every command succeeded.
std::string first_error(const std::vector<RedisReply>& replies) {
    for (const RedisReply& reply : replies) {
        const redisReply* r = reply.get();
        if (r->type == REDIS_REPLY_ERROR) return std::string(r->str, r->len);
        if (r->type != REDIS_REPLY_ARRAY) continue;
        for (std::size_t i = 0; i < r->elements; ++i) {
            if (r->element[i]->type == REDIS_REPLY_ERROR) return std::string(r->element[i]->str, r->element[i]->len);
        }
    }
    return std::string();
}

}  // namespace

RecordWriter::RecordWriter(RedisSettings redis, std::string password, std::chrono::seconds ttl,
                           std::size_t queue_limit)
    : redis_settings_(std::move(redis)),
      password_(std::move(password)),
      ttl_(ttl),
      queue_limit_(queue_limit),
      where_(describe_redis(redis_settings_)),
      outage_(kFirstBackoff, kMaxBackoff) {}

RecordWriter::~RecordWriter() { stop(); }

void RecordWriter::start() {
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
}

void RecordWriter::stop() {
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void RecordWriter::submit(MessageRecord record) {
    {
        const std::lock_guard lock(mutex_);
        if (stopping_ || queue_.size() >= queue_limit_) {
            ++dropped_;
            if (!queue_full_ && !stopping_) {
                queue_full_ = true;
                LOG_WARNING("message record queue full (%zu waiting for Redis at %s); dropping new records until "
                            "it drains",
                            queue_.size(), where_.c_str());
            }
            LOG_DEBUG("%s: message record dropped", record.queue_id.c_str());
            return;
        }
        queue_.push_back(std::move(record));
        if (depth_ != nullptr) depth_->Set(static_cast<double>(queue_.size()));
    }
    wake_.notify_one();
}

void RecordWriter::run() {
    std::unique_lock lock(mutex_);
    for (;;) {
        if (queue_.empty()) {
            if (stopping_) break;
            wake_.wait(lock);
            continue;
        }
        if (!stopping_ && Clock::now() < retry_at_) {
            wake_.wait_until(lock, retry_at_);
            continue;
        }
        std::deque<MessageRecord> batch = take_batch(lock);
        lock.unlock();
        const Result<void> written = write(batch);
        lock.lock();
        if (written) {
            on_success(batch.size());
            if (depth_ != nullptr) depth_->Set(static_cast<double>(queue_.size()));
            continue;
        }
        on_failure(batch, written.error());
        if (depth_ != nullptr) depth_->Set(static_cast<double>(queue_.size()));
        if (stopping_) {
            dropped_ += queue_.size();
            queue_.clear();
        }
    }
    if (dropped_ > 0) {
        LOG_WARNING("stopping with %llu message records not stored in Redis at %s",
                    static_cast<unsigned long long>(dropped_), where_.c_str());
    }
}

std::deque<MessageRecord> RecordWriter::take_batch(std::unique_lock<std::mutex>&) {
    const std::size_t n = std::min(kMaxBatch, queue_.size());
    std::deque<MessageRecord> batch(std::make_move_iterator(queue_.begin()),
                                    std::make_move_iterator(queue_.begin() + static_cast<std::ptrdiff_t>(n)));
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    return batch;
}

// Runs without the lock: only this thread touches client_.
Result<void> RecordWriter::write(const std::deque<MessageRecord>& batch) {
    const bool had_connection = client_.has_value();
    Result<void> written = write_once(batch);
    // A connection that went stale while idle (Redis restarted, a Sentinel
    // failover) fails the first write after it: connect anew at once, not
    // after the backoff, so that the record is in Redis before Postfix has
    // delivered the message and tenantmail-maillog asks for it.
    if (!written && had_connection && !client_) {
        const std::string first_failure = written.error();
        written = write_once(batch);
        if (written) LOG_INFO("message records: connected to Redis anew after %s", first_failure.c_str());
    }
    return written;
}

Result<void> RecordWriter::write_once(const std::deque<MessageRecord>& batch) {
    if (!client_) {
        auto client = RedisClient::connect(redis_settings_, password_);
        if (!client) return Error{client.error()};
        client_.emplace(std::move(client).value());
    }
    std::vector<std::vector<std::string>> commands;
    for (const MessageRecord& record : batch) {
        for (auto& command : build_store_record(record, ttl_)) commands.push_back(std::move(command));
    }
    auto replies = client_->pipeline(commands);
    if (!replies) {
        client_.reset();  // an I/O error leaves hiredis's context unusable
        return Error{replies.error()};
    }
    if (const std::string error = first_error(*replies); !error.empty()) {
        return make_error("Redis at " + where_ + " refused a record: " + error);
    }
    return {};
}

void RecordWriter::on_failure(std::deque<MessageRecord>& batch, const std::string& reason) {
    const Outage::Failure failure = outage_.on_failure(Clock::now());
    if (failure.log_now) {
        LOG_ERROR("cannot store message records: %s; keeping up to %zu in memory and retrying", reason.c_str(),
                  queue_limit_);
    } else {
        LOG_DEBUG("still cannot store message records: %s", reason.c_str());
    }
    // Every command of a record is idempotent, so a batch that may have
    // been half written is simply written again, ahead of newer records.
    while (!batch.empty() && queue_.size() < queue_limit_) {
        queue_.push_front(std::move(batch.back()));
        batch.pop_back();
    }
    dropped_ += batch.size();
    retry_at_ = Clock::now() + failure.delay;
}

void RecordWriter::on_success(std::size_t written) {
    LOG_DEBUG("stored %zu message records", written);
    const bool outage_ended = outage_.on_success(Clock::now()).has_value();
    const bool recovered = outage_ended || (queue_full_ && queue_.size() < queue_limit_ / 2);
    if (!recovered) return;
    LOG_WARNING("storing message records in Redis at %s again; %llu were dropped meanwhile", where_.c_str(),
                static_cast<unsigned long long>(dropped_));
    queue_full_ = false;
    dropped_ = 0;
}

}  // namespace tenantmail::milter
