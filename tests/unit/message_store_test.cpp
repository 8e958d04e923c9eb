// message_store_test.cpp — message record keys, the commands that store a
// record, the recipient JSON and the outcome script's argv.
#include "common/message_outcome.h"
#include "common/message_store.h"
#include "common/sending_health.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>

namespace tenantmail {
namespace {

MessageRecord sample_record() {
    MessageRecord record;
    record.queue_id = "4F1C2A0B3D";
    record.message_id = "<m1@careers.uni.ac.uk>";
    record.tenant = "acme";
    record.traffic_class = "bulk";
    record.mail_from = "jobs@careers.uni.ac.uk";
    record.bounce_address = "bounces+ABC@mta.careers.uni.ac.uk";
    record.header_from = "Careers <jobs@careers.uni.ac.uk>";
    record.header_to = "student@example.org";
    record.subject = "Fair on Friday";
    record.time = 1700000000;
    record.recipients = {"student@example.org", "other@example.net"};
    return record;
}

Outcome sample_outcome() {
    Outcome outcome;
    outcome.queue_id = "4F1C2A0B3D";
    outcome.recipient = "Student@Example.org";
    outcome.status = RecipientStatus::bounced;
    outcome.reply = "550 5.1.1 user unknown";
    outcome.event.id = "0123456789abcdef0123456789abcdef";
    outcome.event.kind = EventKind::bounce;
    outcome.event.tenant = "acme";
    outcome.event.timestamp = 1700000100;
    outcome.event.details = {{"status", "5.1.1"}};
    return outcome;
}

const std::vector<std::string>* find_command(const std::vector<std::vector<std::string>>& commands,
                                             std::string_view name) {
    for (const auto& command : commands)
        if (!command.empty() && command[0] == name) return &command;
    return nullptr;
}

TEST(MessageStore, KeysCarryTheTenantInAHashTag) {
    EXPECT_EQ(message_key("acme", "4F1C2A0B3D"), "tm:{acme}:msg:4F1C2A0B3D");
    EXPECT_EQ(message_recipients_key("acme", "4F1C2A0B3D"), "tm:{acme}:msg:4F1C2A0B3D:rcpt");
    EXPECT_EQ(message_seen_key("acme", "4F1C2A0B3D"), "tm:{acme}:msg:4F1C2A0B3D:seen");
    EXPECT_EQ(message_index_key("acme"), "tm:{acme}:messages");
    EXPECT_EQ(queue_id_key("4F1C2A0B3D"), "tm:qid:{4F1C2A0B3D}");
}

TEST(MessageStore, StatusNamesRoundTripForEveryStatus) {
    for (const auto status : {RecipientStatus::queued, RecipientStatus::delivered, RecipientStatus::deferred,
                              RecipientStatus::bounced, RecipientStatus::complained, RecipientStatus::blocked}) {
        const auto parsed = parse_recipient_status(recipient_status_name(status));
        ASSERT_TRUE(parsed.has_value());
        EXPECT_EQ(*parsed, status);
    }
    EXPECT_EQ(recipient_status_name(RecipientStatus::complained), "complained");
    EXPECT_FALSE(parse_recipient_status("Delivered").has_value());
    EXPECT_FALSE(parse_recipient_status("").has_value());
}

TEST(MessageStore, StoreRecordIsOneTransactionThenTheQueueIdLookup) {
    const auto commands = build_store_record(sample_record(), std::chrono::hours(24));
    ASSERT_GE(commands.size(), 4u);
    EXPECT_EQ(commands.front(), std::vector<std::string>{"MULTI"});
    EXPECT_EQ(commands[commands.size() - 2], std::vector<std::string>{"EXEC"});
    EXPECT_EQ(commands.back(), (std::vector<std::string>{"SET", "tm:qid:{4F1C2A0B3D}", "acme", "EX", "86400"}));
    // Everything inside the transaction is in the tenant's hash slot.
    for (std::size_t i = 1; i + 2 < commands.size(); ++i) {
        ASSERT_GE(commands[i].size(), 2u);
        const std::size_t key = commands[i][0] == "EVAL" ? 3 : 1;
        ASSERT_GT(commands[i].size(), key);
        EXPECT_EQ(commands[i][key].rfind("tm:{acme}:", 0), 0u) << commands[i][0];
    }
}

TEST(MessageStore, StoreRecordFirstClearsARecordOfAnotherMessageUnderTheQueueId) {
    const auto commands = build_store_record(sample_record(), std::chrono::hours(24));
    ASSERT_GE(commands.size(), 2u);
    const std::vector<std::string> expected{"EVAL",
                                            std::string(replace_other_message_script()),
                                            "3",
                                            "tm:{acme}:msg:4F1C2A0B3D",
                                            "tm:{acme}:msg:4F1C2A0B3D:rcpt",
                                            "tm:{acme}:msg:4F1C2A0B3D:seen",
                                            "bounces+ABC@mta.careers.uni.ac.uk",
                                            "jobs@careers.uni.ac.uk",
                                            "<m1@careers.uni.ac.uk>",
                                            "1700000000"};
    EXPECT_EQ(commands[1], expected);  // right after MULTI, before any write
}

TEST(MessageStore, StoreRecordWritesEveryFieldOfTheMessageHash) {
    const auto commands = build_store_record(sample_record(), std::chrono::hours(24));
    const auto* hset = find_command(commands, "HSET");
    ASSERT_NE(hset, nullptr);
    EXPECT_EQ((*hset)[1], "tm:{acme}:msg:4F1C2A0B3D");
    std::vector<std::pair<std::string, std::string>> fields;
    for (std::size_t i = 2; i + 1 < hset->size(); i += 2) fields.emplace_back((*hset)[i], (*hset)[i + 1]);
    const MessageRecord back = message_record_from_fields(fields);
    const MessageRecord original = sample_record();
    EXPECT_EQ(back.queue_id, original.queue_id);
    EXPECT_EQ(back.message_id, original.message_id);
    EXPECT_EQ(back.tenant, original.tenant);
    EXPECT_EQ(back.traffic_class, "bulk");
    EXPECT_EQ(back.mail_from, original.mail_from);
    EXPECT_EQ(back.bounce_address, original.bounce_address);
    EXPECT_EQ(back.header_from, original.header_from);
    EXPECT_EQ(back.header_to, original.header_to);
    EXPECT_EQ(back.subject, original.subject);
    EXPECT_EQ(back.time, 1700000000);
}

TEST(MessageStore, StoreRecordNeverOverwritesARecipientAnOutcomeAlreadyWrote) {
    const auto commands = build_store_record(sample_record(), std::chrono::hours(24));
    std::size_t hsetnx = 0;
    for (const auto& command : commands) {
        if (command[0] != "HSETNX") continue;
        ++hsetnx;
        ASSERT_EQ(command.size(), 4u);
        EXPECT_EQ(command[1], "tm:{acme}:msg:4F1C2A0B3D:rcpt");
        auto state = decode_recipient_state(command[2], command[3]);
        ASSERT_TRUE(state.ok()) << state.error();
        EXPECT_EQ(state->status, RecipientStatus::queued);
        EXPECT_EQ(state->time, 1700000000);
        ASSERT_EQ(state->history.size(), 1u);
        EXPECT_EQ(state->history[0].status, RecipientStatus::queued);
    }
    EXPECT_EQ(hsetnx, 2u);
}

TEST(MessageStore, StoreRecordExpiresEveryKeyAndTrimsTheIndex) {
    const auto commands = build_store_record(sample_record(), std::chrono::hours(24));
    std::vector<std::string> expired;
    for (const auto& command : commands)
        if (command[0] == "EXPIRE") {
            EXPECT_EQ(command[2], "86400");
            expired.push_back(command[1]);
        }
    std::sort(expired.begin(), expired.end());
    EXPECT_EQ(expired, (std::vector<std::string>{"tm:{acme}:messages", "tm:{acme}:msg:4F1C2A0B3D",
                                                 "tm:{acme}:msg:4F1C2A0B3D:rcpt"}));
    const auto* zadd = find_command(commands, "ZADD");
    ASSERT_NE(zadd, nullptr);
    EXPECT_EQ(*zadd, (std::vector<std::string>{"ZADD", "tm:{acme}:messages", "1700000000", "4F1C2A0B3D"}));
    const auto* trim = find_command(commands, "ZREMRANGEBYSCORE");
    ASSERT_NE(trim, nullptr);
    EXPECT_EQ(*trim, (std::vector<std::string>{"ZREMRANGEBYSCORE", "tm:{acme}:messages", "-inf", "(1699913600"}));
}

TEST(MessageStore, RecipientStateRoundTripsThroughJson) {
    RecipientState state = queued_recipient("a@example.org", 100);
    state.status = RecipientStatus::deferred;
    state.reply = "451 4.7.1 greylisted";
    state.time = 160;
    state.history.push_back({RecipientStatus::deferred, "451 4.7.1 greylisted", 160});
    const std::string text = encode_recipient_state(state);
    const auto json = nlohmann::json::parse(text);
    EXPECT_EQ(json["status"], "deferred");
    EXPECT_EQ(json["reply"], "451 4.7.1 greylisted");
    EXPECT_EQ(json["time"], 160);
    ASSERT_TRUE(json["history"].is_array());
    EXPECT_EQ(json["history"].size(), 2u);
    EXPECT_EQ(json["history"][0]["status"], "queued");

    auto back = decode_recipient_state("a@example.org", text);
    ASSERT_TRUE(back.ok()) << back.error();
    EXPECT_EQ(back->recipient, "a@example.org");
    EXPECT_EQ(back->status, RecipientStatus::deferred);
    EXPECT_EQ(back->reply, "451 4.7.1 greylisted");
    ASSERT_EQ(back->history.size(), 2u);
    EXPECT_EQ(back->history[1].reply, "451 4.7.1 greylisted");
    EXPECT_EQ(back->history[1].time, 160);
}

TEST(MessageStore, RecipientStateFromTheScriptWithEmptyHistoryObjectReadsAsEmpty) {
    // Lua's cjson writes an empty table as {}.
    auto state = decode_recipient_state("a@example.org", R"({"status":"delivered","reply":"250 ok","time":5,"history":{}})");
    ASSERT_TRUE(state.ok()) << state.error();
    EXPECT_EQ(state->status, RecipientStatus::delivered);
    EXPECT_TRUE(state->history.empty());
}

TEST(MessageStore, RecipientStateThatIsNotOursIsAnErrorNamingTheRecipient) {
    auto state = decode_recipient_state("a@example.org", "queued");
    ASSERT_FALSE(state.ok());
    EXPECT_NE(state.error().find("a@example.org"), std::string::npos);
    EXPECT_FALSE(decode_recipient_state("a@example.org", R"({"status":"lost"})").ok());
}

TEST(MessageStore, RecordFromFieldsIgnoresUnknownFieldsAndBadTime) {
    const auto record = message_record_from_fields({{"queue_id", "Q1"}, {"colour", "blue"}, {"time", "x"}});
    EXPECT_EQ(record.queue_id, "Q1");
    EXPECT_EQ(record.time, 0);
}

TEST(MessageOutcome, EvalshaNamesTheTenantsKeysAndNormalisesTheRecipient) {
    const auto argv = build_outcome_evalsha(sample_outcome(), std::chrono::hours(24), 1000);
    ASSERT_EQ(argv.size(), 30u);
    EXPECT_EQ(argv[0], "EVALSHA");
    EXPECT_EQ(argv[1], outcome_script_sha1());
    EXPECT_EQ(argv[1].size(), 40u);
    EXPECT_EQ(argv[2], "6");
    EXPECT_EQ(argv[3], "tm:{acme}:msg:4F1C2A0B3D");
    EXPECT_EQ(argv[4], "tm:{acme}:msg:4F1C2A0B3D:rcpt");
    EXPECT_EQ(argv[5], "tm:{acme}:msg:4F1C2A0B3D:seen");
    EXPECT_EQ(argv[6], "tm:{acme}:events");
    EXPECT_EQ(argv[7], "tm:{acme}:messages");
    EXPECT_EQ(argv[8].rfind("tm:{acme}:health:", 0), 0u);
    EXPECT_EQ(argv[9], "0123456789abcdef0123456789abcdef");
    EXPECT_EQ(argv[10], "student@example.org");
    EXPECT_EQ(argv[11], "bounced");
    EXPECT_EQ(argv[12], "550 5.1.1 user unknown");
    EXPECT_EQ(argv[13], "1700000100");
    EXPECT_EQ(argv[14], std::to_string(kMaxRecipientHistory));
    EXPECT_EQ(argv[15], "86400");
    EXPECT_EQ(argv[16], "1000");
    EXPECT_EQ(argv[18], "4F1C2A0B3D");
    EXPECT_EQ(argv[19], "acme");
    EXPECT_EQ(argv[27], "1");  // bounced is final (kRecipientStatuses)
    EXPECT_EQ(argv[28], std::to_string(kHealthBucketTtl.count()));
    EXPECT_EQ(argv[29], "bounced");  // the health counter it adds to
}

TEST(MessageOutcome, EventJsonGetsQueueIdRecipientAndAMessageIdMarker) {
    const auto argv = build_outcome_evalsha(sample_outcome(), std::chrono::hours(24), 1000);
    const std::string& marker = argv[20];
    const std::string& json_text = argv[17];
    ASSERT_FALSE(marker.empty());
    EXPECT_EQ(marker.front(), '"');
    EXPECT_NE(marker.find("0123456789abcdef0123456789abcdef"), std::string::npos);
    // Exactly where the message_id value is, once.
    EXPECT_NE(json_text.find("\"message_id\":" + marker), std::string::npos);
    EXPECT_EQ(json_text.find(marker), json_text.rfind(marker));
    const auto json = nlohmann::json::parse(json_text);
    EXPECT_EQ(json["queue_id"], "4F1C2A0B3D");
    EXPECT_EQ(json["recipient"], "Student@Example.org");
    EXPECT_EQ(json["kind"], "bounce");
    EXPECT_EQ(json["details"]["status"], "5.1.1");
}

TEST(MessageOutcome, AClaimedMessageIdOnlyStandsInForTheRecords) {
    Outcome outcome = sample_outcome();
    outcome.event.message_id = "<m1@x>";
    const auto argv = build_outcome_evalsha(outcome, std::chrono::hours(24), 1000);
    // Still the marker: the script puts the record's Message-ID there and
    // the claimed one only when the record has none.
    EXPECT_NE(argv[20], "");
    EXPECT_EQ(nlohmann::json::parse(argv[17])["message_id"], argv[20].substr(1, argv[20].size() - 2));
    EXPECT_EQ(argv[21], "<m1@x>");
}

TEST(MessageOutcome, NoEventMeansAnEmptyEventArgument) {
    Outcome outcome = sample_outcome();
    outcome.emit_event = false;
    const auto argv = build_outcome_evalsha(outcome, std::chrono::hours(24), 1000);
    EXPECT_EQ(argv[17], "");
    EXPECT_EQ(argv[20], "");
}

TEST(MessageOutcome, MissingEventIdAndTimeAreFilledIn) {
    Outcome outcome = sample_outcome();
    outcome.event.id.clear();
    outcome.event.timestamp = 0;
    const auto argv = build_outcome_evalsha(outcome, std::chrono::hours(24), 1000);
    EXPECT_EQ(argv[9].size(), 32u);
    EXPECT_GT(std::stoll(argv[13]), 1700000000);
}

TEST(MessageOutcome, InvalidUtf8InTheReplyIsReplaced) {
    Outcome outcome = sample_outcome();
    outcome.reply = "550 bad \xff byte";
    const auto argv = build_outcome_evalsha(outcome, std::chrono::hours(24), 1000);
    EXPECT_EQ(argv[12], "550 bad \xef\xbf\xbd byte");
}

TEST(MessageOutcome, ScriptIsVersionedAndRefreshesEveryExpiry) {
    const std::string_view script = outcome_script();
    EXPECT_EQ(script.rfind("-- tenantmail outcome v5", 0), 0u);
    for (const char* key : {"msg_key", "rcpt_key", "seen_key"}) {
        EXPECT_NE(script.find(std::string("redis.call('EXPIRE', ") + key), std::string_view::npos) << key;
    }
}

TEST(MessageOutcome, WithoutAnIdentityTheScriptChecksNothing) {
    const auto argv = build_outcome_evalsha(sample_outcome(), std::chrono::hours(24), 1000);
    EXPECT_EQ(argv[22], "0");
    EXPECT_EQ(argv[23], "0");
    EXPECT_EQ(argv[26], "0");
}

TEST(MessageOutcome, AnIdentityIsPassedForTheScriptToCompare) {
    MessageIdentity identity;
    identity.sender_known = true;
    identity.sender = "bounces+abc@mta.acme.example";
    identity.message_id = "<m1@acme.example>";
    identity.not_before = 1700000000;
    const auto argv = build_outcome_evalsha(sample_outcome(), std::chrono::hours(24), 1000, &identity);
    ASSERT_EQ(argv.size(), 30u);
    EXPECT_EQ(argv[22], "1");
    EXPECT_EQ(argv[23], "1");
    EXPECT_EQ(argv[24], "bounces+abc@mta.acme.example");
    EXPECT_EQ(argv[25], "<m1@acme.example>");
    EXPECT_EQ(argv[26], "1700000000");
}

TEST(MessageOutcome, TheNullSenderIsAKnownSender) {
    MessageIdentity identity;
    identity.sender_known = true;  // qmgr's from=<>
    const auto argv = build_outcome_evalsha(sample_outcome(), std::chrono::hours(24), 1000, &identity);
    EXPECT_EQ(argv[23], "1");
    EXPECT_EQ(argv[24], "");
}

TEST(MessageOutcome, FinalityComesFromTheStatusTableNotTheScript) {
    Outcome outcome = sample_outcome();
    outcome.status = RecipientStatus::deferred;
    EXPECT_EQ(build_outcome_evalsha(outcome, std::chrono::hours(24), 1000)[27], "0");
    outcome.status = RecipientStatus::complained;
    EXPECT_EQ(build_outcome_evalsha(outcome, std::chrono::hours(24), 1000)[27], "1");
    EXPECT_EQ(outcome_script().find("'bounced'"), std::string_view::npos);
}

TEST(MessageOutcome, TheScriptChecksIdentityBeforeMarkingTheEventSeen) {
    const std::string_view script = outcome_script();
    const std::size_t check = script.find("if ARGV[14] == '1' then");
    const std::size_t seen = script.find("redis.call('SADD', seen_key");
    ASSERT_NE(check, std::string_view::npos);
    ASSERT_NE(seen, std::string_view::npos);
    EXPECT_LT(check, seen);
}

TEST(MessageOutcome, TheQueueIdIsOnlyRefreshedNeverRepointed) {
    const auto argv = build_queue_id_refresh("4F1C2A0B3D", "acme", std::chrono::hours(24));
    ASSERT_EQ(argv.size(), 6u);
    EXPECT_EQ(argv[0], "EVAL");
    EXPECT_EQ(argv[2], "1");
    EXPECT_EQ(argv[3], "tm:qid:{4F1C2A0B3D}");
    EXPECT_EQ(argv[4], "acme");
    EXPECT_EQ(argv[5], "86400");
    EXPECT_EQ(argv[1].find("SET"), std::string::npos);
    EXPECT_NE(argv[1].find("EXPIRE"), std::string::npos);
}

}  // namespace
}  // namespace tenantmail
