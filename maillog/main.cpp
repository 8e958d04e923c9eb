// main.cpp — tenantmail-maillog: follow Postfix's log (maillog_file, or a
// syslog mail.log) and record every delivery status of a tenant's message
// (sent, deferred, bounced, expired) in Redis with its event, once, and only
// into that message's record: Postfix's lines about each queue id (client=,
// message-id=, qmgr's from=, removed) tell the recorder which message the id
// names now, since Postfix reuses ids.
// One thread: the loop of maillog_runner.h, recording through the blocking
// Redis client (outcome_recorder.h). SIGTERM/SIGINT save the state and stop;
// SIGHUP only makes it look at the file at once (there is nothing to reload).
#include <optional>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include <chrono>
#include <cstdio>

#include "common/daemon_main.h"
#include "common/log.h"
#include "common/metrics.h"
#include "maillog/maillog_metrics.h"
#include "common/redis.h"
#include "maillog/maillog_runner.h"
#include "maillog/outcome_recorder.h"
#include "maillog/state_file.h"

namespace {

using namespace tenantmail;
using namespace tenantmail::maillog;
using std::chrono::milliseconds;

constexpr const char* program = "tenantmail-maillog";

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

struct MaillogState {
    std::string redis_password;
};

Result<MaillogState> prepare(const MaillogSettings& settings) {
    auto password = read_redis_password(settings.common.redis);
    if (!password) return Error{password.error()};
    return MaillogState{std::move(password).value()};
}

int serve(const MaillogSettings& settings, MaillogState& state) {
    LOG_INFO("following %s (every %lldms when idle), state in %s; Redis at %s", settings.file.c_str(),
             static_cast<long long>(settings.poll_interval.count()), settings.state_file.c_str(),
             describe_redis(settings.common.redis).c_str());
    Signals signals;
    std::unique_ptr<MetricsServer> metrics_server;  // before what refers into its registry
    std::optional<MaillogMetrics> metrics;
    if (!settings.metrics_listen.empty()) {
        auto started = MetricsServer::start(settings.metrics_listen);
        if (!started) return cannot_start(program, settings.foreground, started.error());
        metrics_server = std::move(*started);
        metrics.emplace(metrics_server->registry());
    }
    OutcomeRecorder recorder(settings.common.redis, std::move(state.redis_password));
    MaillogRunner runner(settings, recorder, [&signals](milliseconds timeout) { return signals.wait(timeout); });
    if (metrics) runner.set_metrics(&*metrics);
    return runner.run();
}

}  // namespace

int main(int argc, char** argv) {
    DaemonSpec<MaillogSettings, MaillogState> spec;
    spec.program = program;
    spec.add_options = [](boost::program_options::options_description& desc) {
        add_maillog_options(desc, kDefaultConfigFile);
    };
    spec.read_settings = [](const LoadedConfig& config) -> Result<MaillogSettings> { return maillog_settings(config); };
    spec.check_config = check_config;
    spec.prepare = prepare;
    spec.serve = serve;
    return run_daemon(spec, argc, argv);
}
