// maillog_line_test.cpp — parse_maillog_line on real Postfix log lines
// (every delivery agent, syslog and RFC 3339 stamps, long and short queue
// ids), on the lines around them that report no delivery, and on garbage.
#include "maillog/maillog_line.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace tenantmail::maillog {
namespace {

DeliveryLine delivery(std::string_view text) {
    const ParsedLine parsed = parse_maillog_line(text);
    EXPECT_EQ(parsed.kind, LineKind::delivery) << text << "\nproblem: " << parsed.problem;
    return parsed.delivery;
}

LineKind kind_of(std::string_view text) { return parse_maillog_line(text).kind; }

TEST(MaillogLine, SmtpSentWithLongQueueId) {
    const std::string text =
        "Nov 23 12:00:01 host postfix/smtp[1234]: 4Xb2Jk0Qz1z9sQ: to=<a@example.net>, "
        "relay=mx.example.net[192.0.2.1]:25, delay=0.5, delays=0.1/0/0.2/0.2, dsn=2.0.0, "
        "status=sent (250 2.0.0 Ok: queued as ABC)";
    const DeliveryLine line = delivery(text);
    EXPECT_EQ(line.timestamp, "Nov 23 12:00:01");
    EXPECT_EQ(line.host, "host");
    EXPECT_EQ(line.service, "postfix/smtp");
    EXPECT_EQ(line.queue_id, "4Xb2Jk0Qz1z9sQ");
    EXPECT_EQ(line.recipient, "a@example.net");
    EXPECT_EQ(line.orig_to, "");
    EXPECT_EQ(line.relay, "mx.example.net[192.0.2.1]:25");
    EXPECT_EQ(line.dsn, "2.0.0");
    EXPECT_EQ(line.status, DeliveryStatus::sent);
    EXPECT_EQ(line.status_word, "sent");
    EXPECT_EQ(line.reply, "250 2.0.0 Ok: queued as ABC");
    EXPECT_FALSE(line.reply_truncated);
    EXPECT_FALSE(line.time.absolute);
    EXPECT_EQ(line.time.month, 11);
    EXPECT_EQ(line.time.day, 23);
    EXPECT_EQ(line.time.hour, 12);
    EXPECT_EQ(line.time.second, 1);
}

TEST(MaillogLine, SmtpDeferredWithShortHexQueueIdAndPaddedDay) {
    const DeliveryLine line = delivery(
        "Nov  3 08:05:12 mx1 postfix/smtp[23456]: 3F1C2A4B5C: to=<user@example.org>, relay=none, delay=30, "
        "delays=0.01/0/30/0, dsn=4.4.1, status=deferred (connect to mx.example.org[198.51.100.7]:25: "
        "Connection refused)");
    EXPECT_EQ(line.timestamp, "Nov  3 08:05:12");
    EXPECT_EQ(line.time.day, 3);
    EXPECT_EQ(line.queue_id, "3F1C2A4B5C");
    EXPECT_EQ(line.relay, "none");
    EXPECT_EQ(line.dsn, "4.4.1");
    EXPECT_EQ(line.status, DeliveryStatus::deferred);
    EXPECT_EQ(line.reply, "connect to mx.example.org[198.51.100.7]:25: Connection refused");
}

TEST(MaillogLine, SmtpBouncedReplyKeepsNestedParentheses) {
    const DeliveryLine line = delivery(
        "Nov 23 12:00:03 host postfix/smtp[1235]: 4Xb2Jk0Qz1z9sR: to=<nobody@example.com>, "
        "relay=mx.example.com[203.0.113.5]:25, delay=1.2, delays=0.1/0.01/0.6/0.5, dsn=5.1.1, "
        "status=bounced (host mx.example.com[203.0.113.5] said: 550 5.1.1 <nobody@example.com>: Recipient "
        "address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command))");
    EXPECT_EQ(line.status, DeliveryStatus::bounced);
    EXPECT_EQ(line.dsn, "5.1.1");
    EXPECT_EQ(line.reply,
              "host mx.example.com[203.0.113.5] said: 550 5.1.1 <nobody@example.com>: Recipient address "
              "rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)");
}

TEST(MaillogLine, ReplyWithCommasEqualsSignsAndFakeFieldsStaysWhole) {
    const DeliveryLine line = delivery(
        "Nov 23 12:00:04 host postfix/smtp[1]: 4Xb2Jk0Qz1z9sS: to=<a@example.net>, relay=mx[192.0.2.1]:25, "
        "delay=1, delays=0/0/0.5/0.5, dsn=5.7.1, status=bounced (host mx[192.0.2.1] said: 550-5.7.1 a=b, "
        "status=sent (ok), dsn=2.0.0, to=<x@y> see https://x.example/?a=1,b=2) (in reply to end of DATA "
        "command))");
    EXPECT_EQ(line.status, DeliveryStatus::bounced);
    EXPECT_EQ(line.dsn, "5.7.1");
    EXPECT_EQ(line.recipient, "a@example.net");
    EXPECT_EQ(line.reply,
              "host mx[192.0.2.1] said: 550-5.7.1 a=b, status=sent (ok), dsn=2.0.0, to=<x@y> see "
              "https://x.example/?a=1,b=2) (in reply to end of DATA command)");
}

TEST(MaillogLine, LmtpWithOrigToAndUnixSocketRelay) {
    const DeliveryLine line = delivery(
        "Nov 23 12:00:05 host postfix/lmtp[999]: 5A3B4C5D6E: to=<u@local.example>, orig_to=<alias@local.example>, "
        "relay=mail.local.example[private/dovecot-lmtp], delay=0.05, delays=0.02/0.01/0.01/0.01, dsn=2.0.0, "
        "status=sent (250 2.0.0 <u@local.example> 7hAsL8tOZl+4HwAA1n6M8w Saved)");
    EXPECT_EQ(line.service, "postfix/lmtp");
    EXPECT_EQ(line.recipient, "u@local.example");
    EXPECT_EQ(line.orig_to, "alias@local.example");
    EXPECT_EQ(line.relay, "mail.local.example[private/dovecot-lmtp]");
}

TEST(MaillogLine, LocalVirtualPipeAndErrorAgents) {
    DeliveryLine line = delivery(
        "Nov 23 12:00:06 host postfix/local[1111]: 2B3C4D5E6F: to=<root@mta.example>, orig_to=<postmaster>, "
        "relay=local, delay=0.03, delays=0.01/0.01/0/0.01, dsn=2.0.0, status=sent (delivered to mailbox)");
    EXPECT_EQ(line.service, "postfix/local");
    EXPECT_EQ(line.orig_to, "postmaster");
    EXPECT_EQ(line.reply, "delivered to mailbox");

    line = delivery(
        "Nov 23 12:00:07 host postfix/virtual[1112]: 2B3C4D5E70: to=<v@virt.example>, relay=virtual, delay=0.1, "
        "delays=0.05/0/0/0.05, dsn=2.0.0, status=sent (delivered to maildir)");
    EXPECT_EQ(line.relay, "virtual");

    line = delivery(
        "Nov 23 12:00:08 host postfix/pipe[3333]: 7D8E9F0A1B: to=<u@example.net>, relay=dovecot, delay=0.2, "
        "delays=0.1/0/0/0.1, dsn=2.0.0, status=sent (delivered via dovecot service)");
    EXPECT_EQ(line.service, "postfix/pipe");
    EXPECT_EQ(line.reply, "delivered via dovecot service");

    line = delivery(
        "Nov 23 12:00:09 host postfix/error[2222]: 6C7D8E9F0A: to=<x@example.net>, relay=none, delay=0.1, "
        "delays=0.05/0.05/0/0, dsn=5.0.0, status=bounced (local delivery is disabled)");
    EXPECT_EQ(line.service, "postfix/error");
    EXPECT_EQ(line.status, DeliveryStatus::bounced);
}

TEST(MaillogLine, MultiInstanceAndNestedServiceNames) {
    EXPECT_EQ(delivery("Nov 23 12:00:10 host postfix-out/smtp[7]: 4Xb2Jk0Qz1z9sT: to=<a@example.net>, "
                       "relay=mx[192.0.2.1]:25, conn_use=2, delay=0.4, delays=0/0/0.2/0.2, dsn=2.0.0, "
                       "status=sent (250 ok)")
                  .service,
              "postfix-out/smtp");
    EXPECT_EQ(kind_of("Nov 23 12:00:10 host postfix/submission/smtpd[8]: 4Xb2Jk0Qz1z9sT: client=app[192.0.2.9], "
                      "sasl_method=PLAIN, sasl_username=acme-bulk"),
              LineKind::queue_event);
}

QueueEvent queue_event(std::string_view text) {
    const ParsedLine parsed = parse_maillog_line(text);
    EXPECT_EQ(parsed.kind, LineKind::queue_event) << text << "\nproblem: " << parsed.problem;
    return parsed.queue;
}

TEST(MaillogLine, SmtpdAndPickupLinesSayANewMessageTookTheQueueId) {
    const QueueEvent smtpd = queue_event(
        "Nov 23 12:00:00 host postfix/submission/smtpd[100]: 3F1C2A4B5C: client=app.example[192.0.2.9], "
        "sasl_method=PLAIN, sasl_username=acme-bulk");
    EXPECT_EQ(smtpd.kind, QueueEventKind::received);
    EXPECT_EQ(smtpd.queue_id, "3F1C2A4B5C");
    EXPECT_EQ(smtpd.host, "host");
    EXPECT_EQ(smtpd.time.hour, 12);
    const QueueEvent pickup = queue_event("Nov 23 12:00:00 host postfix/pickup[99]: 3F1C2A4B5C: uid=0 from=<root>");
    EXPECT_EQ(pickup.kind, QueueEventKind::received);
}

TEST(MaillogLine, CleanupLogsTheMessageIdAsItIs) {
    const QueueEvent event = queue_event(
        "2026-11-23T12:00:00.123456+00:00 host postfix/cleanup[101]: 3F1C2A4B5C: message-id=<m1@acme.example>");
    EXPECT_EQ(event.kind, QueueEventKind::message_id);
    EXPECT_EQ(event.value, "<m1@acme.example>");
    EXPECT_TRUE(event.time.absolute);
    EXPECT_EQ(queue_event("Nov 23 12:00:00 host postfix/cleanup[101]: 3F1C2A4B5C: message-id=<>").value, "");
}

TEST(MaillogLine, QmgrQueueActiveLineNamesTheEnvelopeSender) {
    const QueueEvent event = queue_event(
        "Nov 23 12:00:00 host postfix/qmgr[102]: 3F1C2A4B5C: from=<bounces+afvq@mta.acme.example>, size=1234, "
        "nrcpt=2 (queue active)");
    EXPECT_EQ(event.kind, QueueEventKind::queued);
    EXPECT_EQ(event.value, "bounces+afvq@mta.acme.example");
    const QueueEvent null_sender =
        queue_event("Nov 23 12:00:00 host postfix/qmgr[102]: 3F1C2A4B5C: from=<>, size=900, nrcpt=1 (queue active)");
    EXPECT_EQ(null_sender.value, "");
    const QueueEvent quoted = queue_event(
        "Nov 23 12:00:00 host postfix/qmgr[102]: 3F1C2A4B5C: from=<\"a>, size=1\"@acme.example>, size=9, "
        "nrcpt=1 (queue active)");
    EXPECT_EQ(quoted.value, "\"a>, size=1\"@acme.example");
}

TEST(MaillogLine, RemovedFreesTheQueueId) {
    const QueueEvent qmgr = queue_event("Nov 23 12:00:02 host postfix/qmgr[102]: 3F1C2A4B5C: removed");
    EXPECT_EQ(qmgr.kind, QueueEventKind::removed);
    EXPECT_EQ(queue_event("Nov 23 12:00:02 host postfix/postsuper[7]: 3F1C2A4B5C: removed").kind,
              QueueEventKind::removed);
}

TEST(MaillogLine, QmgrExpiryIsAPerMessageDelivery) {
    const DeliveryLine line = delivery(
        "Dec 28 13:39:28 mx postfix/qmgr[22753]: C93CEB08A046: from=<ina@somedomain.com>, status=expired, "
        "returned to sender");
    EXPECT_EQ(line.status, DeliveryStatus::expired);
    EXPECT_EQ(line.recipient, "");
    EXPECT_EQ(line.sender, "ina@somedomain.com");
    EXPECT_EQ(line.reply, "returned to sender");
    EXPECT_EQ(line.dsn, "");
    // The null sender too.
    EXPECT_EQ(delivery("Dec 28 13:39:28 mx postfix/qmgr[22753]: C93CEB08A047: from=<>, status=expired, returned "
                       "to sender")
                  .sender,
              "");
}

TEST(MaillogLine, PerRecipientExpiry) {
    const DeliveryLine line = delivery(
        "Nov 23 12:00:11 host postfix/error[5]: 4Xb2Jk0Qz1z9sU: to=<late@example.net>, relay=none, "
        "delay=432000, delays=432000/0/0/0, dsn=4.4.1, status=expired, returned to sender");
    EXPECT_EQ(line.status, DeliveryStatus::expired);
    EXPECT_EQ(line.recipient, "late@example.net");
    EXPECT_EQ(line.reply, "returned to sender");
}

TEST(MaillogLine, SoftBounceIsDeferred) {
    const DeliveryLine line = delivery(
        "Nov 23 12:00:12 host postfix/smtp[5]: 4Xb2Jk0Qz1z9sV: to=<a@example.net>, relay=mx[192.0.2.1]:25, "
        "delay=1, delays=0/0/0.5/0.5, dsn=5.1.1, status=SOFTBOUNCE (host mx said: 550 5.1.1 unknown (in reply "
        "to RCPT TO command))");
    EXPECT_EQ(line.status, DeliveryStatus::deferred);
    EXPECT_EQ(line.status_word, "SOFTBOUNCE");
}

TEST(MaillogLine, Rfc3339TimestampsAreAbsolute) {
    DeliveryLine line = delivery(
        "2026-11-23T12:00:01.123456+00:00 host postfix/smtp[1234]: 4Xb2Jk0Qz1z9sQ: to=<a@example.net>, "
        "relay=mx[192.0.2.1]:25, delay=0.5, delays=0.1/0/0.2/0.2, dsn=2.0.0, status=sent (250 ok)");
    EXPECT_EQ(line.timestamp, "2026-11-23T12:00:01.123456+00:00");
    EXPECT_TRUE(line.time.absolute);
    EXPECT_EQ(line.time.unix_seconds, 1795435201);

    line = delivery(
        "2026-11-23T13:00:01+01:00 host postfix/smtp[1234]: 4Xb2Jk0Qz1z9sQ: to=<a@example.net>, "
        "relay=mx[192.0.2.1]:25, delay=0.5, delays=0.1/0/0.2/0.2, dsn=2.0.0, status=sent (250 ok)");
    EXPECT_EQ(line.time.unix_seconds, 1795435201);

    line = delivery(
        "2026-11-23T11:00:01Z host postfix/smtp[1234]: 4Xb2Jk0Qz1z9sQ: to=<a@example.net>, "
        "relay=mx[192.0.2.1]:25, delay=0.5, delays=0.1/0/0.2/0.2, dsn=2.0.0, status=sent (250 ok)");
    EXPECT_EQ(line.time.unix_seconds, 1795431601);
}

TEST(MaillogLine, SyslogStampWithFractionAndLineWithCrLf) {
    const DeliveryLine line = delivery(
        "Nov 23 12:00:01.654321 host postfix/smtp[1]: 4Xb2Jk0Qz1z9sQ: to=<a@example.net>, relay=none, delay=1, "
        "delays=0/0/1/0, dsn=4.4.1, status=deferred (connect to mx[192.0.2.1]:25: Connection timed out)\r");
    EXPECT_EQ(line.timestamp, "Nov 23 12:00:01.654321");
    EXPECT_EQ(line.reply, "connect to mx[192.0.2.1]:25: Connection timed out");
}

TEST(MaillogLine, QuotedRecipientCannotForgeFields) {
    const DeliveryLine line = delivery(
        "Nov 23 12:00:13 host postfix/smtp[1]: 4Xb2Jk0Qz1z9sW: to=<\"a>, status=sent (x), dsn=2.0.0\"@example.net>, "
        "relay=mx[192.0.2.1]:25, delay=1, delays=0/0/0.5/0.5, dsn=5.1.1, status=bounced (550 5.1.1 no such user)");
    EXPECT_EQ(line.recipient, "\"a>, status=sent (x), dsn=2.0.0\"@example.net");
    EXPECT_EQ(line.status, DeliveryStatus::bounced);
    EXPECT_EQ(line.dsn, "5.1.1");
    // An escaped quote inside the quoted local part does not end it.
    EXPECT_EQ(delivery("Nov 23 12:00:13 host postfix/smtp[1]: 4Xb2Jk0Qz1z9sW: to=<\"a\\\">b\"@example.net>, "
                       "relay=none, delay=1, delays=0/0/1/0, dsn=4.4.1, status=deferred (timeout)")
                  .recipient,
              "\"a\\\">b\"@example.net");
}

TEST(MaillogLine, ReplyCutOffBySyslogIsKeptAndMarked) {
    const DeliveryLine line = delivery(
        "Nov 23 12:00:14 host postfix/smtp[1]: 4Xb2Jk0Qz1z9sX: to=<a@example.net>, relay=mx[192.0.2.1]:25, "
        "delay=1, delays=0/0/0.5/0.5, dsn=5.1.1, status=bounced (host mx[192.0.2.1] said: 550 5.1.1 Th");
    EXPECT_EQ(line.reply, "host mx[192.0.2.1] said: 550 5.1.1 Th");
    EXPECT_TRUE(line.reply_truncated);
}

TEST(MaillogLine, LinesAroundDeliveriesAreNotDeliveries) {
    for (const char* text : {
             "Nov 23 12:00:00 host postfix/smtpd[100]: connect from app.example[192.0.2.9]",
             "Nov 23 12:00:00 host postfix/cleanup[101]: 4Xb2Jk0Qz1z9sQ: resent-message-id=<r1@acme.example>",
             "Nov 23 12:00:00 host postfix/pickup[99]: 4Xb2Jk0Qz1z9sQ: uid=root from=<root>",
             "Nov 23 12:00:02 host postfix/qmgr[102]: 4Xb2Jk0Qz1z9sQ: removed for good",
             "Nov 23 12:00:02 host postfix/bounce[103]: 4Xb2Jk0Qz1z9sQ: sender non-delivery notification: "
             "4Xb2Jk0Qz1z9sZ",
             "Nov 23 12:00:02 host postfix/smtpd[100]: NOQUEUE: reject: RCPT from app[192.0.2.9]: 554 5.7.1 "
             "<x@y>: Relay access denied; from=<a@b> to=<x@y> proto=ESMTP helo=<app>",
             "Nov 23 12:00:02 host postfix/smtp[104]: warning: TLS library problem: error:0A000126",
             "Nov 23 12:00:02 host postfix/smtp[104]: 4Xb2Jk0Qz1z9sQ: host mx[192.0.2.1] said: 450 4.2.0 try "
             "later (in reply to RCPT TO command)",
             "Nov 23 12:00:02 host postfix/smtp[104]: 4Xb2Jk0Qz1z9sQ: to=<a@example.net>, relay=mx[192.0.2.1]:25, "
             "delay=1, delays=0/0/0.5/0.5, dsn=2.1.5, status=deliverable (250 2.1.5 Ok)",
             "Nov 23 12:00:02 host postfix/smtp[104]: 4Xb2Jk0Qz1z9sQ: to=<a@example.net>, relay=none, delay=1, "
             "delays=0/0/1/0, dsn=5.1.1, status=undeliverable (unknown user)",
             "Nov 23 12:00:02 host postfix/postfix-script[9360]: starting the Postfix mail system",
             "Nov 23 12:00:02 host postfix/master[9362]: daemon started -- version 3.7.11",
             "Nov 23 12:00:02 host kernel: [12345.678] eth0: link up",
             "Nov 23 12:00:02 host last message repeated 3 times",
         }) {
        EXPECT_EQ(kind_of(text), LineKind::other) << text;
    }
}

constexpr char kNulLine[] = "to=<a@exa\0mple.net>, relay=none, dsn=2.0.0, status=sent (ok)";

TEST(MaillogLine, MalformedLinesAreRejectedWithAReason) {
    const std::string good_prefix = "Nov 23 12:00:01 host postfix/smtp[1]: 4Xb2Jk0Qz1z9sQ: ";
    const struct {
        std::string text;
        std::string_view problem;
    } cases[] = {
        {"", "no timestamp"},
        {"garbage", "no timestamp"},
        {"Foo 23 12:00:01 host postfix/smtp[1]: x", "no timestamp"},
        {"Nov 32 12:00:01 host postfix/smtp[1]: x", "no timestamp"},
        {"Nov 23 25:00:01 host postfix/smtp[1]: x", "no timestamp"},
        {"2026-13-01T00:00:00Z host postfix/smtp[1]: x", "bad RFC 3339 timestamp"},
        {"2026-11-23T12:00:01+0100 host postfix/smtp[1]: x", "bad RFC 3339 timestamp"},
        {"Nov 23 12:00:01", "no host after the timestamp"},
        {"Nov 23 12:00:01 ", "no host after the timestamp"},
        {good_prefix + "to=<a@example.net", "unterminated to=<"},
        {good_prefix + "to=<>, relay=none, dsn=5.0.0, status=bounced (x)", "empty to=<>"},
        {good_prefix + "to=<a@example.net>, relay=none, delay=1", "status line without status="},
        {good_prefix + "to=<a@example.net>, relay=none, delay=1, delays=0/0/1/0, status=sent (ok)",
         "status line without dsn="},
        {good_prefix + "to=<a@example.net>, dsn=2.0.0, status=sent (ok)", "status line without relay="},
        {good_prefix + "to=<a@example.net>, relay=none, dsn=2.0, status=sent (ok)",
         "dsn= is not an enhanced status code"},
        {good_prefix + "to=<a@example.net>, relay=none, dsn=9.9.9, status=sent (ok)",
         "dsn= is not an enhanced status code"},
        {good_prefix + "to=<a@example.net>, relay=none, dsn=2.0.0, status=", "empty status="},
        {good_prefix + "to=<a@example.net>, relay=none, dsn=2.0.0, status=sent junk", "unexpected text after status="},
        {good_prefix + "to=<a@example.net> relay=none", "unexpected text between fields"},
        {good_prefix + "to=<a@example.net>, RELAY=none", "field without name=value"},
        {good_prefix + "to=<a@example.net>, orig_to=<b@example.net, relay=none", "unterminated orig_to=<"},
        {good_prefix + "from=<a@example.net", "unterminated from=<"},
        {good_prefix + std::string(kNulLine, sizeof kNulLine - 1), "control characters in line"},
        {good_prefix + "to=<a@example.net>, relay=none, dsn=2.0.0, status=sent (\x1b[31mred)",
         "control characters in line"},
    };
    for (const auto& c : cases) {
        const ParsedLine parsed = parse_maillog_line(c.text);
        EXPECT_EQ(parsed.kind, LineKind::malformed) << c.text;
        EXPECT_EQ(parsed.problem, c.problem) << c.text;
    }
}

TEST(MaillogLine, HugeAndBinaryInputIsRejectedWithoutCrashing) {
    std::string huge = "Nov 23 12:00:01 host postfix/smtp[1]: 4Xb2Jk0Qz1z9sQ: to=<a@example.net>, relay=none, "
                       "dsn=5.0.0, status=bounced (";
    huge.append(kMaxLineLength, 'x');
    huge += ")";
    EXPECT_EQ(parse_maillog_line(huge).problem, "line too long");

    // Every byte value, and every prefix of a good line: never a crash,
    // never a delivery from a cut-off line before its status.
    std::string binary;
    for (int i = 0; i < 256; ++i) binary.push_back(static_cast<char>(i));
    EXPECT_EQ(parse_maillog_line(binary).kind, LineKind::malformed);
    const std::string good =
        "Nov 23 12:00:01 host postfix/smtp[1234]: 4Xb2Jk0Qz1z9sQ: to=<a@example.net>, orig_to=<b@example.net>, "
        "relay=mx.example.net[192.0.2.1]:25, delay=0.5, delays=0.1/0/0.2/0.2, dsn=2.0.0, status=sent (250 ok)";
    const std::size_t status_at = good.find("status=sent") + std::string_view("status=sent").size();
    for (std::size_t n = 0; n < good.size(); ++n) {
        const ParsedLine parsed = parse_maillog_line(std::string_view(good).substr(0, n));
        if (n < status_at) {
            EXPECT_NE(parsed.kind, LineKind::delivery) << n;
        }
    }
    // Deterministic pseudo-random bytes spliced into the good line.
    unsigned state = 12345;
    for (int round = 0; round < 2000; ++round) {
        std::string mutated = good;
        for (int k = 0; k < 4; ++k) {
            state = state * 1103515245u + 12345u;
            const std::size_t at = (state >> 8) % mutated.size();
            state = state * 1103515245u + 12345u;
            mutated[at] = static_cast<char>(state >> 16);
        }
        const ParsedLine parsed = parse_maillog_line(mutated);
        if (parsed.kind == LineKind::delivery) {
            EXPECT_FALSE(parsed.delivery.queue_id.empty());
        }
    }
}

TEST(MaillogLine, YearOfSyslogStampsIsInferredAroundNewYear) {
    EXPECT_EQ(infer_year(12, 2027, 1), 2026);  // December line read in January
    EXPECT_EQ(infer_year(1, 2027, 1), 2027);
    EXPECT_EQ(infer_year(2, 2027, 1), 2027);   // a clock slightly behind the log
    EXPECT_EQ(infer_year(11, 2026, 11), 2026);
    EXPECT_EQ(infer_year(6, 2026, 11), 2026);
}

TEST(MaillogLine, DaysFromCivilMatchesKnownDates) {
    EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
    EXPECT_EQ(days_from_civil(2000, 3, 1), 11017);
    EXPECT_EQ(days_from_civil(2026, 11, 23) * 86400 + 12 * 3600 + 1, 1795435201);
}

// Syslog stamps are local time: with TZ=UTC the result is exact.
TEST(MaillogLine, SyslogStampToUnixUsesLocalTimeAndInferredYear) {
    const char* old = std::getenv("TZ");
    const std::string saved = old ? old : "";
    ::setenv("TZ", "UTC", 1);
    ::tzset();
    LineTime time;
    time.month = 11;
    time.day = 23;
    time.hour = 12;
    time.second = 1;
    EXPECT_EQ(line_time_to_unix(time, 1795435201 + 3600), 1795435201);
    time.month = 12;
    time.day = 31;
    time.hour = 23;
    time.minute = 59;
    time.second = 59;
    // Read on 2027-01-01: last year's New Year's Eve.
    EXPECT_EQ(line_time_to_unix(time, days_from_civil(2027, 1, 1) * 86400 + 10),
              days_from_civil(2027, 1, 1) * 86400 - 1);
    time.month = 2;
    time.day = 30;
    EXPECT_FALSE(line_time_to_unix(time, 1795435201).has_value());
    if (old) {
        ::setenv("TZ", saved.c_str(), 1);
    } else {
        ::unsetenv("TZ");
    }
    ::tzset();
}

}  // namespace
}  // namespace tenantmail::maillog
