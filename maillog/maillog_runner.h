// maillog_runner.h — the follower's loop: read the log's lines, record each
// delivery outcome, save the offset of the last line whose outcome is in
// Redis (at most once a second, at the end of the file and at exit).
// Redis down: hold at that line, retry with a doubling delay (common/
// outage.h), log once per outage and once at the recovery; no line is ever
// skipped for it. After an outage, a queue id without a record is looked up
// again for a while: the milter's record writer may still be catching up.
// Where outcomes go (OutcomeSink) and how it waits (Waiter: the pause that
// is also the wait for a signal) are given, so tests drive it without Redis.
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>
#include <functional>
#include <optional>
#include <string>

#include "common/outage.h"
#include "common/result.h"
#include "maillog/follow_state.h"
#include "maillog/log_follower.h"
#include "maillog/maillog_line.h"
#include "common/options/maillog.h"

namespace tenantmail::maillog {

struct RecorderStats {
    std::uint64_t recorded = 0;
    std::uint64_t duplicates = 0;
    std::uint64_t already_final = 0;
    std::uint64_t refused = 0;  // the record under the queue id is another message's
};

// What the runner needs of OutcomeRecorder (outcome_recorder.h).
class OutcomeSink {
public:
    virtual void observe(const QueueEvent& event, std::time_t now) = 0;
    // False when the queue id has no record of this message; an error when
    // Redis could not be asked (the line is tried again later).
    virtual Result<bool> record(const DeliveryLine& line, std::time_t now) = 0;
    virtual Result<void> ping() = 0;
    virtual const RecorderStats& stats() const = 0;

protected:
    ~OutcomeSink() = default;
};

class MaillogMetrics;

class MaillogRunner {
public:
    using Clock = std::chrono::steady_clock;
    // Waits up to the given time; returns a signal that arrived, or 0.
    using Waiter = std::function<int(std::chrono::milliseconds)>;
    using Now = std::function<Clock::time_point()>;

    MaillogRunner(const MaillogSettings& settings, OutcomeSink& sink, Waiter wait, Now now = Clock::now);

    // Until SIGTERM or SIGINT; returns the exit status.
    int run();
    // Kept up to date as the log is read (nullptr: none). Before run().
    void set_metrics(MaillogMetrics* metrics) { metrics_ = metrics; }

private:
    void load_state();
    void process_lines();
    bool process(const BufferedLine& line);
    void on_redis_failure(const std::string& error);
    void save_state(bool now);
    void sleep(std::chrono::milliseconds duration);
    void on_signal(int signal_number);

    const MaillogSettings& settings_;
    OutcomeSink& sink_;
    Waiter wait_;
    Now now_;
    LogFollower follower_;
    bool stopping_ = false;
    std::optional<FollowState> last_saved_;
    Clock::time_point last_save_time_{};
    bool state_error_logged_ = false;
    Outage outage_;
    Clock::time_point records_due_{};  // until then a queue id without a record is looked up again
    std::uint64_t not_ours_ = 0;
    MaillogMetrics* metrics_ = nullptr;
    Clock::time_point caught_up_at_{};  // the last time nothing was left to read
    void update_metrics();
};

}  // namespace tenantmail::maillog
