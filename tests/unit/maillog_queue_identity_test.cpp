// maillog_queue_identity_test.cpp — QueueIdentities: what the follower knows
// of the message a queue id names, learnt from real Postfix lines, forgotten
// when Postfix frees the id or a new message takes it, and bounded.
#include "maillog/queue_identity.h"

#include <gtest/gtest.h>

#include <string>

namespace tenantmail::maillog {
namespace {

constexpr std::int64_t kT = 1700000000;

void feed(QueueIdentities& table, std::string_view text, std::int64_t time) {
    const ParsedLine parsed = parse_maillog_line(text);
    ASSERT_EQ(parsed.kind, LineKind::queue_event) << text;
    table.observe(parsed.queue, time);
}

void feed_message(QueueIdentities& table, std::string_view qid, std::string_view sender, std::string_view mid,
                  std::int64_t time, std::string_view host = "mx1") {
    const std::string prefix = "Nov 23 12:00:00 " + std::string(host) + " postfix/";
    const std::string id(qid);
    feed(table, prefix + "smtpd[1]: " + id + ": client=app.example[192.0.2.9]", time);
    feed(table, prefix + "cleanup[2]: " + id + ": message-id=" + std::string(mid), time);
    feed(table, prefix + "qmgr[3]: " + id + ": from=<" + std::string(sender) + ">, size=900, nrcpt=1 (queue active)",
         time);
}

TEST(QueueIdentity, LearnsSenderMessageIdAndArrivalFromPostfixLines) {
    QueueIdentities table;
    feed_message(table, "3F1C2A4B5C", "bounces+a1@mta.acme.example", "<m1@acme.example>", kT);
    const QueueIdState* state = table.find("mx1", "3F1C2A4B5C", kT);
    ASSERT_NE(state, nullptr);
    EXPECT_TRUE(state->identity.sender_known);
    EXPECT_EQ(state->identity.sender, "bounces+a1@mta.acme.example");
    EXPECT_EQ(state->identity.message_id, "<m1@acme.example>");
    EXPECT_EQ(state->identity.not_before, kT - kSyslogStampSlack);
}

TEST(QueueIdentity, ExactStampsAllowOnlyASecond) {
    QueueIdentities table;
    feed(table, "2026-11-23T12:00:00.5+00:00 mx1 postfix/smtpd[1]: 3F1C2A4B5C: client=app[192.0.2.9]", kT);
    EXPECT_EQ(table.find("mx1", "3F1C2A4B5C", kT)->identity.not_before, kT - kExactStampSlack);
}

TEST(QueueIdentity, RemovedForgetsEverythingIncludingTheTenant) {
    QueueIdentities table;
    feed_message(table, "3F1C2A4B5C", "bounces+a1@mta.acme.example", "<m1@acme.example>", kT);
    table.at("mx1", "3F1C2A4B5C", kT).tenant = "acme";
    feed(table, "Nov 23 12:00:05 mx1 postfix/qmgr[3]: 3F1C2A4B5C: removed", kT + 5);
    EXPECT_EQ(table.find("mx1", "3F1C2A4B5C", kT + 5), nullptr);
    EXPECT_EQ(table.size(), 0u);
    // The next message with that id starts from nothing: no tenant, no sender.
    const QueueIdState& fresh = table.at("mx1", "3F1C2A4B5C", kT + 6);
    EXPECT_EQ(fresh.tenant, "");
    EXPECT_FALSE(fresh.identity.sender_known);
}

TEST(QueueIdentity, ANewMessageTakingTheIdReplacesWhatWasKnown) {
    QueueIdentities table;
    feed_message(table, "3F1C2A4B5C", "bounces+a1@mta.acme.example", "<m1@acme.example>", kT);
    table.at("mx1", "3F1C2A4B5C", kT).tenant = "acme";
    // "removed" never seen (the follower started late, or the line was lost).
    feed(table, "Nov 23 13:00:00 mx1 postfix/smtpd[1]: 3F1C2A4B5C: client=other.example[192.0.2.7]", kT + 3600);
    const QueueIdState* state = table.find("mx1", "3F1C2A4B5C", kT + 3600);
    ASSERT_NE(state, nullptr);
    EXPECT_EQ(state->tenant, "");
    EXPECT_FALSE(state->identity.sender_known);
    EXPECT_EQ(state->identity.message_id, "");
    EXPECT_EQ(state->identity.not_before, kT + 3600 - kSyslogStampSlack);
}

TEST(QueueIdentity, EachHostHasItsOwnQueueIds) {
    QueueIdentities table;
    feed_message(table, "3F1C2A4B5C", "bounces+a1@mta.acme.example", "<m1@acme.example>", kT, "mx1");
    feed_message(table, "3F1C2A4B5C", "root@mx2.example", "<m2@mx2.example>", kT, "mx2");
    EXPECT_EQ(table.find("mx1", "3F1C2A4B5C", kT)->identity.sender, "bounces+a1@mta.acme.example");
    EXPECT_EQ(table.find("mx2", "3F1C2A4B5C", kT)->identity.sender, "root@mx2.example");
}

TEST(QueueIdentity, ARetryRelearnsTheSenderAndKeepsTheArrival) {
    QueueIdentities table;
    feed_message(table, "3F1C2A4B5C", "bounces+a1@mta.acme.example", "<m1@acme.example>", kT);
    feed(table,
         "Nov 23 13:00:00 mx1 postfix/qmgr[3]: 3F1C2A4B5C: from=<bounces+a1@mta.acme.example>, size=900, nrcpt=1 "
         "(queue active)",
         kT + 3600);
    const QueueIdState* state = table.find("mx1", "3F1C2A4B5C", kT + 3600);
    ASSERT_NE(state, nullptr);
    EXPECT_EQ(state->identity.not_before, kT - kSyslogStampSlack);
    EXPECT_EQ(state->identity.message_id, "<m1@acme.example>");
}

TEST(QueueIdentity, SizeIsBoundedLeastRecentlySeenFirst) {
    QueueIdentities table(3, kDefaultQueueIdMaxIdle);
    for (const char* qid : {"AAAAA1", "AAAAA2", "AAAAA3"}) table.at("mx1", qid, kT).tenant = "acme";
    table.at("mx1", "AAAAA1", kT + 1);  // seen again: now the most recent
    table.at("mx1", "AAAAA4", kT + 2);
    EXPECT_EQ(table.size(), 3u);
    EXPECT_NE(table.find("mx1", "AAAAA1", kT + 2), nullptr);
    EXPECT_EQ(table.find("mx1", "AAAAA2", kT + 2), nullptr);
    EXPECT_NE(table.find("mx1", "AAAAA3", kT + 2), nullptr);
}

TEST(QueueIdentity, IdleIdsAreForgotten) {
    QueueIdentities table(100, 600);
    table.at("mx1", "AAAAA1", kT).tenant = "acme";
    table.at("mx1", "AAAAA2", kT + 500).tenant = "beta";
    EXPECT_EQ(table.find("mx1", "AAAAA1", kT + 601), nullptr);
    table.at("mx1", "AAAAA3", kT + 601);
    EXPECT_EQ(table.size(), 2u);
    EXPECT_EQ(table.at("mx1", "AAAAA2", kT + 1000).tenant, "beta");
}

TEST(QueueIdentity, AnIdleIdBehindAFresherOneIsNotReusedEither) {
    QueueIdentities table(100, 600);
    table.at("mx1", "AAAAA1", kT + 100).tenant = "acme";
    table.at("mx1", "AAAAA2", kT).tenant = "beta";  // a line stamped out of order
    EXPECT_EQ(table.at("mx1", "AAAAA2", kT + 650).tenant, "");
    EXPECT_EQ(table.at("mx1", "AAAAA1", kT + 650).tenant, "acme");
}

}  // namespace
}  // namespace tenantmail::maillog
