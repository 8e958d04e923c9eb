// main.cpp — tenantmail-maillog: follow Postfix's log (maillog_file, or a
// syslog mail.log) and record every delivery status of a tenant's message
// (sent, deferred, bounced, expired) in Redis with its event, once, and only
// into that message's record: Postfix's lines about each queue id (client=,
// message-id=, qmgr's from=, removed) tell the recorder which message the id
// names now, since Postfix reuses ids.
// One thread: read lines, record each through the blocking Redis client,
// save the offset of the last line whose outcome is in Redis to the state
// file (at most once a second, at the end of the file and at exit). Redis
// down: hold at that line, retry with backoff, log once per outage; no line
// is ever skipped for it. SIGTERM/SIGINT save the state and stop; SIGHUP
// only makes it look at the file at once (there is nothing to reload).
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>

#include "common/daemon.h"
#include "common/log.h"
#include "common/redis.h"
#include "maillog/log_follower.h"
#include "maillog/maillog_line.h"
#include "common/options/maillog.h"
#include "maillog/outcome_recorder.h"
#include "maillog/state_file.h"

namespace {

using namespace tenantmail;
using namespace tenantmail::maillog;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr const char* program = "tenantmail-maillog";
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

std::string parent_directory(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

int check_config(const MaillogSettings& settings) {
    if (auto password = read_redis_password(settings.common.redis); !password) {
        std::fprintf(stderr, "%s: %s\n", program, password.error().c_str());
        return 1;
    }
    struct stat st {};
    const std::string state_dir = parent_directory(settings.state_file);
    if (::stat(state_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        std::fprintf(stderr, "%s: maillog.state_file: directory %s does not exist\n", program, state_dir.c_str());
        return 1;
    }
    if (auto state = read_state_file(settings.state_file); !state) {
        // Not fatal for the daemon (it reads the log from the start), but
        // worth knowing before it does.
        std::fprintf(stderr, "%s: warning: %s\n", program, state.error().c_str());
    }
    const bool log_exists = ::stat(settings.file.c_str(), &st) == 0;
    std::printf("%s: configuration OK: following %s%s, state in %s\n", program, settings.file.c_str(),
                log_exists ? "" : " (does not exist yet)", settings.state_file.c_str());
    return 0;
}

class Signals {
public:
    Signals() {
        sigemptyset(&set_);
        for (const int signal_number : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&set_, signal_number);
        // Blocked, and taken with sigtimedwait(): the wait between polls is
        // also the wait for a signal, without handlers or flags.
        pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    }
    // A signal that arrived within timeout, or 0.
    int wait(milliseconds timeout) {
        timespec ts{};
        ts.tv_sec = static_cast<time_t>(timeout.count() / 1000);
        ts.tv_nsec = static_cast<long>((timeout.count() % 1000) * 1000000);
        const int signal_number = ::sigtimedwait(&set_, nullptr, &ts);
        return signal_number > 0 ? signal_number : 0;
    }

private:
    sigset_t set_{};
};

class Runner {
public:
    Runner(const MaillogSettings& settings, std::string password)
        : settings_(settings),
          follower_(settings.file, kMaxLineLength),
          recorder_(settings.common.redis, std::move(password)) {}

    int run() {
        load_state();
        while (!stopping_) {
            switch (follower_.poll()) {
                case LogFollower::Poll::progress:
                    process_lines();
                    save_state(false);
                    break;
                case LogFollower::Poll::idle:
                case LogFollower::Poll::no_file:
                    save_state(true);
                    sleep(settings_.poll_interval);
                    break;
            }
        }
        save_state(true);
        const auto& stats = recorder_.stats();
        LOG_INFO("stopping at offset %llu of %s: %llu outcomes recorded, %llu already recorded, %llu already final, "
                 "%llu refused (record of another message), %llu lines of other messages",
                 ull(follower_.offset()), settings_.file.c_str(), ull(stats.recorded), ull(stats.duplicates),
                 ull(stats.already_final), ull(stats.refused), ull(not_ours_));
        return 0;
    }

private:
    void load_state() {
        auto saved = read_state_file(settings_.state_file);
        if (!saved) {
            LOG_WARNING("%s; reading %s from the start", saved.error().c_str(), settings_.file.c_str());
            return;
        }
        if (!*saved) LOG_INFO("no state file %s yet", settings_.state_file.c_str());
        last_saved_ = *saved;
        follower_.resume_from(*saved);
    }

    void process_lines() {
        int handled = 0;
        while (!stopping_) {
            const auto line = follower_.front();
            if (!line) return;
            if (!process(*line)) return;  // Redis: the same line again after the pause
            follower_.pop();
            if (++handled % kLinesBetweenSignalChecks == 0) {
                if (const int signal_number = signals_.wait(milliseconds(0))) on_signal(signal_number);
                save_state(false);
            }
        }
    }

    // False when the line must be tried again (Redis unavailable).
    bool process(const BufferedLine& line) {
        if (line.overlong) {
            LOG_WARNING("%s: skipped a line of %llu bytes at offset %llu: longer than %zu bytes",
                        settings_.file.c_str(), ull(line.bytes), ull(follower_.offset()), kMaxLineLength);
            return true;
        }
        const ParsedLine parsed = parse_maillog_line(line.text);
        if (parsed.kind == LineKind::malformed) {
            LOG_DEBUG("%s: offset %llu: not read as a Postfix log line: %.*s", settings_.file.c_str(),
                      ull(follower_.offset()), static_cast<int>(parsed.problem.size()), parsed.problem.data());
            return true;
        }
        if (parsed.kind == LineKind::queue_event) {
            recorder_.observe(parsed.queue, ::time(nullptr));
            return true;
        }
        if (parsed.kind != LineKind::delivery) return true;
        if (in_outage_) {
            // Said before the outcomes that follow it in the log.
            if (auto back = recorder_.ping(); !back) {
                on_redis_failure(back.error());
                return false;
            }
            const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - outage_start_);
            LOG_INFO("Redis reachable again after %llds; continuing %s at offset %llu",
                     static_cast<long long>(seconds.count()), settings_.file.c_str(), ull(follower_.offset()));
            in_outage_ = false;
            records_due_ = Clock::now() + kRecordCatchUp;
        }
        auto recorded = recorder_.record(parsed.delivery, ::time(nullptr));
        if (!recorded) {
            on_redis_failure(recorded.error());
            return false;
        }
        if (!*recorded) {
            if (Clock::now() < records_due_) {
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

    void on_redis_failure(const std::string& error) {
        if (!in_outage_) {
            LOG_ERROR("%s; holding %s at offset %llu until Redis is back", error.c_str(), settings_.file.c_str(),
                      ull(follower_.offset()));
            in_outage_ = true;
            outage_start_ = Clock::now();
            retry_ = kFirstRetry;
        }
        save_state(true);
        sleep(retry_);
        retry_ = std::min(retry_ * 2, kLongestRetry);
    }

    void save_state(bool now) {
        const auto state = follower_.state();
        if (!state || state == last_saved_) return;
        if (!now && Clock::now() - last_save_time_ < kStateSaveInterval) return;
        if (auto written = write_state_file(settings_.state_file, *state); !written) {
            if (!state_error_logged_) LOG_ERROR("%s; will try again", written.error().c_str());
            state_error_logged_ = true;
            return;
        }
        if (state_error_logged_) LOG_INFO("state file %s written again", settings_.state_file.c_str());
        state_error_logged_ = false;
        last_saved_ = state;
        last_save_time_ = Clock::now();
    }

    void sleep(milliseconds duration) {
        if (const int signal_number = signals_.wait(duration)) on_signal(signal_number);
    }

    void on_signal(int signal_number) {
        if (signal_number == SIGHUP) {
            LOG_INFO("SIGHUP: nothing to reload; looking at %s now", settings_.file.c_str());
            return;
        }
        LOG_INFO("stopping on signal %d", signal_number);
        stopping_ = true;
    }

    const MaillogSettings& settings_;
    Signals signals_;
    LogFollower follower_;
    OutcomeRecorder recorder_;
    bool stopping_ = false;
    std::optional<FollowState> last_saved_;
    Clock::time_point last_save_time_{};
    bool state_error_logged_ = false;
    bool in_outage_ = false;
    Clock::time_point records_due_{};  // until then a queue id without a record is looked up again
    std::uint64_t not_ours_ = 0;
    Clock::time_point outage_start_{};
    milliseconds retry_ = kFirstRetry;
};

}  // namespace

int main(int argc, char** argv) {
    tenantmail::keep_secrets_out_of_core_dumps();
    namespace po = boost::program_options;
    po::options_description desc(std::string("usage: ") + program + " [options]\n\noptions");
    add_maillog_options(desc, kDefaultConfigFile);
    int exit_status = 0;
    auto config = load_program_config(program, argc, argv, desc, exit_status);
    if (!config) return exit_status;
    const MaillogSettings settings = maillog_settings(*config);
    if (settings.common.check_config) return check_config(settings);

    LogLevel level = LogLevel::info;
    parse_log_level(settings.common.log_level, level);
    log_open(program, settings.foreground, level);
    const auto fatal = [&](const std::string& message) {
        return cannot_start(program, settings.foreground, message);
    };

    auto password = read_redis_password(settings.common.redis);
    if (!password) return fatal(password.error());
    if (auto daemon = become_daemon(settings.user, settings.foreground, settings.pidfile); !daemon) {
        return fatal(daemon.error());
    }

    LOG_INFO("following %s (every %lldms when idle), state in %s; Redis at %s", settings.file.c_str(),
             static_cast<long long>(settings.poll_interval.count()), settings.state_file.c_str(),
             describe_redis(settings.common.redis).c_str());
    Runner runner(settings, std::move(password).value());
    const int status = runner.run();
    remove_pidfile(settings.pidfile);
    LOG_INFO("stopped");
    return status;
}
