#include "common/log.h"

#include <gtest/gtest.h>

namespace tenantmail {
namespace {

TEST(SyslogText, WarningsErrorsAndPanicsSayTheirSeverityAsPostfixDoes) {
    EXPECT_EQ(syslog_text(LogLevel::warning, "disk low"), "warning: disk low");
    EXPECT_EQ(syslog_text(LogLevel::error, "cannot start: no key"), "error: cannot start: no key");
    EXPECT_EQ(syslog_text(LogLevel::panic, "queue mismatch"), "panic: queue mismatch");
}

TEST(SyslogText, InfoAndDebugCarryNoSeverityWord) {
    EXPECT_EQ(syslog_text(LogLevel::info, "ABC123: tenant=acme signed"), "ABC123: tenant=acme signed");
    EXPECT_EQ(syslog_text(LogLevel::debug, "stored 3 message records"), "stored 3 message records");
}

TEST(SyslogText, MessageIsKeptVerbatimIncludingPercentSigns) {
    EXPECT_EQ(syslog_text(LogLevel::warning, "100% full: %s"), "warning: 100% full: %s");
}

TEST(StderrLine, KeepsTheForegroundFormatEveryLevelNamed) {
    EXPECT_EQ(stderr_line("Dec  3 17:00:00", "tenantmail-milter", LogLevel::info, "stopped"),
              "Dec  3 17:00:00 tenantmail-milter: info: stopped\n");
    EXPECT_EQ(stderr_line("Dec  3 17:00:00", "tenantmail-policyd", LogLevel::warning, "x"),
              "Dec  3 17:00:00 tenantmail-policyd: warning: x\n");
}

TEST(LogLevel, PanicIsAlwaysEnabledAndCannotBeChosenAsThreshold) {
    EXPECT_TRUE(log_enabled(LogLevel::panic));
    LogLevel level = LogLevel::info;
    EXPECT_FALSE(parse_log_level("panic", level));
    EXPECT_EQ(level, LogLevel::info);
}

TEST(LogPanicDeathTest, LogsPanicThenAborts) {
    EXPECT_DEATH(log_panic("pending queue empty at reply %d", 7), "panic: pending queue empty at reply 7");
}

}  // namespace
}  // namespace tenantmail
