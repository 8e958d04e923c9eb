#include "common/log.h"

#include <syslog.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace tenantmail {
namespace {

std::atomic<int> current_level{static_cast<int>(LogLevel::info)};
std::atomic<bool> use_stderr{true};
const char* ident = "tenantmail";
std::mutex stderr_mutex;

int syslog_priority(LogLevel level) {
    switch (level) {
        case LogLevel::error: return LOG_ERR;
        case LogLevel::warning: return LOG_WARNING;
        case LogLevel::info: return LOG_INFO;
        case LogLevel::debug: return LOG_DEBUG;
    }
    return LOG_INFO;
}

const char* level_name(LogLevel level) {
    switch (level) {
        case LogLevel::error: return "error";
        case LogLevel::warning: return "warning";
        case LogLevel::info: return "info";
        case LogLevel::debug: return "debug";
    }
    return "info";
}

}  // namespace

void log_open(const char* program, bool to_stderr, LogLevel level) {
    ident = program;
    use_stderr = to_stderr;
    current_level = static_cast<int>(level);
    if (!to_stderr) ::openlog(program, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void log_set_level(LogLevel level) { current_level = static_cast<int>(level); }

bool log_enabled(LogLevel level) { return static_cast<int>(level) <= current_level.load(std::memory_order_relaxed); }

bool parse_log_level(std::string_view text, LogLevel& level) {
    for (LogLevel candidate : {LogLevel::error, LogLevel::warning, LogLevel::info, LogLevel::debug}) {
        if (text == level_name(candidate)) {
            level = candidate;
            return true;
        }
    }
    return false;
}

void log_message(LogLevel level, const char* format, ...) {
    char line[2048];
    va_list args;
    va_start(args, format);
    std::vsnprintf(line, sizeof line, format, args);
    va_end(args);
    if (!use_stderr) {
        ::syslog(syslog_priority(level), "%s", line);
        return;
    }
    char stamp[32];
    const std::time_t now = std::time(nullptr);
    struct tm local {};
    ::localtime_r(&now, &local);
    std::strftime(stamp, sizeof stamp, "%b %e %H:%M:%S", &local);
    const std::lock_guard<std::mutex> lock(stderr_mutex);
    std::fprintf(stderr, "%s %s: %s: %s\n", stamp, ident, level_name(level), line);
}

}  // namespace tenantmail
