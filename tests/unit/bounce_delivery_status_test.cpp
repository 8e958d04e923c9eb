// bounce_delivery_status_test.cpp — the field groups of RFC 3464 and 5965
// bodies, status codes (RFC 3463), typed values, the per-recipient reading
// of delivery-status parts, their classification, and ARF fields.
#include <gtest/gtest.h>

#include <string>

#include "bounce/delivery_status.h"
#include "bounce/feedback_report.h"
#include "bounce/field_block.h"
#include "bounce/report_text.h"

namespace tenantmail::bounce {
namespace {

TEST(BounceFieldGroups, SplitsOnEmptyLinesAndUnfolds) {
    const FieldGroups groups = parse_field_groups(
        "Reporting-MTA: dns; mx\r\n\r\nFinal-Recipient: rfc822; a@x\r\nDiagnostic-Code: smtp; 550 one\r\n"
        "\t two\r\n    three\r\n \r\n\r\nFinal-Recipient: rfc822; b@x\n");
    ASSERT_EQ(groups.groups.size(), 3u);
    EXPECT_EQ(groups.groups[0].fields.size(), 1u);
    ASSERT_NE(groups.groups[1].find("diagnostic-code"), nullptr);
    EXPECT_EQ(groups.groups[1].find("Diagnostic-Code")->value, "smtp; 550 one two three");
    EXPECT_EQ(groups.groups[2].find("Final-Recipient")->value, "rfc822; b@x");
    EXPECT_EQ(groups.skipped_lines, 0u);
    EXPECT_FALSE(groups.truncated);
}

TEST(BounceFieldGroups, SkipsLinesThatAreNoFieldsAndKeepsGoing) {
    const FieldGroups groups = parse_field_groups(
        "  leading continuation\nthis line has no colon\nBad Name: x\n: empty name\nAction: failed\nStatus: 5.1.1\n");
    ASSERT_EQ(groups.groups.size(), 1u);
    EXPECT_EQ(groups.groups[0].fields.size(), 2u);
    EXPECT_EQ(groups.skipped_lines, 4u);
}

TEST(BounceFieldGroups, FieldNameWithSpaceBeforeColonIsAccepted) {
    const FieldGroups groups = parse_field_groups("Status : 5.1.1\n");
    ASSERT_EQ(groups.groups.size(), 1u);
    EXPECT_EQ(groups.groups[0].fields[0].name, "Status");
    EXPECT_EQ(groups.groups[0].fields[0].value, "5.1.1");
}

TEST(BounceFieldGroups, LimitsFieldsAndValueSizes) {
    std::string many;
    for (std::size_t i = 0; i < kMaxFields + 10; ++i) many += "X: y\n";
    const FieldGroups a = parse_field_groups(many);
    EXPECT_TRUE(a.truncated);
    EXPECT_EQ(a.groups[0].fields.size(), kMaxFields);

    std::string folded = "Diagnostic-Code: x";
    for (int i = 0; i < 10000; ++i) folded += "\n continued";
    const FieldGroups b = parse_field_groups(folded);
    EXPECT_TRUE(b.truncated);
    EXPECT_LE(b.groups[0].fields[0].value.size(), kMaxFieldValueBytes);
}

TEST(BounceStatusCode, AcceptsRfc3463Codes) {
    EXPECT_EQ(status_code_of("5.1.1"), "5.1.1");
    EXPECT_EQ(status_code_of(" 4.4.7 "), "4.4.7");
    EXPECT_EQ(status_code_of("5.1.10"), "5.1.10");
    EXPECT_EQ(status_code_of("2.0.0"), "2.0.0");
    EXPECT_EQ(status_code_of("5.123.999"), "5.123.999");
    EXPECT_EQ(status_code_of("5.1.1 (bad destination mailbox address)"), "5.1.1");
    EXPECT_EQ(status_code_of("5.7.1;x"), "5.7.1");
}

TEST(BounceStatusCode, RefusesEverythingElse) {
    for (const char* bad : {"", "5", "5.1", "5.1.", "5..1", "3.1.1", "6.0.0", "5.1.1234", "5.1234.1", "5.x.1",
                            "5.1.1a", "55.1.1", "five", "5,1,1", "-5.1.1", "\x01\x02"}) {
        EXPECT_EQ(status_code_of(bad), "") << bad;
    }
}

TEST(BounceTypedValue, StripsTypeAndBrackets) {
    EXPECT_EQ(strip_type("rfc822; <User@Example.org>"), "User@Example.org");
    EXPECT_EQ(strip_type("rfc822;user@example.org"), "user@example.org");
    EXPECT_EQ(strip_type("dns; mx.example.org"), "mx.example.org");
    EXPECT_EQ(strip_type("<a@b.example>"), "a@b.example");
    EXPECT_EQ(strip_type("plain@b.example"), "plain@b.example");
    EXPECT_EQ(strip_type("rfc822;"), "");
    EXPECT_EQ(strip_type("<>"), "");
    EXPECT_EQ(strip_type("<unclosed@b.example"), "<unclosed@b.example");
}

TEST(BounceDeliveryStatus, ReadsRecipientsWhenTheEmptyLineIsMissing) {
    // Per-message and two recipients run together: a second
    // Final-Recipient starts the next recipient.
    const auto status = parse_delivery_status(
        "Reporting-MTA: dns; mx.example.net\nFinal-Recipient: rfc822; a@example.org\nAction: failed\nStatus: 5.1.1\n"
        "Final-Recipient: rfc822; b@example.org\nAction: delayed\nStatus: 4.2.2\n");
    ASSERT_TRUE(status) << status.error();
    EXPECT_EQ(status->reporting_mta, "mx.example.net");
    ASSERT_EQ(status->recipients.size(), 2u);
    EXPECT_EQ(status->recipients[0].final_recipient, "a@example.org");
    EXPECT_EQ(status->recipients[0].status, "5.1.1");
    EXPECT_EQ(status->recipients[1].final_recipient, "b@example.org");
    EXPECT_EQ(status->recipients[1].action, "delayed");
}

TEST(BounceDeliveryStatus, ActionCommentAndCaseAreNormalised) {
    const auto status =
        parse_delivery_status("Final-Recipient: rfc822; a@example.org\nACTION: Failed (bad mailbox)\nStatus: 5.1.1\n");
    ASSERT_TRUE(status);
    EXPECT_EQ(status->recipients[0].action, "failed");
}

TEST(BounceDeliveryStatus, RecipientGroupWithoutAddressIsDropped) {
    const auto status = parse_delivery_status("Reporting-MTA: dns; mx\n\nAction: failed\nStatus: 5.1.1\n");
    ASSERT_FALSE(status);
    EXPECT_EQ(status.error(), "delivery-status part names no recipient");
    EXPECT_EQ(parse_delivery_status("").error(), "delivery-status part has no fields");
}

TEST(BounceDeliveryStatus, RecipientCountIsBounded) {
    std::string text = "Reporting-MTA: dns; mx\n";
    for (std::size_t i = 0; i < kMaxDsnRecipients + 5; ++i) {
        text += "\nFinal-Recipient: rfc822; r" + std::to_string(i) + "@example.org\nAction: failed\nStatus: 5.1.1\n";
    }
    const auto status = parse_delivery_status(text);
    ASSERT_TRUE(status);
    EXPECT_EQ(status->recipients.size(), kMaxDsnRecipients);
    EXPECT_TRUE(status->truncated);
}

DsnRecipient recipient(const char* action, const char* status) {
    DsnRecipient r;
    r.final_recipient = "x@example.org";
    r.action = action;
    r.status = status;
    return r;
}

TEST(BounceClassify, FollowsActionAndStatusClass) {
    EXPECT_EQ(classify(recipient("failed", "5.1.1")), DsnClass::bounce);
    EXPECT_EQ(classify(recipient("failed", "4.4.1")), DsnClass::soft_bounce);
    EXPECT_EQ(classify(recipient("delayed", "4.4.1")), DsnClass::soft_bounce);
    EXPECT_EQ(classify(recipient("delayed", "")), DsnClass::soft_bounce);
    EXPECT_EQ(classify(recipient("delivered", "2.0.0")), DsnClass::ignored);
    EXPECT_EQ(classify(recipient("relayed", "2.0.0")), DsnClass::ignored);
    EXPECT_EQ(classify(recipient("expanded", "2.0.0")), DsnClass::ignored);
    EXPECT_EQ(classify(recipient("failed", "")), DsnClass::unclassified);
    EXPECT_EQ(classify(recipient("failed", "2.0.0")), DsnClass::unclassified);
    EXPECT_EQ(classify(recipient("bogus", "5.1.1")), DsnClass::unclassified);
    // No Action at all: the status class decides.
    EXPECT_EQ(classify(recipient("", "5.1.1")), DsnClass::bounce);
    EXPECT_EQ(classify(recipient("", "4.1.1")), DsnClass::soft_bounce);
    EXPECT_EQ(classify(recipient("", "2.1.5")), DsnClass::ignored);
    EXPECT_EQ(classify(recipient("", "")), DsnClass::unclassified);
}

TEST(BounceFeedbackReport, ReadsRepeatedRcptToAndIgnoresUnknownFields) {
    const auto report = parse_feedback_report(
        "Feedback-Type: Fraud\nUser-Agent: SomeISP/1.0\nVersion: 1\nOriginal-Rcpt-To: <a@isp.example>\n"
        "X-Unknown: whatever\nOriginal-Rcpt-To: b@isp.example\nSource-IP: 2001:db8::5\n");
    ASSERT_TRUE(report) << report.error();
    EXPECT_EQ(report->feedback_type, "fraud");
    ASSERT_EQ(report->original_rcpt_to.size(), 2u);
    EXPECT_EQ(report->original_rcpt_to[0], "a@isp.example");
    EXPECT_EQ(report->original_rcpt_to[1], "b@isp.example");
    EXPECT_EQ(report->source_ip, "2001:db8::5");
    EXPECT_TRUE(is_complaint(*report));
}

TEST(BounceFeedbackReport, NeedsAFeedbackType) {
    EXPECT_EQ(parse_feedback_report("User-Agent: x\nVersion: 1\n").error(), "feedback-report part has no Feedback-Type");
}

TEST(BounceFeedbackReport, NotSpamAndAuthFailureAreNoComplaints) {
    for (const char* type : {"not-spam", "auth-failure"}) {
        const auto report = parse_feedback_report(std::string("Feedback-Type: ") + type + "\n");
        ASSERT_TRUE(report);
        EXPECT_FALSE(is_complaint(*report)) << type;
    }
    for (const char* type : {"abuse", "fraud", "virus", "other", "opt-out"}) {
        const auto report = parse_feedback_report(std::string("Feedback-Type: ") + type + "\n");
        ASSERT_TRUE(report);
        EXPECT_TRUE(is_complaint(*report)) << type;
    }
}

TEST(BounceReportText, KeepsUtf8ReplacesControlAndInvalidBytes) {
    EXPECT_EQ(clean_text("550 user unknown", 100), "550 user unknown");
    EXPECT_EQ(clean_text("a\tb\r\nc\x01", 100), "a?b??c?");
    EXPECT_EQ(clean_text("用户", 100), "用户");
    EXPECT_EQ(clean_text("\xff\xfe ok \xc3", 100), "?? ok ?");
    EXPECT_EQ(clean_text("\xed\xa0\x80", 100), "???");  // a UTF-16 surrogate is no UTF-8
    EXPECT_EQ(clean_text("\xc0\xaf", 100), "??");        // overlong
    EXPECT_EQ(clean_text("abcdef", 3), "abc...");
    EXPECT_EQ(clean_text("ab用户", 4), "ab...");  // never cuts a character in half
}

}  // namespace
}  // namespace tenantmail::bounce
