// postfix_queue.cpp — see postfix_queue.h.
#include "tenantmailctl/postfix_queue.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "common/text.h"
#include "common/unique_fd.h"

extern char** environ;

namespace tenantmail::ctl {

namespace {

std::string string_member(const nlohmann::json& json, const char* name) {
    const auto it = json.find(name);
    return it != json.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::int64_t integer_member(const nlohmann::json& json, const char* name) {
    const auto it = json.find(name);
    return it != json.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

Result<QueueEntry> parse_entry(const nlohmann::json& json) {
    if (!json.is_object()) return make_error("not a JSON object");
    QueueEntry entry;
    entry.queue_id = string_member(json, "queue_id");
    if (entry.queue_id.empty()) return make_error("no queue_id");
    entry.queue_name = string_member(json, "queue_name");
    entry.arrival_time = integer_member(json, "arrival_time");
    entry.message_size = integer_member(json, "message_size");
    entry.forced_expire = json.value("forced_expire", false);
    entry.sender = string_member(json, "sender");
    if (const auto it = json.find("recipients"); it != json.end() && it->is_array()) {
        for (const auto& recipient : *it) {
            if (!recipient.is_object()) continue;
            entry.recipients.push_back({string_member(recipient, "address"), string_member(recipient, "delay_reason")});
        }
    }
    return entry;
}

}  // namespace

Result<std::vector<QueueEntry>> parse_postqueue_json(std::string_view text) {
    std::vector<QueueEntry> entries;
    std::size_t line_number = 0;
    while (!text.empty()) {
        const std::size_t end = text.find('\n');
        const std::string_view line = trim(text.substr(0, end));
        text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
        ++line_number;
        if (line.empty()) continue;
        const auto json = nlohmann::json::parse(line, nullptr, false);
        auto entry = json.is_discarded() ? Result<QueueEntry>(make_error("not JSON")) : parse_entry(json);
        if (!entry) return make_error("postqueue output line " + std::to_string(line_number) + ": " + entry.error());
        entries.push_back(std::move(entry).value());
    }
    return entries;
}

std::vector<std::string> postqueue_command(const std::string& config_directory) {
    if (config_directory.empty()) return {"postqueue", "-j"};
    return {"postqueue", "-c", config_directory, "-j"};
}

std::vector<std::string> split_command(std::string_view command) {
    std::vector<std::string> argv;
    std::size_t pos = 0;
    while (pos < command.size()) {
        while (pos < command.size() && is_wsp(command[pos])) ++pos;
        const std::size_t start = pos;
        while (pos < command.size() && !is_wsp(command[pos])) ++pos;
        if (pos > start) argv.emplace_back(command.substr(start, pos - start));
    }
    return argv;
}

Result<std::string> run_command(const std::vector<std::string>& argv, bool quiet) {
    if (argv.empty()) return make_error("empty command");
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return make_error(std::string("pipe: ") + std::strerror(errno));
    UniqueFd read_end(fds[0]);
    UniqueFd write_end(fds[1]);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, write_end.get(), STDOUT_FILENO);
    if (quiet) posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    pid_t pid = 0;
    const int spawned = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) return make_error("cannot run " + argv[0] + ": " + std::strerror(spawned));
    write_end.reset();  // so read() sees EOF when the child exits
    std::string output;
    char buffer[65536];
    for (;;) {
        const ssize_t n = ::read(read_end.get(), buffer, sizeof buffer);
        if (n > 0) {
            output.append(buffer, static_cast<std::size_t>(n));
        } else if (n == 0 || errno != EINTR) {
            break;
        }
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        return make_error(argv[0] + " failed (" +
                          (WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                             : std::string("killed by a signal")) +
                          ")");
    }
    return output;
}

}  // namespace tenantmail::ctl
