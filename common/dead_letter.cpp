// dead_letter.cpp — see dead_letter.h.
#include "common/dead_letter.h"

#include <charconv>

namespace tenantmail {
namespace {

constexpr std::string_view kDeadLetterScript = R"lua(
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*',
           'events', ARGV[3], 'error', ARGV[4], 'attempts', ARGV[5], 'time', ARGV[6],
           'entries', table.concat(ARGV, ' ', 7))
local acked = 0
for i = 7, #ARGV, 500 do  -- unpack() of thousands of values would overflow Lua's stack
  acked = acked + redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, i, math.min(i + 499, #ARGV)))
end
return acked
)lua";

// XDEL first: if two admins replay the same entry at once, only one of
// them gets a non-zero count and appends the events.
constexpr std::string_view kReplayScript = R"lua(
if redis.call('XDEL', KEYS[2], ARGV[1]) == 0 then return -1 end
for i = 3, #ARGV do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'event', ARGV[i])
end
return #ARGV - 2
)lua";

bool to_integer(const std::string& text, auto& out) {
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::vector<std::string> build_dead_letter_eval(const Batch& batch, std::string_view group, std::string_view error,
                                                std::uint64_t attempts, std::int64_t now_s) {
    std::vector<std::string> args{"EVAL",
                                  std::string(kDeadLetterScript),
                                  "2",
                                  events_stream_key(batch.tenant),
                                  dead_letter_key(batch.tenant),
                                  std::string(group),
                                  std::to_string(kDeadLetterStreamCap),
                                  batch.document,
                                  std::string(error),
                                  std::to_string(attempts),
                                  std::to_string(now_s)};
    args.insert(args.end(), batch.ids.begin(), batch.ids.end());
    return args;
}

Result<DeadLetter> parse_dead_letter(const StreamEntry& entry) {
    DeadLetter dead;
    dead.id = entry.id;
    const std::string* document = entry.field("events");
    if (document == nullptr) return make_error("dead letter " + entry.id + " has no \"events\" field");
    dead.document = *document;
    if (const std::string* error = entry.field("error")) dead.error = *error;
    if (const std::string* entries = entry.field("entries")) dead.entries = *entries;
    if (const std::string* attempts = entry.field("attempts"); attempts && !to_integer(*attempts, dead.attempts)) {
        return make_error("dead letter " + entry.id + ": attempts is not a number");
    }
    if (const std::string* time = entry.field("time"); time && !to_integer(*time, dead.time)) {
        return make_error("dead letter " + entry.id + ": time is not a number");
    }
    return dead;
}

std::vector<std::string> build_replay_eval(std::string_view tenant, std::string_view dead_id,
                                           const std::vector<Event>& events, std::size_t cap) {
    std::vector<std::string> args{"EVAL",           std::string(kReplayScript), "2", events_stream_key(tenant),
                                  dead_letter_key(tenant), std::string(dead_id), std::to_string(cap)};
    for (const Event& event : events) {
        // The same text append_event() stores (build_event_xadd's last argument).
        args.push_back(build_event_xadd(event, cap).back());
    }
    return args;
}

}  // namespace tenantmail
