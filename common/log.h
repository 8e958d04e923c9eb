// log.h — one logging path for every tenantmail program: syslog (facility
// mail, as Postfix and OpenDKIM log) or stderr when running in the
// foreground. printf-style, one line per call; thread-safe. Callers must
// never pass secrets or key material.
// As Postfix does, the text says its severity ("warning: ...", "error: ...",
// "panic: ..."; nothing for info and debug) in syslog as well as on stderr:
// admins grep mail.log, and syslog filters often drop the priority.
#pragma once

#include <string>
#include <string_view>

namespace tenantmail {

// panic: a state that cannot happen; always logged, then the process aborts.
enum class LogLevel { panic = -1, error = 0, warning = 1, info = 2, debug = 3 };

// program: the syslog ident ("tenantmail-milter"). to_stderr: foreground mode.
void log_open(const char* program, bool to_stderr, LogLevel level);
bool log_enabled(LogLevel level);
// Parses error|warning|info|debug; false if unknown.
bool parse_log_level(std::string_view text, LogLevel& level);

void log_message(LogLevel level, const char* format, ...) __attribute__((format(printf, 2, 3)));

// Logs "panic: MESSAGE" and aborts: for states the code rules out (an enum
// value no case handles, bookkeeping that disagrees with itself). A crash
// with a core beats a daemon that keeps going on a broken invariant.
[[noreturn]] void log_panic(const char* format, ...) __attribute__((format(printf, 1, 2)));

// The text handed to syslog for one message: the severity word first, as
// Postfix's msg_syslog writes it, nothing for info and debug.
std::string syslog_text(LogLevel level, std::string_view message);
// The line written to stderr in the foreground: "STAMP IDENT: LEVEL: MESSAGE".
std::string stderr_line(std::string_view stamp, std::string_view ident, LogLevel level, std::string_view message);

}  // namespace tenantmail

#define TM_LOG(level, ...)                                                          \
    do {                                                                            \
        if (::tenantmail::log_enabled(level)) ::tenantmail::log_message(level, __VA_ARGS__); \
    } while (0)
#define LOG_ERROR(...) TM_LOG(::tenantmail::LogLevel::error, __VA_ARGS__)
#define LOG_WARNING(...) TM_LOG(::tenantmail::LogLevel::warning, __VA_ARGS__)
#define LOG_INFO(...) TM_LOG(::tenantmail::LogLevel::info, __VA_ARGS__)
#define LOG_DEBUG(...) TM_LOG(::tenantmail::LogLevel::debug, __VA_ARGS__)
#define TM_PANIC(...) ::tenantmail::log_panic(__VA_ARGS__)
