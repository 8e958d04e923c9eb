// redis_value.cpp — see redis_value.h.
#include "common/redis_value.h"

#include <charconv>

namespace tenantmail {
namespace {

Error shape_error(const char* command, const char* what) {
    return make_error(std::string("unexpected reply to ") + command + " from Redis: " + what);
}

// One entry: [id, [field, value, ...]] or [id, nil] for a trimmed entry.
Result<StreamEntry> parse_entry(const RespValue& value, const char* command) {
    if (!value.is_array() || value.elements.size() != 2 || !value.elements[0].is_text()) {
        return shape_error(command, "an entry is not [id, fields]");
    }
    StreamEntry entry;
    entry.id = value.elements[0].text;
    const RespValue& fields = value.elements[1];
    if (fields.is_nil()) return entry;
    if (!fields.is_array() || fields.elements.size() % 2 != 0) {
        return shape_error(command, "entry fields are not name/value pairs");
    }
    StreamFields pairs;
    for (std::size_t i = 0; i < fields.elements.size(); i += 2) {
        if (!fields.elements[i].is_text() || !fields.elements[i + 1].is_text()) {
            return shape_error(command, "an entry field is not a string");
        }
        pairs.emplace_back(fields.elements[i].text, fields.elements[i + 1].text);
    }
    entry.fields = std::move(pairs);
    return entry;
}

Result<std::vector<StreamEntry>> parse_entries(const RespValue& value, const char* command) {
    if (value.is_nil()) return std::vector<StreamEntry>{};
    if (!value.is_array()) return shape_error(command, "the entries are not a list");
    std::vector<StreamEntry> entries;
    entries.reserve(value.elements.size());
    for (const RespValue& item : value.elements) {
        auto entry = parse_entry(item, command);
        if (!entry) return Error{entry.error()};
        entries.push_back(std::move(*entry));
    }
    return entries;
}

bool to_number(const RespValue& value, long long& out) {
    if (value.type == RespValue::Type::integer) {
        out = value.integer;
        return true;
    }
    if (!value.is_text()) return false;
    const auto [end, ec] = std::from_chars(value.text.data(), value.text.data() + value.text.size(), out);
    return ec == std::errc() && end == value.text.data() + value.text.size();
}

}  // namespace

const std::string* StreamEntry::field(const std::string& name) const {
    if (!fields) return nullptr;
    for (const auto& [key, value] : *fields) {
        if (key == name) return &value;
    }
    return nullptr;
}

Result<std::vector<StreamRead>> parse_read_reply(const RespValue& reply) {
    if (reply.is_nil()) return std::vector<StreamRead>{};
    if (!reply.is_array()) return shape_error("XREADGROUP", "not a list of streams");
    std::vector<StreamRead> reads;
    for (const RespValue& stream : reply.elements) {
        if (!stream.is_array() || stream.elements.size() != 2 || !stream.elements[0].is_text()) {
            return shape_error("XREADGROUP", "a stream is not [key, entries]");
        }
        auto entries = parse_entries(stream.elements[1], "XREADGROUP");
        if (!entries) return Error{entries.error()};
        reads.push_back(StreamRead{stream.elements[0].text, std::move(*entries)});
    }
    return reads;
}

Result<std::vector<StreamEntry>> parse_range_reply(const RespValue& reply) { return parse_entries(reply, "XRANGE"); }

Result<AutoclaimResult> parse_autoclaim_reply(const RespValue& reply) {
    // Redis 6.2: [cursor, entries]; 7.0 and later: [cursor, entries, deleted ids].
    if (!reply.is_array() || reply.elements.size() < 2 || reply.elements.size() > 3 || !reply.elements[0].is_text()) {
        return shape_error("XAUTOCLAIM", "not [cursor, entries, deleted]");
    }
    AutoclaimResult result;
    result.next_cursor = reply.elements[0].text;
    auto entries = parse_entries(reply.elements[1], "XAUTOCLAIM");
    if (!entries) return Error{entries.error()};
    result.entries = std::move(*entries);
    if (reply.elements.size() == 3) {
        const RespValue& deleted = reply.elements[2];
        if (!deleted.is_array()) return shape_error("XAUTOCLAIM", "the deleted ids are not a list");
        for (const RespValue& id : deleted.elements) {
            if (!id.is_text()) return shape_error("XAUTOCLAIM", "a deleted id is not a string");
            result.deleted_ids.push_back(id.text);
        }
    }
    return result;
}

Result<std::vector<PendingEntry>> parse_pending_reply(const RespValue& reply) {
    if (reply.is_nil()) return std::vector<PendingEntry>{};
    if (!reply.is_array()) return shape_error("XPENDING", "not a list");
    std::vector<PendingEntry> pending;
    for (const RespValue& item : reply.elements) {
        long long idle = 0;
        long long deliveries = 0;
        if (!item.is_array() || item.elements.size() != 4 || !item.elements[0].is_text() ||
            !item.elements[1].is_text() || !to_number(item.elements[2], idle) ||
            !to_number(item.elements[3], deliveries) || idle < 0 || deliveries < 0) {
            return shape_error("XPENDING", "an entry is not [id, consumer, idle, deliveries]");
        }
        pending.push_back(PendingEntry{item.elements[0].text, item.elements[1].text, idle,
                                       static_cast<std::uint64_t>(deliveries)});
    }
    return pending;
}

Result<std::vector<ConsumerInfo>> parse_consumers_reply(const RespValue& reply) {
    if (!reply.is_array()) return shape_error("XINFO CONSUMERS", "not a list");
    std::vector<ConsumerInfo> consumers;
    for (const RespValue& item : reply.elements) {
        if (!item.is_array() || item.elements.size() % 2 != 0) {
            return shape_error("XINFO CONSUMERS", "a consumer is not a name/value list");
        }
        ConsumerInfo info;
        bool has_name = false;
        for (std::size_t i = 0; i < item.elements.size(); i += 2) {
            const RespValue& key = item.elements[i];
            const RespValue& value = item.elements[i + 1];
            if (!key.is_text()) return shape_error("XINFO CONSUMERS", "a field name is not a string");
            long long number = 0;
            if (key.text == "name" && value.is_text()) {
                info.name = value.text;
                has_name = true;
            } else if (key.text == "pending" && to_number(value, number) && number >= 0) {
                info.pending = static_cast<std::uint64_t>(number);
            } else if (key.text == "idle" && to_number(value, number)) {
                info.idle_ms = number;
            }
            // Others (inactive, added in 7.2) are not needed.
        }
        if (!has_name) return shape_error("XINFO CONSUMERS", "a consumer has no name");
        consumers.push_back(std::move(info));
    }
    return consumers;
}

std::optional<StreamId> parse_stream_id(std::string_view id) {
    const std::size_t dash = id.find('-');
    const std::string_view ms = id.substr(0, dash);
    if (ms.empty()) return std::nullopt;
    StreamId parsed;
    const auto [end, ec] = std::from_chars(ms.data(), ms.data() + ms.size(), parsed.ms);
    if (ec != std::errc() || end != ms.data() + ms.size() || parsed.ms < 0) return std::nullopt;
    if (dash != std::string_view::npos) {
        const std::string_view seq = id.substr(dash + 1);
        const auto [seq_end, seq_ec] = std::from_chars(seq.data(), seq.data() + seq.size(), parsed.seq);
        if (seq.empty() || seq_ec != std::errc() || seq_end != seq.data() + seq.size()) return std::nullopt;
    }
    return parsed;
}

std::optional<std::int64_t> stream_id_ms(std::string_view id) {
    const auto parsed = parse_stream_id(id);
    if (!parsed) return std::nullopt;
    return parsed->ms;
}

}  // namespace tenantmail
