// maillog_outcome_test.cpp — from a delivery line to the Outcome that
// record_outcome stores: status and event kind per Postfix status, the
// details, the recipient the record knows, and event ids that are the same
// for the same line (so a re-read line is a duplicate) and differ otherwise.
#include "maillog/maillog_outcome.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace tenantmail::maillog {
namespace {

const std::string kBounced =
    "Nov 23 12:00:03 mta postfix/smtp[1235]: 4Xb2Jk0Qz1z9sR: to=<nobody@example.com>, "
    "relay=mx.example.com[203.0.113.5]:25, delay=1.2, delays=0.1/0.01/0.6/0.5, dsn=5.1.1, "
    "status=bounced (host mx.example.com[203.0.113.5] said: 550 5.1.1 User unknown (in reply to RCPT TO command))";

DeliveryLine parse(const std::string& text) {
    const ParsedLine parsed = parse_maillog_line(text);
    EXPECT_EQ(parsed.kind, LineKind::delivery) << parsed.problem;
    return parsed.delivery;
}

Outcome outcome_of(const std::string& text) {
    const DeliveryLine line = parse(text);
    OutcomeFacts facts;
    facts.tenant = "acme";
    facts.recipient = recorded_recipient(line);
    facts.reply = line.reply;
    facts.timestamp = 1795435203;
    return make_outcome(line, facts);
}

std::string with(std::string text, const std::string& from, const std::string& to) {
    return text.replace(text.find(from), from.size(), to);
}

TEST(MaillogOutcome, StatusesMapToRecipientStatusAndEventKind) {
    EXPECT_EQ(recipient_status_for(DeliveryStatus::sent), RecipientStatus::delivered);
    EXPECT_EQ(event_kind_for(DeliveryStatus::sent), EventKind::delivery);
    EXPECT_EQ(recipient_status_for(DeliveryStatus::deferred), RecipientStatus::deferred);
    EXPECT_EQ(event_kind_for(DeliveryStatus::deferred), EventKind::soft_bounce);
    EXPECT_EQ(recipient_status_for(DeliveryStatus::bounced), RecipientStatus::bounced);
    EXPECT_EQ(event_kind_for(DeliveryStatus::bounced), EventKind::bounce);
    EXPECT_EQ(recipient_status_for(DeliveryStatus::expired), RecipientStatus::bounced);
    EXPECT_EQ(event_kind_for(DeliveryStatus::expired), EventKind::bounce);
}

TEST(MaillogOutcome, BounceCarriesDsnReplyRelayAndSource) {
    const Outcome outcome = outcome_of(kBounced);
    EXPECT_EQ(outcome.queue_id, "4Xb2Jk0Qz1z9sR");
    EXPECT_EQ(outcome.recipient, "nobody@example.com");
    EXPECT_EQ(outcome.status, RecipientStatus::bounced);
    EXPECT_EQ(outcome.reply,
              "host mx.example.com[203.0.113.5] said: 550 5.1.1 User unknown (in reply to RCPT TO command)");
    EXPECT_TRUE(outcome.emit_event);
    const Event& event = outcome.event;
    EXPECT_EQ(event.kind, EventKind::bounce);
    EXPECT_EQ(event.tenant, "acme");
    EXPECT_EQ(event.queue_id, "4Xb2Jk0Qz1z9sR");
    EXPECT_EQ(event.recipient, "nobody@example.com");
    EXPECT_EQ(event.message_id, "");  // filled in by record_outcome's script
    EXPECT_EQ(event.timestamp, 1795435203);
    EXPECT_EQ(event.details,
              (nlohmann::json{{"dsn", "5.1.1"},
                              {"reply", outcome.reply},
                              {"relay", "mx.example.com[203.0.113.5]:25"},
                              {"status", "bounced"},
                              {"source", "maillog"}}));
}

TEST(MaillogOutcome, OrigToIsTheRecordedRecipientAndToIsReportedAsFinal) {
    const Outcome outcome = outcome_of(
        "Nov 23 12:00:05 mta postfix/smtp[9]: 5A3B4C5D6E: to=<jane.doe@example.org>, orig_to=<Jane@Example.ORG>, "
        "relay=mx[192.0.2.1]:25, delay=0.05, delays=0.02/0.01/0.01/0.01, dsn=2.0.0, status=sent (250 ok)");
    EXPECT_EQ(outcome.recipient, "Jane@Example.ORG");
    EXPECT_EQ(outcome.event.kind, EventKind::delivery);
    EXPECT_EQ(outcome.event.details["final_recipient"], "jane.doe@example.org");
}

TEST(MaillogOutcome, QmgrExpiryGivesEachPendingRecipientABounce) {
    const std::string text =
        "Dec 28 13:39:28 mta postfix/qmgr[22753]: C93CEB08A046: from=<bounces+x@acme.example>, status=expired, "
        "returned to sender";
    const DeliveryLine line = parse(text);  // views into text
    OutcomeFacts facts;
    facts.tenant = "acme";
    facts.recipient = "late@example.net";
    facts.reply = "connect to mx.example.net[192.0.2.1]:25: Connection timed out";
    const Outcome outcome = make_outcome(line, facts);
    EXPECT_EQ(outcome.status, RecipientStatus::bounced);
    EXPECT_EQ(outcome.event.kind, EventKind::bounce);
    EXPECT_EQ(outcome.reply, facts.reply);
    EXPECT_EQ(outcome.event.details["dsn"], kExpiredDsn);
    EXPECT_EQ(outcome.event.details["status"], "expired");
    facts.recipient = "other@example.net";
    EXPECT_NE(make_outcome(line, facts).event.id, outcome.event.id);
}

TEST(MaillogOutcome, TruncatedReplyIsMarked) {
    const Outcome outcome = outcome_of(
        "Nov 23 12:00:14 mta postfix/smtp[1]: 4Xb2Jk0Qz1z9sX: to=<a@example.net>, relay=mx[192.0.2.1]:25, "
        "delay=1, delays=0/0/0.5/0.5, dsn=5.1.1, status=bounced (host mx[192.0.2.1] said: 550 5.1.1 Th");
    EXPECT_EQ(outcome.event.details["reply_truncated"], true);
}

TEST(MaillogOutcome, SameLineGivesTheSameIdEveryTime) {
    const std::string id = outcome_of(kBounced).event.id;
    EXPECT_EQ(id.size(), 32u);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
    // A copy of the line read again (another buffer, another process run).
    const std::string copy(kBounced.begin(), kBounced.end());
    EXPECT_EQ(outcome_of(copy).event.id, id);
    // Fields that do not identify the fact do not change the id.
    EXPECT_EQ(outcome_of(with(kBounced, "smtp[1235]", "smtp[77]")).event.id, id);
    EXPECT_EQ(outcome_of(with(kBounced, "delay=1.2", "delay=1.3")).event.id, id);
}

TEST(MaillogOutcome, AnyIdentifyingFieldChangesTheId) {
    std::set<std::string> ids = {outcome_of(kBounced).event.id};
    for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
             {"mta", "mta2"},
             {"4Xb2Jk0Qz1z9sR", "4Xb2Jk0Qz1z9sS"},
             {"nobody@example.com>", "somebody@example.com>"},
             {"Nov 23 12:00:03", "Nov 23 12:00:04"},
             {"dsn=5.1.1", "dsn=5.1.2"},
             {"User unknown", "User unknown!"},
             {"status=bounced", "status=deferred"},
         }) {
        EXPECT_TRUE(ids.insert(outcome_of(with(kBounced, from, to)).event.id).second) << from << " -> " << to;
    }
}

}  // namespace
}  // namespace tenantmail::maillog
