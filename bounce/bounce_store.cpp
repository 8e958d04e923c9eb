// bounce_store.cpp — token admission, counters and the unparsed stream (see bounce_store.h).
#include "bounce/bounce_store.h"

#include "common/text.h"

namespace tenantmail::bounce {
namespace {

// Idempotent per report: a report admitted once is admitted again (Postfix
// retries after a temporary failure), a new one only below the cap, so the
// set never holds more than cap members.
constexpr const char* kAdmitScript =
    "if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 1 end\n"
    "if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end\n"
    "redis.call('SADD', KEYS[1], ARGV[1])\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[3])\n"
    "return 1\n";

}  // namespace

std::vector<std::string> build_unparsed_xadd(std::string_view tenant, std::string_view raw_message,
                                             std::string_view reason, std::int64_t time, std::size_t cap,
                                             std::size_t raw_bytes) {
    // Exact trimming: the stream is small and written rarely, and "~"
    // would keep whole nodes of 100 entries, far past a small cap.
    return {"XADD",
            unparsed_stream_key(tenant),
            "MAXLEN",
            std::to_string(cap),
            "*",
            "raw",
            std::string(raw_message.substr(0, raw_bytes)),
            "reason",
            std::string(reason),
            "time",
            std::to_string(time)};
}

std::vector<std::string> build_admit_report(std::string_view key, std::string_view report_ref, std::size_t cap,
                                            std::int64_t ttl_seconds) {
    return {"EVAL", kAdmitScript, "1", std::string(key), std::string(report_ref), std::to_string(cap),
            std::to_string(ttl_seconds < 1 ? 1 : ttl_seconds)};
}

Result<TokenMessage> token_message(RedisClient& redis, std::string_view tenant, std::string_view queue_id,
                                   std::string_view bounce_address) {
    // Only the milter's record (it always has mail_from) lists every
    // envelope recipient; the minimal one record_outcome creates for an
    // unknown message lists just those reported so far.
    auto loaded = load_messages(redis, tenant, {std::string(queue_id)});
    if (!loaded) return Error{loaded.error()};
    TokenMessage message;
    if (loaded->empty()) return message;
    MessageRecord& record = loaded->front().record;
    if (record.mail_from.empty() || !iequals(record.bounce_address, bounce_address)) return message;
    message.found = true;
    message.message_id = std::move(record.message_id);
    message.recipients = std::move(record.recipients);
    return message;
}

Result<bool> admit_report(RedisClient& redis, std::string_view key, std::string_view report_ref, std::size_t cap,
                          std::int64_t ttl_seconds) {
    auto reply = redis.command(build_admit_report(key, report_ref, cap, ttl_seconds));
    if (!reply) return Error{reply.error()};
    if ((*reply)->type != REDIS_REPLY_INTEGER) return make_error("unexpected reply to the admission script on " +
                                                                 std::string(key));
    return (*reply)->integer == 1;
}

Result<void> count_dropped(RedisClient& redis, std::string_view tenant, std::string_view field) {
    auto reply = redis.command({"HINCRBY", bounce_counters_key(tenant), field, "1"});
    if (!reply) return Error{reply.error()};
    if ((*reply)->type != REDIS_REPLY_INTEGER) return make_error("unexpected reply to HINCRBY " +
                                                                 bounce_counters_key(tenant));
    return {};
}

Result<std::string> store_unparsed(RedisClient& redis, std::string_view tenant, std::string_view raw_message,
                                   std::string_view reason, std::int64_t time, std::size_t cap,
                                   std::size_t raw_bytes) {
    auto reply = redis.command(build_unparsed_xadd(tenant, raw_message, reason, time, cap, raw_bytes));
    if (!reply) return Error{reply.error()};
    const redisReply* r = reply->get();
    if (r->type != REDIS_REPLY_STRING) return make_error("unexpected reply to XADD " + unparsed_stream_key(tenant));
    return std::string(r->str, r->len);
}

}  // namespace tenantmail::bounce
