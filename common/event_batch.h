// event_batch.h — turning events-stream entries of one tenant into the body of one POST.
// Each entry's "event" field is parsed (common/events.h) and re-serialised
// with events_document(), so the receiver always gets the one documented
// shape. Entries that cannot be delivered are set apart with a reason: not
// JSON or not an event, an event of another tenant (it must never reach
// this tenant's URL), or an entry trimmed from the stream before delivery.
// Pure. Written by tenantmail-webhookd, read back by tenantmailctl's
// dead-letter commands.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/events.h"
#include "common/redis_value.h"

namespace tenantmail {

struct RejectedEntry {
    std::string id;
    std::string reason;
};

struct Batch {
    std::string tenant;
    std::vector<std::string> ids;  // stream entries behind events, acknowledged together
    std::vector<Event> events;
    std::string document;       // {"events":[...]}
    std::int64_t first_ms = 0;  // time of the oldest entry (its id), 0 when empty
    std::string min_id;         // lowest and highest entry id: the XPENDING range
    std::string max_id;         // that covers the batch
    std::vector<RejectedEntry> rejected;

    bool empty() const { return events.empty(); }
};

Batch build_batch(std::string_view tenant, const std::vector<StreamEntry>& entries);

}  // namespace tenantmail
