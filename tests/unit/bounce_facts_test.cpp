// bounce_facts_test.cpp — what a parsed report records: outcomes with
// deterministic event ids, the event details, suppressions for hard bounces
// and complaints only; and the Redis commands for suppression and the
// unparsed stream.
#include "bounce/bounce_facts.h"

#include <gtest/gtest.h>

#include <set>

#include "bounce/bounce_store.h"
#include "bounce_samples.h"
#include "common/suppression_store.h"

namespace tenantmail::bounce {
namespace {

using namespace samples;

// Every address the report names is one of the message's recipients, as
// the message record would list them.
std::vector<std::string> recipients_named(const Report& report) {
    std::vector<std::string> named;
    for (const DsnRecipient& rcpt : report.delivery.recipients) {
        for (const std::string* address : {&rcpt.original_recipient, &rcpt.final_recipient}) {
            if (!address->empty()) named.push_back(normalise_recipient(*address));
        }
    }
    for (const std::string& address : report.feedback.original_rcpt_to) named.push_back(normalise_recipient(address));
    if (!report.original.to.empty()) named.push_back(normalise_recipient(report.original.to));
    return named;
}

ReportContext context_for(const Report& report, std::string_view raw) {
    return ReportContext{"acme", "4F1C2A0B3D", report_reference(report, raw), 1709547400, recipients_named(report),
                         "", 50};
}

Report parsed(std::string_view raw) {
    auto report = parse_report(raw);
    EXPECT_TRUE(report) << report.error();
    return report ? std::move(report).value() : Report{};
}

TEST(BounceFacts, HardBounceIsBouncedWithEventAndSuppression) {
    const Report report = parsed(kPostfixDsn);
    const ReportFacts facts = facts_of(report, context_for(report, kPostfixDsn));
    ASSERT_EQ(facts.facts.size(), 1u);
    EXPECT_TRUE(facts.unusable.empty());
    const RecipientFact& fact = facts.facts[0];
    EXPECT_EQ(fact.outcome.queue_id, "4F1C2A0B3D");
    EXPECT_EQ(fact.outcome.recipient, "nobody@example.org");  // Original-Recipient, lower-cased
    EXPECT_EQ(fact.outcome.status, RecipientStatus::bounced);
    EXPECT_EQ(fact.outcome.reply,
              "smtp; 550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in virtual mailbox "
              "table");
    const Event& event = fact.outcome.event;
    EXPECT_EQ(event.kind, EventKind::bounce);
    EXPECT_EQ(event.tenant, "acme");
    EXPECT_EQ(event.queue_id, "4F1C2A0B3D");
    EXPECT_EQ(event.message_id, "<job-4711@careers.uni.ac.uk>");
    EXPECT_EQ(event.recipient, "nobody@example.org");
    EXPECT_EQ(event.timestamp, 1709547400);
    EXPECT_EQ(event.id.size(), 32u);
    EXPECT_EQ(event.details["status"], "5.1.1");
    EXPECT_EQ(event.details["action"], "failed");
    EXPECT_EQ(event.details["remote_mta"], "mx.example.org");
    EXPECT_EQ(event.details["source"], "dsn");
    EXPECT_EQ(event.details["reporting_mta"], "mx1.example.net");
    ASSERT_TRUE(fact.suppression.has_value());
    EXPECT_EQ(fact.suppression->recipient, "nobody@example.org");
    EXPECT_EQ(fact.suppression->entry.time, 1709547400);
    EXPECT_EQ(fact.suppression->entry.reason.rfind("bounce 5.1.1 smtp; 550 5.1.1", 0), 0u)
        << fact.suppression->entry.reason;
    EXPECT_LE(fact.suppression->entry.reason.size(), 203u);
}

TEST(BounceFacts, SoftBouncesAreDeferredAndNotSuppressed) {
    const Report report = parsed(kExchangeDsn);
    const ReportFacts facts = facts_of(report, context_for(report, kExchangeDsn));
    ASSERT_EQ(facts.facts.size(), 3u);
    std::size_t suppressed = 0;
    for (const RecipientFact& fact : facts.facts) {
        if (fact.outcome.recipient == "carol@contoso.example") {
            EXPECT_EQ(fact.outcome.status, RecipientStatus::deferred);
            EXPECT_EQ(fact.outcome.event.kind, EventKind::soft_bounce);
            EXPECT_EQ(fact.outcome.event.details["status"], "4.4.7");
            EXPECT_FALSE(fact.suppression.has_value());
        } else {
            EXPECT_EQ(fact.outcome.event.kind, EventKind::bounce);
            suppressed += fact.suppression ? 1 : 0;
        }
    }
    EXPECT_EQ(suppressed, 2u);
}

TEST(BounceFacts, DelayWithoutCodeCountsAsTemporary) {
    const std::string raw =
        "From: m@x.example\nMessage-ID: <d@x>\nMIME-Version: 1.0\nContent-Type: multipart/report; "
        "report-type=delivery-status; boundary=b\n\n--b\nContent-Type: message/delivery-status\n\n"
        "Final-Recipient: rfc822; late@example.org\nAction: delayed\n--b--\n";
    const Report report = parsed(raw);
    const ReportFacts facts = facts_of(report, context_for(report, raw));
    ASSERT_EQ(facts.facts.size(), 1u);
    EXPECT_EQ(facts.facts[0].outcome.event.details["status"], "4.0.0");
    EXPECT_EQ(facts.facts[0].outcome.reply, "4.0.0 delayed");
}

TEST(BounceFacts, DeliveredRecipientsAreOnlyLogged) {
    const Report report = parsed(kEximDsn);
    const ReportFacts facts = facts_of(report, context_for(report, kEximDsn));
    ASSERT_EQ(facts.facts.size(), 1u);
    EXPECT_EQ(facts.facts[0].outcome.recipient, "gone@exim.example");
    ASSERT_EQ(facts.ignored.size(), 1u);
    EXPECT_EQ(facts.ignored[0], "here@exim.example delivered");
    EXPECT_TRUE(facts.unusable.empty());
}

TEST(BounceFacts, ReportWithNothingClassifiableIsUnusable) {
    const std::string raw =
        "From: m@x.example\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; "
        "boundary=b\n\n--b\nContent-Type: message/delivery-status\n\n"
        "Final-Recipient: rfc822; a@example.org\nAction: failed\nStatus: garbage\n\n"
        "Final-Recipient: rfc822; not an address\nAction: failed\nStatus: 5.1.1\n--b--\n";
    const Report report = parsed(raw);
    const ReportFacts facts = facts_of(report, context_for(report, raw));
    EXPECT_TRUE(facts.facts.empty());
    EXPECT_EQ(facts.unclassified.size(), 2u);
    EXPECT_EQ(facts.unusable,
              "no recipient of the delivery status could be classified (a@example.org: action \"failed\" with status "
              "\"garbage\")");
}

TEST(BounceFacts, ComplaintNamesOriginalRcptTo) {
    const Report report = parsed(kArfReport);
    const ReportFacts facts = facts_of(report, context_for(report, kArfReport));
    ASSERT_EQ(facts.facts.size(), 1u);
    const RecipientFact& fact = facts.facts[0];
    EXPECT_EQ(fact.outcome.recipient, "reader@yahoo.example");
    EXPECT_EQ(fact.outcome.status, RecipientStatus::complained);
    EXPECT_EQ(fact.outcome.event.kind, EventKind::complaint);
    EXPECT_EQ(fact.outcome.event.message_id, "<news-3@careers.uni.ac.uk>");
    EXPECT_EQ(fact.outcome.event.details["feedback_type"], "abuse");
    EXPECT_EQ(fact.outcome.event.details["user_agent"], "Yahoo!-Mail-Feedback/2.0");
    EXPECT_EQ(fact.outcome.event.details["source_ip"], "192.0.2.10");
    EXPECT_EQ(fact.outcome.event.details["reported_domain"], "careers.uni.ac.uk");
    EXPECT_EQ(fact.outcome.event.details["source"], "arf");
    ASSERT_TRUE(fact.suppression);
    EXPECT_EQ(fact.suppression->entry.reason, "complaint (abuse) from Yahoo!-Mail-Feedback/2.0");
}

TEST(BounceFacts, ComplaintFallsBackToTheOriginalsTo) {
    const Report report = parsed(kArfRedacted);
    const ReportFacts facts = facts_of(report, context_for(report, kArfRedacted));
    ASSERT_EQ(facts.facts.size(), 1u);
    EXPECT_EQ(facts.facts[0].outcome.recipient, "someone@aol.example");
}

TEST(BounceFacts, ComplaintWithoutAnyRecipientIsUnusable) {
    Report report = parsed(kArfRedacted);
    report.original.to.clear();
    const ReportFacts facts = facts_of(report, context_for(report, kArfRedacted));
    EXPECT_TRUE(facts.facts.empty());
    EXPECT_EQ(facts.unusable, "feedback report (abuse) names no recipient");
}

TEST(BounceFacts, NotSpamFeedbackIsOnlyLogged) {
    Report report = parsed(kArfReport);
    report.feedback.feedback_type = "not-spam";
    const ReportFacts facts = facts_of(report, context_for(report, kArfReport));
    EXPECT_TRUE(facts.facts.empty());
    EXPECT_TRUE(facts.unusable.empty());
    ASSERT_EQ(facts.ignored.size(), 1u);
}

TEST(BounceFacts, KnownRecipientsLimitWhatAReportMaySpeakOf) {
    const Report report = parsed(kExchangeDsn);
    ReportContext context = context_for(report, kExchangeDsn);
    context.message_recipients = {"alice@contoso.example", "carol@contoso.example"};
    const ReportFacts facts = facts_of(report, context);
    ASSERT_EQ(facts.facts.size(), 2u);
    EXPECT_EQ(facts.facts[0].outcome.recipient, "alice@contoso.example");
    EXPECT_EQ(facts.facts[1].outcome.recipient, "carol@contoso.example");
    ASSERT_EQ(facts.strangers.size(), 1u);
    EXPECT_EQ(facts.strangers[0], "bob@contoso.example");
    EXPECT_TRUE(facts.unusable.empty());
}

TEST(BounceFacts, FinalRecipientCountsWhenOriginalIsNoRecipient) {
    Report report = parsed(kPostfixDsn);
    ReportContext context = context_for(report, kPostfixDsn);
    report.delivery.recipients[0].original_recipient = "alias@example.org";
    context.message_recipients = {"nobody@example.org"};
    const ReportFacts facts = facts_of(report, context);
    ASSERT_EQ(facts.facts.size(), 1u);
    EXPECT_EQ(facts.facts[0].outcome.recipient, "nobody@example.org");
}

TEST(BounceFacts, ReportOnlyAboutStrangersRecordsNothingAndIsNotUnparsed) {
    const Report report = parsed(kPostfixDsn);
    ReportContext context = context_for(report, kPostfixDsn);
    context.message_recipients = {"someone-else@example.org"};
    const ReportFacts facts = facts_of(report, context);
    EXPECT_TRUE(facts.facts.empty());
    EXPECT_EQ(facts.strangers.size(), 1u);
    EXPECT_TRUE(facts.unusable.empty());

    const Report arf = parsed(kArfReport);
    ReportContext arf_context = context_for(arf, kArfReport);
    arf_context.message_recipients = {"someone-else@example.org"};
    const ReportFacts complaint = facts_of(arf, arf_context);
    EXPECT_TRUE(complaint.facts.empty());
    EXPECT_EQ(complaint.strangers.size(), 2u);  // Original-Rcpt-To, then the original's To
    EXPECT_TRUE(complaint.unusable.empty());
    arf_context.message_recipients = {"reader@yahoo.example"};
    EXPECT_EQ(facts_of(arf, arf_context).facts.size(), 1u);
}

TEST(BounceFacts, WithoutKnownRecipientsNobodyIsRecorded) {
    const Report report = parsed(kExchangeDsn);
    ReportContext context = context_for(report, kExchangeDsn);
    context.message_recipients.clear();
    const ReportFacts facts = facts_of(report, context);
    EXPECT_TRUE(facts.facts.empty());
    EXPECT_EQ(facts.strangers.size(), 3u);
}

TEST(BounceFacts, RecipientsPastTheCapAreOnlyListed) {
    const Report report = parsed(kExchangeDsn);
    ReportContext context = context_for(report, kExchangeDsn);
    context.max_recipients = 1;
    const ReportFacts facts = facts_of(report, context);
    ASSERT_EQ(facts.facts.size(), 1u);
    EXPECT_EQ(facts.facts[0].outcome.recipient, "alice@contoso.example");
    EXPECT_EQ(facts.over_cap, (std::vector<std::string>{"bob@contoso.example", "carol@contoso.example"}));
    EXPECT_TRUE(facts.unusable.empty());

    Report arf = parsed(kArfReport);
    arf.feedback.original_rcpt_to = {"one@yahoo.example", "two@yahoo.example"};
    ReportContext arf_context = context_for(arf, kArfReport);
    arf_context.max_recipients = 1;
    const ReportFacts complaint = facts_of(arf, arf_context);
    EXPECT_EQ(complaint.facts.size(), 1u);
    EXPECT_EQ(complaint.over_cap, (std::vector<std::string>{"two@yahoo.example"}));
}

TEST(BounceFacts, ComplaintAboutAnotherMessageIdIsRefused) {
    const Report arf = parsed(kArfReport);
    ASSERT_FALSE(arf.original.message_id.empty());
    ReportContext context = context_for(arf, kArfReport);
    context.message_id = "<someone-else@acme.example>";
    const ReportFacts refused = facts_of(arf, context);
    EXPECT_TRUE(refused.facts.empty());
    EXPECT_NE(refused.refused.find("someone-else@acme.example"), std::string::npos) << refused.refused;
    context.message_id = " " + arf.original.message_id;
    EXPECT_EQ(facts_of(arf, context).facts.size(), 1u);
    context.message_id.clear();  // a record without Message-ID cannot disagree
    EXPECT_EQ(facts_of(arf, context).facts.size(), 1u);
}

TEST(BounceEventIds, SameFactSameIdAnyChangeAnotherId) {
    const std::string base = fact_event_id("QID1", "a@example.org", EventKind::bounce, "5.1.1", "mid:r1@x");
    EXPECT_EQ(base, fact_event_id("QID1", "a@example.org", EventKind::bounce, "5.1.1", "mid:r1@x"));
    std::set<std::string> ids{base};
    ids.insert(fact_event_id("QID2", "a@example.org", EventKind::bounce, "5.1.1", "mid:r1@x"));
    ids.insert(fact_event_id("QID1", "b@example.org", EventKind::bounce, "5.1.1", "mid:r1@x"));
    ids.insert(fact_event_id("QID1", "a@example.org", EventKind::soft_bounce, "5.1.1", "mid:r1@x"));
    ids.insert(fact_event_id("QID1", "a@example.org", EventKind::bounce, "5.1.2", "mid:r1@x"));
    ids.insert(fact_event_id("QID1", "a@example.org", EventKind::bounce, "5.1.1", "mid:r2@x"));
    // Separators: moving a character between fields is another fact.
    ids.insert(fact_event_id("QID1a", "@example.org", EventKind::bounce, "5.1.1", "mid:r1@x"));
    EXPECT_EQ(ids.size(), 7u);
    for (const std::string& id : ids) EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(BounceEventIds, ReportWithoutMessageIdIsReferencedByItsHash) {
    Report report = parsed(kPostfixDsn);
    EXPECT_EQ(report_reference(report, kPostfixDsn), "mid:20240304101502.7D1A2C0481@mx1.example.net");
    report.message_id.clear();
    const std::string reference = report_reference(report, kPostfixDsn);
    EXPECT_EQ(reference.rfind("sha256:", 0), 0u);
    EXPECT_EQ(reference.size(), 7u + 64u);
    EXPECT_EQ(reference, report_reference(report, kPostfixDsn));
    EXPECT_NE(reference, report_reference(report, kEximDsn));
}

TEST(BounceEventIds, RedeliveredReportGivesTheSameIds) {
    const Report first = parsed(kExchangeDsn);
    const Report again = parsed(kExchangeDsn);
    const ReportFacts a = facts_of(first, context_for(first, kExchangeDsn));
    const ReportFacts b = facts_of(again, ReportContext{"acme", "4F1C2A0B3D", report_reference(again, kExchangeDsn),
                                                        1709999999, recipients_named(again), "", 50});
    ASSERT_EQ(a.facts.size(), b.facts.size());
    std::set<std::string> ids;
    for (std::size_t i = 0; i < a.facts.size(); ++i) {
        EXPECT_EQ(a.facts[i].outcome.event.id, b.facts[i].outcome.event.id);
        ids.insert(a.facts[i].outcome.event.id);
    }
    EXPECT_EQ(ids.size(), 3u);
}

TEST(BounceStore, SuppressionIsHsetnxOfOurJson) {
    const Suppression suppression{"nobody@example.org", {"bounce 5.1.1 user unknown", 1709547400}};
    const auto argv = build_suppression_hsetnx("acme", suppression.recipient, suppression.entry);
    ASSERT_EQ(argv.size(), 4u);
    EXPECT_EQ(argv[0], "HSETNX");
    EXPECT_EQ(argv[1], "tm:{acme}:suppressed");
    EXPECT_EQ(argv[2], "nobody@example.org");
    const SuppressionEntry decoded = decode_suppression(argv[3]);
    EXPECT_EQ(decoded.reason, "bounce 5.1.1 user unknown");
    EXPECT_EQ(decoded.time, 1709547400);
}

TEST(BounceStore, AdmissionIsOneEvalOfTheTokenSetWithCapAndLifetime) {
    const std::string key = token_reports_key("acme", "QID1", 1709547400);
    EXPECT_EQ(key, "tm:{acme}:token:QID1:1709547400:reports");
    const auto argv = build_admit_report(key, "mid:r1@x", 10, 3600);
    ASSERT_EQ(argv.size(), 7u);
    EXPECT_EQ(argv[0], "EVAL");
    EXPECT_NE(argv[1].find("SISMEMBER"), std::string::npos);
    EXPECT_EQ(std::vector<std::string>(argv.begin() + 2, argv.end()),
              (std::vector<std::string>{"1", key, "mid:r1@x", "10", "3600"}));
    EXPECT_EQ(build_admit_report(key, "r", 10, -5).back(), "1");  // never EXPIRE 0 or less
    EXPECT_EQ(bounce_counters_key("beta"), "tm:{beta}:bounce_counters");
}

TEST(BounceStore, UnparsedIsACappedStreamWithTheRawStartReasonAndTime) {
    const std::string raw(64 * 1024 + 1000, 'r');
    const auto argv = build_unparsed_xadd("acme", raw, "not a report", 1709547400, 1000, 64 * 1024);
    const std::vector<std::string> head{"XADD", "tm:{acme}:unparsed", "MAXLEN", "1000", "*", "raw"};
    ASSERT_EQ(argv.size(), 11u);
    EXPECT_EQ(std::vector<std::string>(argv.begin(), argv.begin() + 6), head);
    EXPECT_EQ(argv[6].size(), 64u * 1024);
    EXPECT_EQ(argv[7], "reason");
    EXPECT_EQ(argv[8], "not a report");
    EXPECT_EQ(argv[9], "time");
    EXPECT_EQ(argv[10], "1709547400");
    EXPECT_EQ(unparsed_stream_key("beta"), "tm:{beta}:unparsed");
}

}  // namespace
}  // namespace tenantmail::bounce
