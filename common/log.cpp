#include "common/log.h"

#include <syslog.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
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
        case LogLevel::panic: return LOG_CRIT;
        case LogLevel::error: return LOG_ERR;
        case LogLevel::warning: return LOG_WARNING;
        case LogLevel::info: return LOG_INFO;
        case LogLevel::debug: return LOG_DEBUG;
    }
    return LOG_INFO;
}

const char* level_name(LogLevel level) {
    switch (level) {
        case LogLevel::panic: return "panic";
        case LogLevel::error: return "error";
        case LogLevel::warning: return "warning";
        case LogLevel::info: return "info";
        case LogLevel::debug: return "debug";
    }
    return "info";
}

bool says_its_severity(LogLevel level) { return level != LogLevel::info && level != LogLevel::debug; }

void write_line(LogLevel level, const char* line) {
    if (!use_stderr) {
        ::syslog(syslog_priority(level), "%s", syslog_text(level, line).c_str());
        return;
    }
    char stamp[32];
    const std::time_t now = std::time(nullptr);
    struct tm local {};
    ::localtime_r(&now, &local);
    std::strftime(stamp, sizeof stamp, "%b %e %H:%M:%S", &local);
    const std::string text = stderr_line(stamp, ident, level, line);
    const std::lock_guard<std::mutex> lock(stderr_mutex);
    std::fputs(text.c_str(), stderr);
}

}  // namespace

void log_open(const char* program, bool to_stderr, LogLevel level) {
    ident = program;
    use_stderr = to_stderr;
    current_level = static_cast<int>(level);
    if (!to_stderr) ::openlog(program, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

bool log_enabled(LogLevel level) { return static_cast<int>(level) <= current_level.load(std::memory_order_relaxed); }

bool parse_log_level(std::string_view text, LogLevel& level) {
    // panic is not a threshold one could choose: it is always logged.
    for (LogLevel candidate : {LogLevel::error, LogLevel::warning, LogLevel::info, LogLevel::debug}) {
        if (text == level_name(candidate)) {
            level = candidate;
            return true;
        }
    }
    return false;
}

std::string syslog_text(LogLevel level, std::string_view message) {
    std::string text;
    if (says_its_severity(level)) {
        text = level_name(level);
        text += ": ";
    }
    text += message;
    return text;
}

std::string stderr_line(std::string_view stamp, std::string_view ident_text, LogLevel level,
                        std::string_view message) {
    std::string line;
    line.reserve(stamp.size() + ident_text.size() + message.size() + 16);
    line.append(stamp).append(" ").append(ident_text).append(": ").append(level_name(level)).append(": ");
    line.append(message).append("\n");
    return line;
}

void log_message(LogLevel level, const char* format, ...) {
    char line[2048];
    va_list args;
    va_start(args, format);
    std::vsnprintf(line, sizeof line, format, args);
    va_end(args);
    write_line(level, line);
}

void log_panic(const char* format, ...) {
    char line[2048];
    va_list args;
    va_start(args, format);
    std::vsnprintf(line, sizeof line, format, args);
    va_end(args);
    write_line(LogLevel::panic, line);
    std::abort();
}

}  // namespace tenantmail
