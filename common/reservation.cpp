// reservation.cpp — commit and release of accepted-only reservations (see
// reservation.h).
#include "common/reservation.h"

#include <algorithm>

#include "common/network.h"
#include "common/redis.h"
#include "common/redis_keys.h"
#include "common/redis_script.h"

namespace tenantmail {

namespace {

constexpr std::size_t kMaxPortDigits = 5;

// The keys it takes counts back from are the limit keys the rate script
// wrote: the tenant's, in the same slot as KEYS[1] (hash tag), named in the
// record rather than in KEYS because only the record knows them.
constexpr std::string_view kReservationScript = R"lua(-- tenantmail reservation v1
local queued = {}
for i = 1, #ARGV do queued[ARGV[i]] = true end
local record = redis.call('HGETALL', KEYS[1])
local function recipient_of(field) return string.match(field, '^(.*)\n') or field end
local message_queued = false
for i = 1, #record, 2 do
  if queued[recipient_of(record[i])] then message_queued = true end
end
local kept, released = 0, 0
for i = 1, #record, 2 do
  if queued[recipient_of(record[i])] then
    kept = kept + 1
  else
    released = released + 1
    for kind, key, member in string.gmatch(record[i + 1], '([wWqQ])\t([^\t\n]+)\t([^\n]*)\n') do
      local mine = kind == 'w' or kind == 'q' or not message_queued
      if mine and (kind == 'w' or kind == 'W') then
        redis.call('ZREM', key, member)
      elseif mine then
        local count = tonumber(redis.call('GET', key) or '0')
        if count and count > 0 then redis.call('DECR', key) end
      end
    end
  end
end
redis.call('DEL', KEYS[1])
return {kept, released}
)lua";

const std::string& reservation_script_sha1() {
    static const std::string sha1 = script_sha1(kReservationScript);
    return sha1;
}

bool is_port(std::string_view text) {
    return !text.empty() && text.size() <= kMaxPortDigits &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::string connection_id(std::string_view client_address, std::string_view client_port,
                          std::string_view server_address) {
    const auto client = IpAddress::parse(client_address);
    const auto server = IpAddress::parse(server_address);
    if (!client || !server || !is_port(client_port)) return {};
    return client->to_string() + "," + std::string(client_port) + "," + server->to_string();
}

std::string_view reservation_script() { return kReservationScript; }

std::vector<std::string> build_reservation_commit(std::string_view tenant, std::string_view connection,
                                                  const std::vector<std::string>& queued_recipients) {
    std::vector<std::string> argv{"EVALSHA", reservation_script_sha1(), "1", reservation_key(tenant, connection)};
    argv.insert(argv.end(), queued_recipients.begin(), queued_recipients.end());
    return argv;
}

std::vector<std::string> build_reservation_release(std::string_view tenant, std::string_view connection) {
    return build_reservation_commit(tenant, connection, {});
}

Result<ReservationResult> run_reservation(RedisClient& redis, std::vector<std::string> argv) {
    auto reply = redis.command(argv);
    if (!reply && is_noscript_error(reply.error())) {
        argv[0] = "EVAL";
        argv[1] = std::string(kReservationScript);
        reply = redis.command(argv);
    }
    if (!reply) return Error{reply.error()};
    const redisReply* r = reply->get();
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_INTEGER ||
        r->element[1]->type != REDIS_REPLY_INTEGER) {
        return make_error("unexpected reply from the reservation script");
    }
    return ReservationResult{r->element[0]->integer, r->element[1]->integer};
}

Result<HeldReservations> read_held_reservations(RedisClient& redis, std::string_view tenant) {
    // The pattern: the key prefix with glob characters escaped.
    std::string pattern;
    for (const char c : reservation_key(tenant, "")) {
        if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') pattern += '\\';
        pattern += c;
    }
    pattern += '*';
    HeldReservations held;
    std::string cursor = "0";
    do {
        auto reply = redis.command({"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"});
        if (!reply) return Error{reply.error()};
        const redisReply* r = reply->get();
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING ||
            r->element[1]->type != REDIS_REPLY_ARRAY) {
            return make_error("unexpected reply to SCAN");
        }
        cursor.assign(r->element[0]->str, r->element[0]->len);
        for (std::size_t i = 0; i < r->element[1]->elements; ++i) {
            const redisReply* key = r->element[1]->element[i];
            if (key->type != REDIS_REPLY_STRING) continue;
            auto permits = redis.command({"HLEN", std::string(key->str, key->len)});
            if (!permits) return Error{permits.error()};
            if ((*permits)->type != REDIS_REPLY_INTEGER || (*permits)->integer == 0) continue;  // expired meanwhile
            ++held.connections;
            held.permits += (*permits)->integer;
        }
    } while (cursor != "0" && held.connections < kMaxCountedConnections);
    return held;
}

}  // namespace tenantmail
