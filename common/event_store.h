// event_store.h — appending one event (events.h) to its tenant's stream
// over a blocking RedisClient. The I/O half of the event model, kept apart so
// events.h stays pure. Reports failure so callers can tempfail.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/events.h"
#include "common/redis.h"
#include "common/result.h"

namespace tenantmail {

// Appends; the stream entry id on success, an admin-readable error otherwise.
Result<std::string> append_event(RedisClient& redis, const Event& event,
                                 std::size_t cap = kDefaultEventsStreamCap);

// The events of one message (by queue id) still in its tenant's stream,
// oldest first, for the views: entries from since (Unix seconds: the
// message's time) on, at most max_scanned of them read (the stream is
// capped anyway; a busy tenant's oldest events of a message may be beyond
// it). Entries that do not parse are skipped.
Result<std::vector<Event>> load_message_events(RedisClient& redis, const std::string& tenant,
                                               const std::string& queue_id, std::int64_t since,
                                               std::size_t max_scanned = 20000);

}  // namespace tenantmail
