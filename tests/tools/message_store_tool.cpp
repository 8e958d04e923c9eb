// message_store_tool.cpp — drives common/message_store against a real Redis
// for the integration tests, with the exact code the daemons run:
//   message_store_tool PORT store   '{"queue_id":...,"recipients":[...]}'
//   message_store_tool PORT outcome '{"queue_id":...,"status":...,"event":{...}}'
//     with "identity":{"sender":...,"message_id":...,"not_before":N}: the
//     checked form (record_checked_outcome), which may print "refused: WHY"
//     (no "sender" member: sender unknown)
//   message_store_tool PORT tenant  QUEUE_ID
// Prints the result (recorded|duplicate|already_final, or the tenant) and
// exits 0; errors go to stderr with exit status 1. Test-only: not installed.
#include <cstdio>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "common/config.h"
#include "common/message_outcome.h"
#include "common/message_store.h"
#include "common/redis.h"

namespace {

using namespace tenantmail;

std::string str(const nlohmann::json& json, const char* name) { return json.value(name, std::string()); }

int store(RedisClient& redis, const nlohmann::json& json) {
    MessageRecord record;
    record.queue_id = str(json, "queue_id");
    record.message_id = str(json, "message_id");
    record.tenant = str(json, "tenant");
    record.traffic_class = str(json, "class");
    record.mail_from = str(json, "mail_from");
    record.bounce_address = str(json, "bounce_address");
    record.header_from = str(json, "header_from");
    record.header_to = str(json, "header_to");
    record.subject = str(json, "subject");
    record.time = json.value("time", std::int64_t{0});
    record.recipients = json.value("recipients", std::vector<std::string>{});
    const std::chrono::seconds ttl{json.value("ttl", kDefaultRecordTtl.count())};
    auto replies = redis.pipeline(build_store_record(record, ttl));
    if (!replies) {
        std::fprintf(stderr, "%s\n", replies.error().c_str());
        return 1;
    }
    for (const auto& reply : *replies) {
        if (reply->type == REDIS_REPLY_ERROR) {
            std::fprintf(stderr, "Redis: %s\n", reply->str);
            return 1;
        }
    }
    std::puts("stored");
    return 0;
}

int outcome(RedisClient& redis, const nlohmann::json& json) {
    Outcome outcome;
    outcome.queue_id = str(json, "queue_id");
    outcome.recipient = str(json, "recipient");
    const auto status = parse_recipient_status(str(json, "status"));
    if (!status) {
        std::fprintf(stderr, "unknown status\n");
        return 1;
    }
    outcome.status = *status;
    outcome.reply = str(json, "reply");
    outcome.emit_event = json.value("emit_event", true);
    auto event = event_from_json(json.value("event", nlohmann::json::object()));
    if (!event) {
        std::fprintf(stderr, "%s\n", event.error().c_str());
        return 1;
    }
    outcome.event = *event;
    const std::chrono::seconds ttl{json.value("ttl", kDefaultRecordTtl.count())};
    const std::size_t stream_cap = json.value("stream_cap", kDefaultEventsStreamCap);
    Result<OutcomeResult> result = Error{"not run"};
    if (const auto it = json.find("identity"); it != json.end() && it->is_object()) {
        MessageIdentity identity;
        identity.sender_known = it->contains("sender");
        identity.sender = str(*it, "sender");
        identity.message_id = str(*it, "message_id");
        identity.not_before = it->value("not_before", std::int64_t{0});
        auto checked = record_checked_outcome(redis, outcome, identity, ttl, stream_cap);
        if (checked && checked->refused) {
            std::printf("refused: %s\n", checked->refusal.c_str());
            return 0;
        }
        result = checked ? Result<OutcomeResult>(checked->result) : Result<OutcomeResult>(Error{checked.error()});
    } else {
        result = record_outcome(redis, outcome, ttl, stream_cap);
    }
    if (!result) {
        std::fprintf(stderr, "%s\n", result.error().c_str());
        return 1;
    }
    switch (*result) {
        case OutcomeResult::recorded: std::puts("recorded"); break;
        case OutcomeResult::duplicate: std::puts("duplicate"); break;
        case OutcomeResult::already_final: std::puts("already_final"); break;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: message_store_tool PORT store|outcome|tenant ARG\n");
        return 2;
    }
    RedisSettings settings;
    settings.host = "127.0.0.1";
    settings.port = static_cast<std::uint16_t>(std::stoi(argv[1]));
    settings.timeout = std::chrono::milliseconds(2000);
    auto redis = RedisClient::connect(settings, "");
    if (!redis) {
        std::fprintf(stderr, "%s\n", redis.error().c_str());
        return 1;
    }
    const std::string command = argv[2];
    if (command == "tenant") {
        auto tenant = tenant_of_queue_id(*redis, argv[3]);
        if (!tenant) {
            std::fprintf(stderr, "%s\n", tenant.error().c_str());
            return 1;
        }
        std::puts(tenant->c_str());
        return 0;
    }
    const auto json = nlohmann::json::parse(argv[3], nullptr, false);
    if (json.is_discarded() || !json.is_object()) {
        std::fprintf(stderr, "argument is not a JSON object\n");
        return 2;
    }
    if (command == "store") return store(*redis, json);
    if (command == "outcome") return outcome(*redis, json);
    std::fprintf(stderr, "unknown command %s\n", command.c_str());
    return 2;
}
