// daemon_main.h — the one start-up and shut-down sequence of every
// tenantmail daemon, as Postfix's multi_server_main is for its servers.
// A daemon's main() hands run_daemon a spec; only its hooks differ:
//
//   options -> config file -> settings -> --check-config (check_config, exit)
//   -> logging -> prepare (privileged: keys, secrets, sockets)
//   -> drop privileges, detach, pid file (become_daemon)
//   -> start (unprivileged set-up: signal masks, threads; optional)
//   -> serve (until a signal says stop) -> remove pid file, log "stopped".
//
// Exit status: what --help/--version/a bad command line give (0 or 2), 2
// for settings that do not make sense, check_config's, 1 when start-up
// fails (cannot_start says why), else serve's.
#pragma once

#include <boost/program_options/options_description.hpp>
#include <functional>
#include <string>

#include "common/config.h"
#include "common/daemon.h"
#include "common/log.h"
#include "common/result.h"

namespace tenantmail {

// Settings: the daemon's typed settings; it must have common (CommonSettings),
// foreground, user and pidfile. State: what prepare opens for serve.
template <class Settings, class State>
struct DaemonSpec {
    const char* program = nullptr;  // "tenantmail-milter": log ident and message prefix
    std::function<void(boost::program_options::options_description&)> add_options;
    // The error is printed as "PROGRAM: ERROR" and the exit status is 2.
    std::function<Result<Settings>(const LoadedConfig&)> read_settings;
    std::function<int(const Settings&)> check_config;
    std::function<Result<State>(const Settings&)> prepare;
    std::function<Result<void>(const Settings&, State&)> start;  // may be empty
    std::function<int(const Settings&, State&)> serve;
};

// The pieces of run_daemon that do not depend on the daemon's types.
namespace daemon_main {
std::string usage_caption(const char* program);
int settings_error(const char* program, const std::string& message);
// log_open with the level of log_level (the settings validated it).
void start_logging(const char* program, const std::string& log_level, bool foreground);
void log_stopped(const std::string& pidfile);
}  // namespace daemon_main

template <class Settings, class State>
int run_daemon(const DaemonSpec<Settings, State>& spec, int argc, char** argv) {
    keep_secrets_out_of_core_dumps();
    boost::program_options::options_description desc(daemon_main::usage_caption(spec.program));
    spec.add_options(desc);
    int exit_status = 0;
    auto config = load_program_config(spec.program, argc, argv, desc, exit_status);
    if (!config) return exit_status;
    auto read = spec.read_settings(*config);
    if (!read) return daemon_main::settings_error(spec.program, read.error());
    // static: threads a library starts (libmilter's) may still read the
    // settings while the process exits, after this function returned.
    static const Settings settings = std::move(read).value();
    if (settings.common.check_config) return spec.check_config(settings);

    daemon_main::start_logging(spec.program, settings.common.log_level, settings.foreground);
    const auto fatal = [&](const std::string& message) {
        return cannot_start(spec.program, settings.foreground, message);
    };
    auto state = spec.prepare(settings);
    if (!state) return fatal(state.error());
    if (auto daemon = become_daemon(settings.user, settings.foreground, settings.pidfile); !daemon) {
        return fatal(daemon.error());
    }
    if (spec.start) {
        if (auto started = spec.start(settings, *state); !started) return fatal(started.error());
    }
    const int status = spec.serve(settings, *state);
    daemon_main::log_stopped(settings.pidfile);
    return status;
}

}  // namespace tenantmail
