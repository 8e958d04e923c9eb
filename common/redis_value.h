// redis_value.h — Redis replies as plain values, and the parsers for the
// stream commands webhookd and tenantmailctl send (XREADGROUP, XAUTOCLAIM,
// extended XPENDING, XINFO CONSUMERS, XRANGE) and for stream entry ids.
// RespValue is a copy of a reply (RedisClient::call() makes one, redis.h),
// so the parsers are unit-tested on hand-built replies without a server.
// Pure: no hiredis here.
// A reply of an unexpected shape is an error naming the command, never a
// crash: Redis versions differ (XAUTOCLAIM has a third element since 7.0).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace tenantmail {

struct RespValue {
    enum class Type { nil, integer, string, status, error, array };
    Type type = Type::nil;
    long long integer = 0;
    std::string text;  // string, status, error
    std::vector<RespValue> elements;

    static RespValue nil() { return {}; }
    static RespValue of_integer(long long value) { return {Type::integer, value, {}, {}}; }
    static RespValue of_string(std::string value) { return {Type::string, 0, std::move(value), {}}; }
    static RespValue of_error(std::string value) { return {Type::error, 0, std::move(value), {}}; }
    static RespValue of_array(std::vector<RespValue> values) { return {Type::array, 0, {}, std::move(values)}; }

    bool is_nil() const { return type == Type::nil; }
    bool is_array() const { return type == Type::array; }
    bool is_text() const { return type == Type::string || type == Type::status; }
};

using StreamFields = std::vector<std::pair<std::string, std::string>>;

struct StreamEntry {
    std::string id;
    // nullopt: the id is still pending but the entry itself was trimmed
    // from the stream (XADD MAXLEN) or deleted; only its id is left.
    std::optional<StreamFields> fields;

    // The value of field name, or nullptr.
    const std::string* field(const std::string& name) const;
};

struct StreamRead {
    std::string key;
    std::vector<StreamEntry> entries;
};

// XREADGROUP (and XREAD): nil (timed out) is an empty list.
Result<std::vector<StreamRead>> parse_read_reply(const RespValue& reply);

// XRANGE / XREVRANGE: a flat list of entries.
Result<std::vector<StreamEntry>> parse_range_reply(const RespValue& reply);

struct AutoclaimResult {
    std::string next_cursor;  // "0-0" when the whole pending list was scanned
    std::vector<StreamEntry> entries;
    std::vector<std::string> deleted_ids;  // pending ids whose entries are gone (Redis 7 removes them)
};
Result<AutoclaimResult> parse_autoclaim_reply(const RespValue& reply);

struct PendingEntry {
    std::string id;
    std::string consumer;
    std::int64_t idle_ms = 0;
    std::uint64_t deliveries = 0;
};
// XPENDING key group [IDLE ms] start end count [consumer]
Result<std::vector<PendingEntry>> parse_pending_reply(const RespValue& reply);

struct ConsumerInfo {
    std::string name;
    std::uint64_t pending = 0;
    std::int64_t idle_ms = 0;
};
// XINFO CONSUMERS key group: one flat name/value list per consumer.
Result<std::vector<ConsumerInfo>> parse_consumers_reply(const RespValue& reply);

// Stream entry ids.
struct StreamId {
    std::int64_t ms = 0;
    std::uint64_t seq = 0;
    auto operator<=>(const StreamId&) const = default;
};
// "1700000000123-4" -> {1700000000123, 4}; "1700000000123" -> seq 0;
// nullopt when id is not a stream id.
std::optional<StreamId> parse_stream_id(std::string_view id);
// The millisecond part alone.
std::optional<std::int64_t> stream_id_ms(std::string_view id);

}  // namespace tenantmail
