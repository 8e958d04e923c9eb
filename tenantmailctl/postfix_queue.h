// postfix_queue.h — what Postfix still holds, as `postqueue -j` reports it
// (Postfix >= 3.1: one JSON object per line and message, see postqueue(1)),
// and running that command without a shell.
// Parsing is pure; a line that is not such an object is an error naming
// the line, so a changed format is noticed rather than shown as empty.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace tenantmail::ctl {

struct QueuedRecipient {
    std::string address;
    std::string delay_reason;  // "" until a delivery attempt failed
};

struct QueueEntry {
    std::string queue_name;  // maildrop, incoming, active, deferred, hold, corrupt
    std::string queue_id;
    std::int64_t arrival_time = 0;
    std::int64_t message_size = 0;
    bool forced_expire = false;
    std::string sender;
    std::vector<QueuedRecipient> recipients;
};

Result<std::vector<QueueEntry>> parse_postqueue_json(std::string_view text);

// "postqueue -j" by default; "postqueue -c DIR -j" for another instance.
std::vector<std::string> postqueue_command(const std::string& config_directory);
// Splits a command given as one string on spaces (no quoting: it is a
// program and its options, run without a shell).
std::vector<std::string> split_command(std::string_view command);

// Runs argv (PATH searched), returns its standard output; an error when it
// cannot start or exits non-zero (its standard error passes through, or
// goes to /dev/null with quiet: for a probe whose failure means "unknown").
Result<std::string> run_command(const std::vector<std::string>& argv, bool quiet = false);

}  // namespace tenantmail::ctl
