// bounce_report_parser_test.cpp — whole report messages as Postfix, Exim,
// Gmail, Exchange and feedback loops send them, through GMime to typed
// reports; and malformed or hostile ones, which must fail with a reason
// (never crash, hang or guess).
#include "bounce/report_parser.h"

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <string>

#include "bounce/mime_report.h"
#include "bounce_samples.h"

namespace tenantmail::bounce {
namespace {

using namespace samples;

const DsnRecipient* find_recipient(const Report& report, std::string_view address) {
    for (const DsnRecipient& recipient : report.delivery.recipients) {
        if (recipient.final_recipient == address) return &recipient;
    }
    return nullptr;
}

TEST(BounceReportParser, PostfixHardBounceWithReturnedMessage) {
    const auto report = parse_report(kPostfixDsn);
    ASSERT_TRUE(report) << report.error();
    EXPECT_EQ(report->kind, ReportKind::delivery_status);
    EXPECT_EQ(report->message_id, "20240304101502.7D1A2C0481@mx1.example.net");
    EXPECT_EQ(report->delivery.reporting_mta, "mx1.example.net");
    EXPECT_EQ(report->delivery.envelope_sender, kBounceAddress);
    ASSERT_EQ(report->delivery.recipients.size(), 1u);
    const DsnRecipient& r = report->delivery.recipients[0];
    EXPECT_EQ(r.final_recipient, "nobody@example.org");
    EXPECT_EQ(r.original_recipient, "Nobody@Example.org");
    EXPECT_EQ(r.recipient(), "Nobody@Example.org");
    EXPECT_EQ(r.action, "failed");
    EXPECT_EQ(r.status, "5.1.1");
    EXPECT_EQ(r.remote_mta, "mx.example.org");
    EXPECT_EQ(r.diagnostic,
              "smtp; 550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in virtual mailbox "
              "table");
    EXPECT_EQ(classify(r), DsnClass::bounce);
    EXPECT_TRUE(report->original.present);
    EXPECT_EQ(report->original.message_id, "<job-4711@careers.uni.ac.uk>");
    EXPECT_EQ(report->original.return_path, kBounceAddress);
    EXPECT_EQ(report->original.to, "Nobody@example.org");
    EXPECT_EQ(report->original_sender(), kBounceAddress);
}

TEST(BounceReportParser, SameReportWithCrlfLineEnds) {
    const auto report = parse_report(with_crlf(kPostfixDsn));
    ASSERT_TRUE(report) << report.error();
    ASSERT_EQ(report->delivery.recipients.size(), 1u);
    EXPECT_EQ(report->delivery.recipients[0].status, "5.1.1");
    EXPECT_EQ(report->delivery.recipients[0].diagnostic.find('\r'), std::string::npos);
    EXPECT_EQ(report->original.message_id, "<job-4711@careers.uni.ac.uk>");
}

TEST(BounceReportParser, EximFailedAndDeliveredRecipients) {
    const auto report = parse_report(kEximDsn);
    ASSERT_TRUE(report) << report.error();
    ASSERT_EQ(report->delivery.recipients.size(), 2u);
    const DsnRecipient* gone = find_recipient(*report, "gone@exim.example");
    const DsnRecipient* here = find_recipient(*report, "here@exim.example");
    ASSERT_NE(gone, nullptr);
    ASSERT_NE(here, nullptr);
    EXPECT_EQ(gone->status, "5.0.0");
    EXPECT_EQ(classify(*gone), DsnClass::bounce);
    EXPECT_EQ(gone->diagnostic, "smtp; 550 5.2.1 The email account that you tried to reach is disabled");
    EXPECT_EQ(classify(*here), DsnClass::ignored);
    EXPECT_EQ(report->original.message_id, "<news-1@careers.uni.ac.uk>");
    EXPECT_EQ(report->original.return_path, kBounceAddress);
}

TEST(BounceReportParser, GmailNestedHumanPartAndMultiLineDiagnostic) {
    const auto report = parse_report(kGmailDsn);
    ASSERT_TRUE(report) << report.error();
    ASSERT_EQ(report->delivery.recipients.size(), 1u);
    const DsnRecipient& r = report->delivery.recipients[0];
    EXPECT_EQ(r.final_recipient, "no.such.user@gmail.example");
    EXPECT_EQ(r.status, "5.1.1");
    EXPECT_EQ(r.remote_mta, "gmail-smtp-in.l.google.com. (2001:db8::1b, the server for the domain gmail.example.)");
    EXPECT_EQ(r.diagnostic.rfind("smtp; 550-5.1.1 The email account that you tried to reach does not exist.", 0), 0u)
        << r.diagnostic;
    EXPECT_NE(r.diagnostic.find("550 5.1.1  https://support.google.com/mail/?p=NoSuchUser"), std::string::npos);
    EXPECT_EQ(r.diagnostic.find('\n'), std::string::npos);
    EXPECT_EQ(report->message_id, "65e5a1b2.050a0220.1b2c3.abcdGMR@mx.google.com");
    EXPECT_EQ(report->original.message_id, "<job-4712@careers.uni.ac.uk>");
    EXPECT_EQ(report->original.to, "no.such.user@gmail.example");
}

TEST(BounceReportParser, ExchangeBase64StatusPartWithThreeRecipients) {
    const auto report = parse_report(kExchangeDsn);
    ASSERT_TRUE(report) << report.error();
    ASSERT_EQ(report->delivery.recipients.size(), 3u);
    const DsnRecipient* alice = find_recipient(*report, "alice@contoso.example");
    const DsnRecipient* bob = find_recipient(*report, "bob@contoso.example");
    const DsnRecipient* carol = find_recipient(*report, "carol@contoso.example");
    ASSERT_TRUE(alice && bob && carol);
    EXPECT_EQ(alice->status, "5.1.10");
    EXPECT_EQ(alice->diagnostic,
              "smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient alice@contoso.example not found by SMTP "
              "address lookup");
    EXPECT_EQ(alice->remote_mta, "DB9PR01MB1234.eurprd01.prod.outlook.example");
    EXPECT_EQ(classify(*alice), DsnClass::bounce);
    EXPECT_EQ(bob->status, "5.2.2");
    EXPECT_EQ(bob->diagnostic, "smtp;554 5.2.2 mailbox full; STOREDRV.Delivery.MailboxQuotaExceeded");
    EXPECT_EQ(carol->status, "4.4.7");
    EXPECT_EQ(classify(*carol), DsnClass::soft_bounce);
    EXPECT_EQ(report->delivery.reporting_mta, "DB9PR01MB1234.eurprd01.prod.outlook.example");
    // Return-Path without <> still names the bounce address.
    EXPECT_EQ(report->original.return_path, kBounceAddress);
    EXPECT_EQ(report->original.to, "alice@contoso.example");
}

TEST(BounceReportParser, DelayedReportIsASoftBounce) {
    const auto report = parse_report(kPostfixDelayed);
    ASSERT_TRUE(report) << report.error();
    ASSERT_EQ(report->delivery.recipients.size(), 1u);
    const DsnRecipient& r = report->delivery.recipients[0];
    EXPECT_EQ(r.action, "delayed");
    EXPECT_EQ(r.status, "4.4.1");
    EXPECT_EQ(classify(r), DsnClass::soft_bounce);
    EXPECT_EQ(r.diagnostic,
              "X-Postfix; connect to mx.example.org[192.0.2.25]:25: Connection timed out");
    EXPECT_EQ(report->original.message_id, "<job-4713@careers.uni.ac.uk>");
}

TEST(BounceReportParser, GlobalDeliveryStatusKeepsUtf8) {
    const auto report = parse_report(kGlobalDsn);
    ASSERT_TRUE(report) << report.error();
    ASSERT_EQ(report->delivery.recipients.size(), 1u);
    EXPECT_EQ(report->delivery.recipients[0].final_recipient, "用户@例え.example");
    EXPECT_EQ(classify(report->delivery.recipients[0]), DsnClass::bounce);
    EXPECT_EQ(report->original.message_id, "<global-orig@careers.uni.ac.uk>");
}

TEST(BounceReportParser, ArfFeedbackReport) {
    const auto report = parse_report(kArfReport);
    ASSERT_TRUE(report) << report.error();
    EXPECT_EQ(report->kind, ReportKind::feedback);
    const FeedbackReport& arf = report->feedback;
    EXPECT_EQ(arf.feedback_type, "abuse");
    EXPECT_EQ(arf.user_agent, "Yahoo!-Mail-Feedback/2.0");
    EXPECT_EQ(arf.version, "1");
    EXPECT_EQ(arf.original_mail_from, kBounceAddress);
    ASSERT_EQ(arf.original_rcpt_to.size(), 1u);
    EXPECT_EQ(arf.original_rcpt_to[0], "Reader@yahoo.example");
    EXPECT_EQ(arf.arrival_date, "Mon, 4 Mar 2024 10:40:00 +0000");
    EXPECT_EQ(arf.source_ip, "192.0.2.10");
    EXPECT_EQ(arf.reported_domain, "careers.uni.ac.uk");
    EXPECT_TRUE(is_complaint(arf));
    EXPECT_EQ(report->message_id, "arf-20240304110000.12345@arf.mail.yahoo.example");
    EXPECT_EQ(report->original.message_id, "<news-3@careers.uni.ac.uk>");
    EXPECT_EQ(report->original.to, "reader@yahoo.example");
    EXPECT_EQ(report->original_sender(), kBounceAddress);
}

TEST(BounceReportParser, ArfWithoutRcptToStillHasTheOriginalsTo) {
    const auto report = parse_report(kArfRedacted);
    ASSERT_TRUE(report) << report.error();
    EXPECT_TRUE(report->feedback.original_rcpt_to.empty());
    EXPECT_EQ(report->feedback.arrival_date, "Mon, 4 Mar 2024 10:40:00 +0000");
    EXPECT_EQ(report->original.to, "someone@aol.example");
    EXPECT_EQ(report->original_sender(), kBounceAddress);
}

// --- malformed and hostile input ---------------------------------------------

std::string dsn_with(std::string_view content_type, std::string_view status_part) {
    std::string message =
        "From: MAILER-DAEMON@mx.example.net\nMessage-ID: <m@x>\nMIME-Version: 1.0\nContent-Type: ";
    message += content_type;
    message += "\n\n--b\nContent-Type: text/plain\n\nfailed\n--b\nContent-Type: message/delivery-status\n\n";
    message += status_part;
    message += "\n--b--\n";
    return message;
}

TEST(BounceReportParser, EmptyInputIsRefused) {
    EXPECT_EQ(parse_report("").error(), "empty message");
    EXPECT_EQ(parse_report("\r\n\r\n \n").error(), "empty message");
}

TEST(BounceReportParser, PlainTextBounceIsNotAReport) {
    const auto report = parse_report(
        "From: MAILER-DAEMON@old.example\nSubject: failure notice\n\nHi. This is the qmail-send program.\n"
        "<nobody@example.org>:\nSorry, no mailbox here by that name. (#5.1.1)\n");
    ASSERT_FALSE(report);
    EXPECT_EQ(report.error(), "not a delivery status or feedback report (no multipart/report)");
}

TEST(BounceReportParser, MultipartReportWithoutBoundaryIsRefused) {
    const auto report = parse_report(
        "From: a@b.example\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status\n\n"
        "Final-Recipient: rfc822; x@example.org\nAction: failed\nStatus: 5.1.1\n");
    ASSERT_FALSE(report);
    EXPECT_NE(report.error().find("report"), std::string::npos) << report.error();
}

TEST(BounceReportParser, WrongReportTypeIsRefusedNotGuessed) {
    const std::string mdn =
        "From: reader@example.org\nMIME-Version: 1.0\n"
        "Content-Type: multipart/report; report-type=disposition-notification; boundary=\"b\"\n\n"
        "--b\nContent-Type: text/plain\n\nread\n--b\nContent-Type: message/disposition-notification\n\n"
        "Final-Recipient: rfc822; reader@example.org\nDisposition: manual-action/MDN-sent-manually; displayed\n"
        "--b--\n";
    EXPECT_EQ(parse_report(mdn).error(), "unsupported report-type \"disposition-notification\"");
    // A feedback-report label on a delivery-status part is a contradiction.
    const std::string mislabelled = dsn_with("multipart/report; report-type=feedback-report; boundary=b",
                                             "Final-Recipient: rfc822; x@example.org\nAction: failed\nStatus: 5.1.1");
    EXPECT_EQ(parse_report(mislabelled).error(), "report-type feedback-report without a feedback-report part");
}

TEST(BounceReportParser, MissingReportTypeIsAcceptedWhenThePartSaysWhatItIs) {
    const auto report = parse_report(dsn_with("multipart/report; boundary=b",
                                              "Final-Recipient: rfc822; x@example.org\nAction: failed\nStatus: 5.1.1"));
    ASSERT_TRUE(report) << report.error();
    EXPECT_EQ(report->delivery.recipients.size(), 1u);
}

TEST(BounceReportParser, TruncatedReportsFailOrKeepWhatIsComplete) {
    // Cut inside the status part: the recipient read so far is kept.
    const std::string_view dsn = kPostfixDsn;
    const std::size_t cut = dsn.find("Remote-MTA: dns; mx.example.org");
    const auto partial = parse_report(dsn.substr(0, cut));
    ASSERT_TRUE(partial) << partial.error();
    ASSERT_EQ(partial->delivery.recipients.size(), 1u);
    EXPECT_EQ(partial->delivery.recipients[0].status, "5.1.1");
    EXPECT_FALSE(partial->original.present);
    // Cut before the status part: nothing to read.
    const auto early = parse_report(dsn.substr(0, dsn.find("Content-Description: Delivery report")));
    ASSERT_FALSE(early);
    EXPECT_EQ(early.error(), "report-type delivery-status without its status part");
    // Cut in the middle of the per-message group: no recipient.
    const auto no_recipient = parse_report(dsn.substr(0, dsn.find("Arrival-Date: Mon,  4 Mar")));
    ASSERT_FALSE(no_recipient);
    EXPECT_EQ(no_recipient.error(), "delivery-status part names no recipient");
}

TEST(BounceReportParser, GarbageStatusCodesAreNotInvented) {
    const auto report =
        parse_report(dsn_with("multipart/report; report-type=delivery-status; boundary=b",
                              "Reporting-MTA: dns; mx.example.net\n\n"
                              "Final-Recipient: rfc822; a@example.org\nAction: failed\nStatus: 5.x.1\n\n"
                              "Final-Recipient: rfc822; b@example.org\nAction: failed\nStatus: 9.9.9\n"
                              "Diagnostic-Code: smtp; 550 5.7.1 relaying denied\n\n"
                              "Final-Recipient: rfc822; c@example.org\nAction: failed\nStatus: 5.1.1234\n\n"
                              "Final-Recipient: rfc822; d@example.org\nAction: exploded\nStatus: 5.1.1\n"));
    ASSERT_TRUE(report) << report.error();
    ASSERT_EQ(report->delivery.recipients.size(), 4u);
    const auto& r = report->delivery.recipients;
    EXPECT_EQ(r[0].status, "");
    EXPECT_EQ(r[0].raw_status, "5.x.1");
    EXPECT_EQ(classify(r[0]), DsnClass::unclassified);
    // A garbage Status, but the SMTP reply carries a real code.
    EXPECT_EQ(r[1].status, "5.7.1");
    EXPECT_EQ(classify(r[1]), DsnClass::bounce);
    EXPECT_EQ(r[2].status, "");
    EXPECT_EQ(classify(r[2]), DsnClass::unclassified);
    EXPECT_EQ(classify(r[3]), DsnClass::unclassified);
}

TEST(BounceReportParser, HugeHeadersDoNotStopParsing) {
    std::string message = "From: a@b.example\nX-Junk: ";
    message.append(2 * 1024 * 1024, 'x');
    message += "\n";
    for (int i = 0; i < 20000; ++i) message += "X-Many-" + std::to_string(i) + ": value\n";
    message += std::string(kPostfixDsn).substr(std::string_view(kPostfixDsn).find("MIME-Version"));
    const auto report = parse_report(message);
    ASSERT_TRUE(report) << report.error();
    ASSERT_EQ(report->delivery.recipients.size(), 1u);
    EXPECT_EQ(report->delivery.recipients[0].status, "5.1.1");
}

TEST(BounceReportParser, HugeStatusFieldIsCutNotCopiedWhole) {
    std::string status = "Final-Recipient: rfc822; x@example.org\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: ";
    status.append(1024 * 1024, 'd');
    const auto report = parse_report(dsn_with("multipart/report; report-type=delivery-status; boundary=b", status));
    ASSERT_TRUE(report) << report.error();
    ASSERT_EQ(report->delivery.recipients.size(), 1u);
    EXPECT_LE(report->delivery.recipients[0].diagnostic.size(), 8u * 1024);
    EXPECT_TRUE(report->delivery.truncated);
}

TEST(BounceReportParser, BinaryJunkIsRefused) {
    std::mt19937 random(12345);
    std::string junk(256 * 1024, '\0');
    for (char& c : junk) c = static_cast<char>(random() & 0xff);
    EXPECT_FALSE(parse_report(junk));
    EXPECT_FALSE(parse_report(std::string(1000, '\0')));
}

TEST(BounceReportParser, DeeplyNestedMimeEndsWithoutExhaustingTheStack) {
    std::string message = "From: a@b.example\nMIME-Version: 1.0\n";
    for (int i = 0; i < 20000; ++i) {
        message += "Content-Type: multipart/mixed; boundary=\"n" + std::to_string(i) + "\"\n\n--n" + std::to_string(i) +
                   "\n";
    }
    message += "Content-Type: message/delivery-status\n\nFinal-Recipient: rfc822; x@example.org\nAction: failed\n";
    EXPECT_FALSE(parse_report(message));

    std::string messages = "From: a@b.example\nMIME-Version: 1.0\n";
    for (int i = 0; i < 20000; ++i) messages += "Content-Type: message/rfc822\n\nFrom: x@y.example\n";
    messages += "\nbody\n";
    EXPECT_FALSE(parse_report(messages));
}

TEST(BounceReportParser, MillionsOfEmptyPartsAreNotAllBuilt) {
    // 10 MB of "--b" lines would make GMime build two million objects
    // (gigabytes); only the first kMaxBoundaryLines are given to it.
    std::string message =
        "From: a@b.example\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; "
        "boundary=\"b\"\n\n--b\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; x@example.org\n"
        "Action: failed\nStatus: 5.1.1\n";
    for (int i = 0; i < 2'000'000; ++i) message += "--b\n\n";
    const auto start = std::chrono::steady_clock::now();
    const auto report = parse_report(message);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
    ASSERT_TRUE(report) << report.error();
    EXPECT_EQ(report->delivery.recipients.size(), 1u);
    EXPECT_LT(mime_prefix(message).size(), 20'000u);
    EXPECT_EQ(mime_prefix("no dashes\nat all\n"), "no dashes\nat all\n");
}

TEST(BounceReportParser, ABouncedBounceIsNotReadFromTheReturnedMessage) {
    // Our own DSN came back inside another report's message/rfc822 part:
    // the outer report (a plain multipart/mixed) has no status part, and
    // the inner one must not be taken for it.
    std::string message =
        "From: a@b.example\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"outer\"\n\n"
        "--outer\nContent-Type: text/plain\n\nsee attached\n--outer\nContent-Type: message/rfc822\n\n";
    message += kPostfixDsn;
    message += "\n--outer--\n";
    EXPECT_FALSE(parse_report(message));
}

// Every prefix and a few thousand byte-flipped copies of every sample parse
// (or fail) quickly: the parser has no input that makes it loop or crash.
TEST(BounceReportParser, MutatedSamplesNeverCrashOrHang) {
    const std::string_view all[] = {kPostfixDsn, kEximDsn, kGmailDsn, kExchangeDsn, kPostfixDelayed,
                                    kGlobalDsn,  kArfReport, kArfRedacted};
    std::mt19937 random(4711);
    const auto start = std::chrono::steady_clock::now();
    std::size_t parsed = 0;
    for (const std::string_view sample : all) {
        for (std::size_t cut = 0; cut < sample.size(); cut += 97) parsed += parse_report(sample.substr(0, cut)) ? 1 : 0;
        for (int round = 0; round < 300; ++round) {
            std::string copy(sample);
            for (int flips = 0; flips < 8; ++flips) {
                copy[random() % copy.size()] = static_cast<char>(random() & 0xff);
            }
            parsed += parse_report(copy) ? 1 : 0;
        }
    }
    EXPECT_GT(parsed, 0u);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60));
}

}  // namespace
}  // namespace tenantmail::bounce
