// event_batch.cpp — see event_batch.h.
#include "common/event_batch.h"

#include "common/printable.h"

namespace tenantmail {

Batch build_batch(std::string_view tenant, const std::vector<StreamEntry>& entries) {
    Batch batch;
    batch.tenant = std::string(tenant);
    StreamId lowest;
    StreamId highest;
    for (const StreamEntry& entry : entries) {
        const std::string* text = entry.field("event");
        if (!entry.fields) {
            batch.rejected.push_back({entry.id, "the entry was trimmed from the stream before it was delivered"});
            continue;
        }
        if (text == nullptr) {
            batch.rejected.push_back({entry.id, "the entry has no \"event\" field"});
            continue;
        }
        const auto json = nlohmann::json::parse(*text, nullptr, false);
        if (json.is_discarded()) {
            batch.rejected.push_back({entry.id, "the event is not valid JSON"});
            continue;
        }
        auto event = event_from_json(json);
        if (!event) {
            batch.rejected.push_back({entry.id, event.error()});
            continue;
        }
        if (event->tenant != tenant) {
            batch.rejected.push_back({entry.id, "the event belongs to tenant \"" + excerpt(event->tenant, 64) + "\""});
            continue;
        }
        const StreamId id = parse_stream_id(entry.id).value_or(StreamId{});
        if (batch.ids.empty() || id < lowest) {
            lowest = id;
            batch.min_id = entry.id;
        }
        if (batch.ids.empty() || id > highest) {
            highest = id;
            batch.max_id = entry.id;
        }
        batch.ids.push_back(entry.id);
        batch.events.push_back(std::move(event).value());
    }
    batch.first_ms = lowest.ms;
    if (!batch.events.empty()) batch.document = events_document(batch.events);
    return batch;
}

}  // namespace tenantmail
