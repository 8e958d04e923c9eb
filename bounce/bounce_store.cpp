// bounce_store.cpp — suppression entries and the unparsed stream (see bounce_store.h).
#include "bounce/bounce_store.h"

namespace tenantmail::bounce {

std::string unparsed_stream_key(std::string_view tenant) {
    std::string key = "tm:{";
    key += tenant;
    key += "}:unparsed";
    return key;
}

std::vector<std::string> build_suppression_hsetnx(std::string_view tenant, const Suppression& suppression) {
    return {"HSETNX", suppression_key(tenant), suppression.recipient, encode_suppression(suppression.entry)};
}

std::vector<std::string> build_unparsed_xadd(std::string_view tenant, std::string_view raw_message,
                                             std::string_view reason, std::int64_t time, std::size_t cap) {
    // Exact trimming: the stream is small and written rarely, and "~"
    // would keep whole nodes of 100 entries, far past a small cap.
    return {"XADD",
            unparsed_stream_key(tenant),
            "MAXLEN",
            std::to_string(cap),
            "*",
            "raw",
            std::string(raw_message.substr(0, kUnparsedRawBytes)),
            "reason",
            std::string(reason),
            "time",
            std::to_string(time)};
}

Result<std::vector<std::string>> message_recipients(RedisClient& redis, std::string_view tenant,
                                                    std::string_view queue_id) {
    // Only the milter's record (it always has mail_from) lists every
    // envelope recipient; the minimal one record_outcome creates for an
    // unknown message lists just those reported so far, and must not make
    // the next report's recipients look like strangers.
    const std::string record = message_key(tenant, queue_id);
    auto complete = redis.command({"HEXISTS", record, "mail_from"});
    if (!complete) return Error{complete.error()};
    if ((*complete)->type != REDIS_REPLY_INTEGER) return make_error("unexpected reply to HEXISTS " + record);
    if ((*complete)->integer == 0) return std::vector<std::string>();
    const std::string key = message_recipients_key(tenant, queue_id);
    auto reply = redis.command({"HKEYS", key});
    if (!reply) return Error{reply.error()};
    const redisReply* r = reply->get();
    if (r->type != REDIS_REPLY_ARRAY) return make_error("unexpected reply to HKEYS " + key + " from Redis");
    std::vector<std::string> recipients;
    recipients.reserve(r->elements);
    for (std::size_t i = 0; i < r->elements; ++i) {
        const redisReply* element = r->element[i];
        if (element->type == REDIS_REPLY_STRING) recipients.emplace_back(element->str, element->len);
    }
    return recipients;
}

Result<bool> add_suppression(RedisClient& redis, std::string_view tenant, const Suppression& suppression) {
    auto reply = redis.command(build_suppression_hsetnx(tenant, suppression));
    if (!reply) return Error{reply.error()};
    if ((*reply)->type != REDIS_REPLY_INTEGER) {
        return make_error("unexpected reply to HSETNX " + suppression_key(tenant) + " from Redis");
    }
    return (*reply)->integer == 1;
}

Result<std::string> store_unparsed(RedisClient& redis, std::string_view tenant, std::string_view raw_message,
                                   std::string_view reason, std::int64_t time, std::size_t cap) {
    auto reply = redis.command(build_unparsed_xadd(tenant, raw_message, reason, time, cap));
    if (!reply) return Error{reply.error()};
    const redisReply* r = reply->get();
    if (r->type != REDIS_REPLY_STRING) return make_error("unexpected reply to XADD " + unparsed_stream_key(tenant));
    return std::string(r->str, r->len);
}

}  // namespace tenantmail::bounce
