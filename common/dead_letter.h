// dead_letter.h — batches given up after retry_for, kept for the admin in a
// stream per tenant, tm:{TENANT}:events:dead (redis_keys.h), one entry per batch with the
// fields
//   events    the events document that was POSTed ({"events":[...]})
//   error     the last failure ("HTTP 500: ...", "connection refused", ...)
//   attempts  how many POSTs were tried
//   time      Unix seconds when the batch was given up
//   entries   the ids the events had in tm:{TENANT}:events, space-separated
// Moving a batch there and acknowledging it in the events stream happen in
// one Lua script, so a crash never loses it nor keeps it in both places.
// Replaying (tenantmailctl webhooks dead replay) appends the same events,
// with their original event ids, to the events stream and deletes the dead
// entry, again in one script. The stream is capped (MAXLEN ~) like the
// events stream. Pure: builds the commands, parses the entries. Written by
// tenantmail-webhookd, replayed by tenantmailctl.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/events.h"
#include "common/result.h"
#include "common/event_batch.h"
#include "common/redis_keys.h"
#include "common/redis_value.h"

namespace tenantmail {

inline constexpr std::size_t kDeadLetterStreamCap = 10000;

struct DeadLetter {
    std::string id;        // in the dead-letter stream
    std::string document;  // {"events":[...]}
    std::string error;
    std::uint64_t attempts = 0;
    std::int64_t time = 0;
    std::string entries;
};

// EVAL script KEYS[1]=events stream KEYS[2]=dead stream, ARGV: group, cap,
// document, error, attempts, time, then the entry ids to acknowledge.
std::vector<std::string> build_dead_letter_eval(const Batch& batch, std::string_view group, std::string_view error,
                                                std::uint64_t attempts, std::int64_t now_s);

Result<DeadLetter> parse_dead_letter(const StreamEntry& entry);

// EVAL script KEYS[1]=events stream KEYS[2]=dead stream, ARGV: dead entry
// id, events cap, then one event JSON per event. Replies with the number of
// events appended, or -1 when the dead entry no longer exists (replayed
// meanwhile), in which case nothing is appended.
std::vector<std::string> build_replay_eval(std::string_view tenant, std::string_view dead_id,
                                           const std::vector<Event>& events,
                                           std::size_t cap = kDefaultEventsStreamCap);

}  // namespace tenantmail
