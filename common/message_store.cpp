// message_store.cpp — message records: the JSON of a recipient,
// the commands that store a record and the reads behind tenantmailctl's
// views. The outcome script is in message_outcome.cpp.
#include "common/message_store.h"

#include "common/redis.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>

namespace tenantmail {

namespace {

// Text from a DSN or a client may hold bytes that are not UTF-8; JSON must.
constexpr auto kReplaceInvalid = nlohmann::json::error_handler_t::replace;

nlohmann::json step_json(RecipientStatus status, const std::string& reply, std::int64_t time) {
    return {{"status", std::string(recipient_status_name(status))}, {"reply", reply}, {"time", time}};
}

std::string string_member(const nlohmann::json& json, const char* name) {
    const auto it = json.find(name);
    return it != json.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::int64_t integer_member(const nlohmann::json& json, const char* name) {
    const auto it = json.find(name);
    return it != json.end() && it->is_number() ? it->get<std::int64_t>() : 0;
}

std::optional<RecipientStatus> status_member(const nlohmann::json& json) {
    return parse_recipient_status(string_member(json, "status"));
}

std::string reply_text(const redisReply* reply) { return std::string(reply->str, reply->len); }

// HGETALL's flat array of field, value, field, value...
std::vector<std::pair<std::string, std::string>> hash_pairs(const redisReply* reply) {
    std::vector<std::pair<std::string, std::string>> pairs;
    if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) return pairs;
    for (std::size_t i = 0; i + 1 < reply->elements; i += 2) {
        const redisReply* field = reply->element[i];
        const redisReply* value = reply->element[i + 1];
        if (field->type != REDIS_REPLY_STRING || value->type != REDIS_REPLY_STRING) continue;
        pairs.emplace_back(reply_text(field), reply_text(value));
    }
    return pairs;
}

// Recipients from the rcpt hash; a value that is not our JSON (edited by
// hand, or from a future version) is shown as queued rather than hidden.
std::vector<RecipientState> recipients_from_hash(const redisReply* reply) {
    std::vector<RecipientState> recipients;
    for (const auto& [address, value] : hash_pairs(reply)) {
        auto state = decode_recipient_state(address, value);
        if (state) {
            recipients.push_back(std::move(state).value());
        } else {
            RecipientState unknown;
            unknown.recipient = address;
            unknown.reply = value;
            recipients.push_back(std::move(unknown));
        }
    }
    std::sort(recipients.begin(), recipients.end(),
              [](const RecipientState& a, const RecipientState& b) { return a.recipient < b.recipient; });
    return recipients;
}

}  // namespace

std::string_view recipient_status_name(RecipientStatus status) {
    for (const RecipientStatusInfo& info : kRecipientStatuses)
        if (info.status == status) return info.name;
    return "unknown";
}

std::optional<RecipientStatus> parse_recipient_status(std::string_view name) {
    for (const RecipientStatusInfo& info : kRecipientStatuses)
        if (info.name == name) return info.status;
    return std::nullopt;
}

bool is_final_status(RecipientStatus status) {
    for (const RecipientStatusInfo& info : kRecipientStatuses)
        if (info.status == status) return info.is_final;
    return false;
}

RecipientState queued_recipient(std::string recipient, std::int64_t time) {
    RecipientState state;
    state.recipient = std::move(recipient);
    state.status = RecipientStatus::queued;
    state.time = time;
    state.history.push_back({RecipientStatus::queued, "", time});
    return state;
}

std::string encode_recipient_state(const RecipientState& state) {
    nlohmann::json history = nlohmann::json::array();
    for (const auto& step : state.history) history.push_back(step_json(step.status, step.reply, step.time));
    const nlohmann::json json = {{"status", std::string(recipient_status_name(state.status))},
                                 {"reply", state.reply},
                                 {"time", state.time},
                                 {"history", std::move(history)}};
    return json.dump(-1, ' ', false, kReplaceInvalid);
}

Result<RecipientState> decode_recipient_state(std::string_view recipient, std::string_view text) {
    const auto json = nlohmann::json::parse(text, nullptr, false);
    const std::string who(recipient);
    if (json.is_discarded() || !json.is_object()) return make_error("recipient " + who + ": state is not a JSON object");
    const auto status = status_member(json);
    if (!status) return make_error("recipient " + who + ": state has no known status");
    RecipientState state;
    state.recipient = who;
    state.status = *status;
    state.reply = string_member(json, "reply");
    state.time = integer_member(json, "time");
    // The script writes an empty history as {} (Lua cannot tell an empty
    // array from an empty object), so anything but an array reads as empty.
    if (const auto it = json.find("history"); it != json.end() && it->is_array()) {
        for (const auto& step : *it) {
            if (!step.is_object()) continue;
            const auto step_status = status_member(step);
            if (!step_status) continue;
            state.history.push_back({*step_status, string_member(step, "reply"), integer_member(step, "time")});
        }
    }
    return state;
}

MessageRecord message_record_from_fields(const std::vector<std::pair<std::string, std::string>>& fields) {
    MessageRecord record;
    for (const auto& [name, value] : fields) {
        if (name == "queue_id") record.queue_id = value;
        else if (name == "message_id") record.message_id = value;
        else if (name == "tenant") record.tenant = value;
        else if (name == "class") record.traffic_class = value;
        else if (name == "mail_from") record.mail_from = value;
        else if (name == "bounce_address") record.bounce_address = value;
        else if (name == "header_from") record.header_from = value;
        else if (name == "header_to") record.header_to = value;
        else if (name == "subject") record.subject = value;
        else if (name == "time") record.time = std::strtoll(value.c_str(), nullptr, 10);
    }
    return record;
}

namespace {

// A queue id is reused (short ids within minutes): the record already under
// this key may be an earlier message's, whose recipients and seen event ids
// must not become the new message's. A full record (the milter's: it has
// mail_from) with another identity is deleted first; the same identity is
// this record written again (a retried batch), and the minimal record an
// outcome makes when it arrives first has no mail_from: both are merged
// into, as before. Inside MULTI, so nothing can come between.
constexpr std::string_view kReplaceOtherMessageScript = R"lua(-- tenantmail record identity v1
local old = redis.call('HMGET', KEYS[1], 'bounce_address', 'mail_from', 'message_id', 'time')
if not old[2] then return 0 end
if old[1] == ARGV[1] and old[2] == ARGV[2] and old[3] == ARGV[3] and old[4] == ARGV[4] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
return 1
)lua";

}  // namespace

std::string_view replace_other_message_script() { return kReplaceOtherMessageScript; }

std::vector<std::vector<std::string>> build_store_record(const MessageRecord& record, std::chrono::seconds ttl) {
    const std::string& tenant = record.tenant;
    const std::string& qid = record.queue_id;
    const std::string ttl_text = std::to_string(ttl.count());
    const std::string msg = message_key(tenant, qid);
    const std::string rcpt = message_recipients_key(tenant, qid);
    const std::string index = message_index_key(tenant);

    std::vector<std::vector<std::string>> commands;
    commands.push_back({"MULTI"});
    commands.push_back({"EVAL", std::string(kReplaceOtherMessageScript), "3", msg, rcpt, message_seen_key(tenant, qid),
                        record.bounce_address, record.mail_from, record.message_id, std::to_string(record.time)});
    commands.push_back({"HSET", msg, "queue_id", qid, "message_id", record.message_id, "tenant", tenant, "class",
                        record.traffic_class, "mail_from", record.mail_from, "bounce_address", record.bounce_address,
                        "header_from", record.header_from, "header_to", record.header_to, "subject", record.subject,
                        "time", std::to_string(record.time)});
    for (const std::string& recipient : record.recipients) {
        commands.push_back({"HSETNX", rcpt, recipient, encode_recipient_state(queued_recipient(recipient, record.time))});
    }
    commands.push_back({"EXPIRE", msg, ttl_text});
    if (!record.recipients.empty()) commands.push_back({"EXPIRE", rcpt, ttl_text});
    commands.push_back({"ZADD", index, std::to_string(record.time), qid});
    // The index is one per tenant and lives as long as the tenant sends:
    // trimming here keeps it to about one TTL's worth of queue ids.
    commands.push_back({"ZREMRANGEBYSCORE", index, "-inf", "(" + std::to_string(record.time - ttl.count())});
    commands.push_back({"EXPIRE", index, ttl_text});
    commands.push_back({"EXEC"});
    commands.push_back({"SET", queue_id_key(qid), tenant, "EX", ttl_text});
    return commands;
}

Result<std::vector<RecipientState>> load_recipients(RedisClient& redis, std::string_view tenant,
                                                    std::string_view queue_id) {
    auto reply = redis.command({"HGETALL", message_recipients_key(tenant, queue_id)});
    if (!reply) return Error{reply.error()};
    return recipients_from_hash(reply->get());
}

Result<std::vector<std::string>> list_message_ids(RedisClient& redis, std::string_view tenant, std::int64_t since) {
    auto reply = redis.command({"ZRANGEBYSCORE", message_index_key(tenant), std::to_string(since), "+inf"});
    if (!reply) return Error{reply.error()};
    const redisReply* r = reply->get();
    if (r->type != REDIS_REPLY_ARRAY) return make_error("unexpected reply to ZRANGEBYSCORE " + message_index_key(tenant));
    std::vector<std::string> ids;
    for (std::size_t i = 0; i < r->elements; ++i) {
        if (r->element[i]->type == REDIS_REPLY_STRING) ids.push_back(reply_text(r->element[i]));
    }
    return ids;
}

Result<std::vector<StoredMessage>> load_messages(RedisClient& redis, std::string_view tenant,
                                                 const std::vector<std::string>& queue_ids) {
    std::vector<std::vector<std::string>> commands;
    commands.reserve(queue_ids.size() * 2);
    for (const std::string& qid : queue_ids) {
        commands.push_back({"HGETALL", message_key(tenant, qid)});
        commands.push_back({"HGETALL", message_recipients_key(tenant, qid)});
    }
    auto replies = redis.pipeline(commands);
    if (!replies) return Error{replies.error()};
    std::vector<StoredMessage> messages;
    for (std::size_t i = 0; i < queue_ids.size(); ++i) {
        const redisReply* fields = (*replies)[2 * i].get();
        const redisReply* recipients = (*replies)[2 * i + 1].get();
        if (fields->type == REDIS_REPLY_ERROR) return make_error("Redis: " + reply_text(fields));
        if (fields->type != REDIS_REPLY_ARRAY || fields->elements == 0) continue;  // expired or never written
        StoredMessage message;
        message.record = message_record_from_fields(hash_pairs(fields));
        if (message.record.queue_id.empty()) message.record.queue_id = queue_ids[i];
        if (message.record.tenant.empty()) message.record.tenant = std::string(tenant);
        message.recipients = recipients_from_hash(recipients);
        for (const auto& state : message.recipients) message.record.recipients.push_back(state.recipient);
        messages.push_back(std::move(message));
    }
    return messages;
}

}  // namespace tenantmail
