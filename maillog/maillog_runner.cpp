// maillog_runner.cpp — see maillog_runner.h.
#include "maillog/maillog_runner.h"

#include "maillog/maillog_metrics.h"

#include <signal.h>

#include "common/log.h"
#include "maillog/state_file.h"

namespace tenantmail::maillog {

namespace {

using std::chrono::milliseconds;

constexpr milliseconds kStateSaveInterval{1000};
constexpr milliseconds kFirstRetry{100};
constexpr milliseconds kLongestRetry{5000};
constexpr int kLinesBetweenSignalChecks = 256;
// How long after Redis is reachable again a line whose queue id has no
// message record yet is looked up again before it is skipped as not ours:
// longer than the milter's record writer needs to reconnect (at most 5s
// between tries) and write what it held.
constexpr std::chrono::seconds kRecordCatchUp{15};
constexpr milliseconds kRecordPoll{500};

unsigned long long ull(std::uint64_t value) { return static_cast<unsigned long long>(value); }

}  // namespace

MaillogRunner::MaillogRunner(const MaillogSettings& settings, OutcomeSink& sink, Waiter wait, Now now)
    : settings_(settings),
      sink_(sink),
      wait_(std::move(wait)),
      now_(std::move(now)),
      follower_(settings.file, kMaxLineLength),
      outage_(kFirstRetry, kLongestRetry) {}

int MaillogRunner::run() {
    load_state();
    caught_up_at_ = now_();
    while (!stopping_) {
        switch (follower_.poll()) {
            case LogFollower::Poll::progress:
                process_lines();
                save_state(false);
                update_metrics();
                break;
            case LogFollower::Poll::idle:
            case LogFollower::Poll::no_file:
                save_state(true);
                update_metrics();
                sleep(settings_.poll_interval);
                break;
        }
    }
    save_state(true);
    const RecorderStats& stats = sink_.stats();
    LOG_INFO("stopping at offset %llu of %s: %llu outcomes recorded, %llu already recorded, %llu already final, "
             "%llu refused (record of another message), %llu lines of other messages",
             ull(follower_.offset()), settings_.file.c_str(), ull(stats.recorded), ull(stats.duplicates),
             ull(stats.already_final), ull(stats.refused), ull(not_ours_));
    return 0;
}

void MaillogRunner::update_metrics() {
    if (metrics_ == nullptr) return;
    const std::uint64_t lag = follower_.unprocessed();
    const auto now = now_();
    if (lag == 0) caught_up_at_ = now;
    metrics_->update(lag, std::chrono::duration<double>(now - caught_up_at_).count(), sink_.stats(), not_ours_);
}

void MaillogRunner::load_state() {
    auto saved = read_state_file(settings_.state_file);
    if (!saved) {
        LOG_WARNING("%s; reading %s from the start", saved.error().c_str(), settings_.file.c_str());
        return;
    }
    if (!*saved) LOG_INFO("no state file %s yet", settings_.state_file.c_str());
    last_saved_ = *saved;
    follower_.resume_from(*saved);
}

void MaillogRunner::process_lines() {
    int handled = 0;
    while (!stopping_) {
        const auto line = follower_.front();
        if (!line) return;
        if (!process(*line)) return;  // Redis: the same line again after the pause
        follower_.pop();
        if (++handled % kLinesBetweenSignalChecks == 0) {
            if (const int signal_number = wait_(milliseconds(0))) on_signal(signal_number);
            save_state(false);
            update_metrics();
        }
    }
}

// False when the line must be tried again (Redis unavailable).
bool MaillogRunner::process(const BufferedLine& line) {
    if (line.overlong) {
        LOG_WARNING("%s: skipped a line of %llu bytes at offset %llu: longer than %zu bytes", settings_.file.c_str(),
                    ull(line.bytes), ull(follower_.offset()), kMaxLineLength);
        return true;
    }
    const ParsedLine parsed = parse_maillog_line(line.text);
    if (parsed.kind == LineKind::malformed) {
        LOG_DEBUG("%s: offset %llu: not read as a Postfix log line: %.*s", settings_.file.c_str(),
                  ull(follower_.offset()), static_cast<int>(parsed.problem.size()), parsed.problem.data());
        return true;
    }
    if (parsed.kind == LineKind::queue_event) {
        sink_.observe(parsed.queue, ::time(nullptr));
        return true;
    }
    if (parsed.kind != LineKind::delivery) return true;
    if (outage_.ongoing()) {
        // Said before the outcomes that follow it in the log.
        if (auto back = sink_.ping(); !back) {
            on_redis_failure(back.error());
            return false;
        }
        const auto ended = outage_.on_success(now_());
        const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(ended->duration);
        LOG_INFO("Redis reachable again after %llds; continuing %s at offset %llu",
                 static_cast<long long>(seconds.count()), settings_.file.c_str(), ull(follower_.offset()));
        records_due_ = now_() + kRecordCatchUp;
    }
    auto recorded = sink_.record(parsed.delivery, ::time(nullptr));
    if (!recorded) {
        on_redis_failure(recorded.error());
        return false;
    }
    if (!*recorded) {
        if (now_() < records_due_) {
            // The milter writes records in the background and holds them
            // while Redis is away: after an outage give them time to
            // arrive before calling a queue id not ours.
            sleep(kRecordPoll);
            return false;
        }
        ++not_ours_;
    }
    return true;
}

void MaillogRunner::on_redis_failure(const std::string& error) {
    const Outage::Failure failure = outage_.on_failure(now_());
    if (failure.log_now) {
        LOG_ERROR("%s; holding %s at offset %llu until Redis is back", error.c_str(), settings_.file.c_str(),
                  ull(follower_.offset()));
    }
    save_state(true);
    update_metrics();
    sleep(failure.delay);
}

void MaillogRunner::save_state(bool now) {
    const auto state = follower_.state();
    if (!state || state == last_saved_) return;
    if (!now && now_() - last_save_time_ < kStateSaveInterval) return;
    if (auto written = write_state_file(settings_.state_file, *state); !written) {
        if (!state_error_logged_) LOG_ERROR("%s; will try again", written.error().c_str());
        state_error_logged_ = true;
        return;
    }
    if (state_error_logged_) LOG_INFO("state file %s written again", settings_.state_file.c_str());
    state_error_logged_ = false;
    last_saved_ = state;
    last_save_time_ = now_();
}

void MaillogRunner::sleep(milliseconds duration) {
    if (const int signal_number = wait_(duration)) on_signal(signal_number);
}

void MaillogRunner::on_signal(int signal_number) {
    if (signal_number == SIGHUP) {
        LOG_INFO("SIGHUP: nothing to reload; looking at %s now", settings_.file.c_str());
        return;
    }
    LOG_INFO("stopping on signal %d", signal_number);
    stopping_ = true;
}

}  // namespace tenantmail::maillog
