// log.h — one logging path for every tenantmail program: syslog (facility
// mail, as Postfix and OpenDKIM log) or stderr when running in the
// foreground. printf-style, one line per call; thread-safe. Callers must
// never pass secrets or key material.
#pragma once

#include <string_view>

namespace tenantmail {

enum class LogLevel { error = 0, warning = 1, info = 2, debug = 3 };

// program: the syslog ident ("tenantmail-milter"). to_stderr: foreground mode.
void log_open(const char* program, bool to_stderr, LogLevel level);
void log_set_level(LogLevel level);
bool log_enabled(LogLevel level);
// Parses error|warning|info|debug; false if unknown.
bool parse_log_level(std::string_view text, LogLevel& level);

void log_message(LogLevel level, const char* format, ...) __attribute__((format(printf, 2, 3)));

}  // namespace tenantmail

#define TM_LOG(level, ...)                                                          \
    do {                                                                            \
        if (::tenantmail::log_enabled(level)) ::tenantmail::log_message(level, __VA_ARGS__); \
    } while (0)
#define LOG_ERROR(...) TM_LOG(::tenantmail::LogLevel::error, __VA_ARGS__)
#define LOG_WARNING(...) TM_LOG(::tenantmail::LogLevel::warning, __VA_ARGS__)
#define LOG_INFO(...) TM_LOG(::tenantmail::LogLevel::info, __VA_ARGS__)
#define LOG_DEBUG(...) TM_LOG(::tenantmail::LogLevel::debug, __VA_ARGS__)
