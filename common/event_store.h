// event_store.h — appending one event (events.h) to its tenant's stream
// over a blocking RedisClient. The I/O half of the event model, kept apart so
// events.h stays pure. Reports failure so callers can tempfail.
#pragma once

#include <cstddef>
#include <string>

#include "common/events.h"
#include "common/redis.h"
#include "common/result.h"

namespace tenantmail {

// Appends; the stream entry id on success, an admin-readable error otherwise.
Result<std::string> append_event(RedisClient& redis, const Event& event,
                                 std::size_t cap = kDefaultEventsStreamCap);

}  // namespace tenantmail
