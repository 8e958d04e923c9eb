// batch.cpp — see batch.h.
#include "webhookd/batch.h"

#include <algorithm>

#include "webhookd/retry_policy.h"

namespace tenantmail::webhookd {

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

std::string excerpt(std::string_view text, std::size_t max_length) {
    std::string out;
    const std::size_t n = std::min(text.size(), max_length);
    out.reserve(n + 3);
    for (std::size_t i = 0; i < n; ++i) {
        const char c = text[i];
        out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
    }
    if (text.size() > max_length) out += "...";
    return out;
}

}  // namespace tenantmail::webhookd
