// suppression_store.h — writing the per-tenant suppression list
// (suppression.h) over a blocking RedisClient: the I/O half, kept apart so
// suppression.h stays pure. Shared by every program that suppresses on a
// recipient's behalf (tenantmail-bounce for hard bounces, complaints and
// mailto: unsubscribes; tenantmail-trackd for one-click unsubscribes).
// Entries are written with HSETNX: a later fact never overwrites a reason
// set before (by an admin, or by the first bounce). The builders are pure so
// tests read the exact commands; the senders report any Redis failure so the
// caller can tempfail.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/events.h"
#include "common/redis.h"
#include "common/result.h"
#include "common/suppression.h"

namespace tenantmail {

// HSETNX tm:{T}:suppressed RECIPIENT ENTRY-JSON. recipient: normalised.
std::vector<std::string> build_suppression_hsetnx(std::string_view tenant, std::string_view recipient,
                                                  const SuppressionEntry& entry);
// True when the address was added, false when it was already suppressed.
Result<bool> add_suppression(RedisClient& redis, std::string_view tenant, std::string_view recipient,
                             const SuppressionEntry& entry);

// One EVAL: HSETNX the entry and, only when it was added, XADD the event
// (as build_event_xadd writes it) to the tenant's stream. Atomic, so a
// retry after a failure neither loses the event nor reports it twice. Both
// keys carry the tenant's hash tag: one slot.
std::vector<std::string> build_suppress_with_event(std::string_view tenant, std::string_view recipient,
                                                   const SuppressionEntry& entry, const Event& event,
                                                   std::size_t cap = kDefaultEventsStreamCap);
// True when added (and the event appended), false when already suppressed
// (nothing written).
Result<bool> suppress_with_event(RedisClient& redis, std::string_view tenant, std::string_view recipient,
                                 const SuppressionEntry& entry, const Event& event,
                                 std::size_t cap = kDefaultEventsStreamCap);

}  // namespace tenantmail
