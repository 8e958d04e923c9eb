#include "common/daemon_main.h"

#include <cstdio>

namespace tenantmail::daemon_main {

std::string usage_caption(const char* program) { return std::string("usage: ") + program + " [options]\n\noptions"; }

int settings_error(const char* program, const std::string& message) {
    std::fprintf(stderr, "%s: %s\n", program, message.c_str());
    return 2;
}

void start_logging(const char* program, const std::string& log_level, bool foreground) {
    LogLevel level = LogLevel::info;
    parse_log_level(log_level, level);
    log_open(program, foreground, level);
}

void log_stopped(const std::string& pidfile) {
    remove_pidfile(pidfile);
    LOG_INFO("stopped");
}

}  // namespace tenantmail::daemon_main
