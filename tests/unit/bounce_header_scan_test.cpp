// bounce_header_scan_test.cpp — the pre-scan that bounds header lines before
// GMime parses a report, and the detection of automatic replies.
#include "bounce/header_scan.h"

#include <gtest/gtest.h>

#include <string>

#include "bounce/auto_reply.h"
#include "bounce_samples.h"

namespace tenantmail::bounce {
namespace {

std::string header_lines(std::size_t n) {
    std::string out;
    for (std::size_t i = 0; i < n; ++i) out += "X-H" + std::to_string(i) + ": v\n";
    return out;
}

TEST(BounceHeaderScan, RealReportsPass) {
    for (const std::string_view sample : {samples::kPostfixDsn, samples::kExchangeDsn, samples::kArfReport,
                                          samples::kEximDsn, samples::kGmailDsn, samples::kGlobalDsn}) {
        EXPECT_TRUE(check_header_bounds(sample)) << sample;
    }
}

TEST(BounceHeaderScan, TooManyLinesInTheTopHeaderAreRefused) {
    const HeaderLimits limits{100, 1000, 4096};
    EXPECT_TRUE(check_header_bounds(header_lines(100) + "\nbody\n", limits));
    const auto refused = check_header_bounds(header_lines(101) + "\nbody\n", limits);
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().find("100 lines in one header"), std::string::npos) << refused.error();
    // Body lines are no header lines, however many.
    EXPECT_TRUE(check_header_bounds("Subject: x\n\n" + header_lines(5000), limits));
}

TEST(BounceHeaderScan, HeadersOfPartsAndEmbeddedMessagesCount) {
    const HeaderLimits limits{100, 250, 4096};
    const std::string part = "--b\nContent-Type: text/plain\n" + header_lines(99) + "\nbody\n";
    EXPECT_TRUE(check_header_bounds("Content-Type: multipart/mixed; boundary=b\n\n" + part, limits));
    EXPECT_FALSE(check_header_bounds("Content-Type: multipart/mixed; boundary=b\n\n" + part + "--b\n" +
                                         header_lines(101) + "\nx\n",
                                     limits));
    // Three parts of 99 lines each: within each block, over the total.
    EXPECT_FALSE(check_header_bounds("Subject: s\n\n" + part + part + part, limits));
    // The returned original inside message/rfc822 has its own header.
    const std::string embedded = "--b\nContent-Type: message/rfc822\n\n" + header_lines(101) + "\nbody\n";
    EXPECT_FALSE(check_header_bounds("Subject: s\n\n" + embedded, limits));
    const std::string not_embedded = "--b\nContent-Type: text/plain\n\n" + header_lines(101) + "\nbody\n";
    EXPECT_TRUE(check_header_bounds("Subject: s\n\n" + not_embedded, limits));
}

TEST(BounceHeaderScan, OverlongFieldsAreRefusedFoldedOrNot) {
    const HeaderLimits limits{100, 1000, 1000};
    EXPECT_FALSE(check_header_bounds("Subject: " + std::string(1000, 'x') + "\n\n", limits));
    std::string folded = "Subject: start\n";
    for (int i = 0; i < 20; ++i) folded += " " + std::string(60, 'y') + "\r\n";
    EXPECT_FALSE(check_header_bounds(folded + "\n", limits));
    EXPECT_TRUE(check_header_bounds("Subject: x\n\n" + std::string(100000, 'b') + "\n", limits));
}

TEST(BounceHeaderScan, MillionHeaderLinesAreRefusedQuickly) {
    const auto refused = check_header_bounds(header_lines(1'400'000));
    ASSERT_FALSE(refused);
}

TEST(BounceHeaderScan, TopHeaderBlockEndsAtTheFirstEmptyLine) {
    EXPECT_EQ(top_header_block("A: 1\r\nB: 2\r\n\r\nbody\n"), "A: 1\r\nB: 2\r\n");
    EXPECT_EQ(top_header_block("A: 1\n"), "A: 1\n");
    EXPECT_EQ(top_header_block("\nbody"), "");
}

TEST(BounceAutoReply, MarkersOfAutomaticReplies) {
    EXPECT_TRUE(is_auto_reply("From: jane@example.org\nAuto-Submitted: auto-replied (vacation)\n"
                              "Subject: Out of office\n"));
    EXPECT_TRUE(is_auto_reply("From: jane@example.org\nX-Autoreply: yes\n"));
    EXPECT_TRUE(is_auto_reply("From: jane@example.org\nX-Autorespond: Out of office\n"));
    EXPECT_TRUE(is_auto_reply("From: jane@example.org\nPrecedence: auto_reply\n"));
    EXPECT_FALSE(is_auto_reply("From: jane@example.org\nSubject: re: your mail\n"));
    EXPECT_FALSE(is_auto_reply("From: jane@example.org\nAuto-Submitted: no\n"));
    EXPECT_FALSE(is_auto_reply("From: jane@example.org\nPrecedence: bulk\n"));
}

TEST(BounceAutoReply, BouncesWithAutoSubmittedAreNoAutoReplies) {
    // Postfix and Exim put Auto-Submitted: auto-replied on their bounces.
    EXPECT_FALSE(is_auto_reply("From: MAILER-DAEMON@mx.example (Mail Delivery System)\n"
                               "Auto-Submitted: auto-replied\n"));
    EXPECT_FALSE(is_auto_reply("From: Mail Delivery System <Mailer-Daemon@mx.example>\n"
                               "X-Failed-Recipients: gone@example.org\nAuto-Submitted: auto-replied\n"));
    EXPECT_FALSE(is_auto_reply("From: postmaster@mx.example\nAuto-Submitted: auto-replied\n"));
}

}  // namespace
}  // namespace tenantmail::bounce
