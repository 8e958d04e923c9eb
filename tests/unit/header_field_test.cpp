// header_field_test.cpp — splitting header blocks: exact bytes kept, both
// line-end styles, and every hostile shape refused with a reason.
#include "common/header_field.h"

#include <gtest/gtest.h>

namespace tenantmail {
namespace {

TEST(SplitMessage, KeepsExactBytesOfFoldedFieldsAndFindsTheBody) {
    const std::string message = "From: a@example.com\r\nSubject: one\r\n\ttwo\r\n\r\nBody\r\n";
    auto split = split_message(message);
    ASSERT_TRUE(split.ok()) << split.error();
    ASSERT_EQ(split->headers.size(), 2u);
    EXPECT_EQ(split->headers[0].raw, "From: a@example.com");
    EXPECT_EQ(split->headers[1].raw, "Subject: one\r\n\ttwo");
    EXPECT_EQ(split->headers[1].name(), "Subject");
    EXPECT_EQ(split->headers[1].value(), " one\r\n\ttwo");
    EXPECT_EQ(message.substr(split->body_offset), "Body\r\n");
}

TEST(SplitMessage, AcceptsBareLfLineEnds) {
    const std::string message = "From: a@example.com\nSubject: x\n y\n\nBody\n";
    auto split = split_message(message);
    ASSERT_TRUE(split.ok()) << split.error();
    ASSERT_EQ(split->headers.size(), 2u);
    EXPECT_EQ(split->headers[1].raw, "Subject: x\n y");
    EXPECT_EQ(message.substr(split->body_offset), "Body\n");
}

TEST(SplitMessage, NameExcludesWhitespaceBeforeTheColon) {
    auto split = split_message("Subject \t: hi\r\n\r\n");
    ASSERT_TRUE(split.ok()) << split.error();
    EXPECT_EQ(split->headers[0].name(), "Subject");
    EXPECT_EQ(split->headers[0].value(), " hi");
}

TEST(SplitMessage, MessageWithoutEmptyLineHasEmptyBody) {
    const std::string message = "From: a@example.com\r\nSubject: x";
    auto split = split_message(message);
    ASSERT_TRUE(split.ok()) << split.error();
    EXPECT_EQ(split->headers.size(), 2u);
    EXPECT_EQ(split->headers[1].raw, "Subject: x");
    EXPECT_EQ(split->body_offset, message.size());
}

TEST(SplitMessage, MessageStartingWithEmptyLineHasNoHeaders) {
    auto split = split_message("\r\nBody");
    ASSERT_TRUE(split.ok()) << split.error();
    EXPECT_TRUE(split->headers.empty());
    EXPECT_EQ(split->body_offset, 2u);
}

TEST(SplitMessage, EmptyValueIsAField) {
    auto split = split_message("X-Empty:\r\n\r\n");
    ASSERT_TRUE(split.ok()) << split.error();
    EXPECT_EQ(split->headers[0].value(), "");
}

TEST(SplitMessage, RefusesLeadingContinuationLine) {
    auto split = split_message(" folded: x\r\nFrom: a@example.com\r\n\r\n");
    ASSERT_FALSE(split.ok());
    EXPECT_NE(split.error().find("line 1"), std::string::npos) << split.error();
    EXPECT_NE(split.error().find("continuation"), std::string::npos) << split.error();
}

TEST(SplitMessage, RefusesLineWithoutColonNamingTheLine) {
    auto split = split_message("From: a@example.com\r\nthis is not a header\r\n\r\nbody");
    ASSERT_FALSE(split.ok());
    EXPECT_NE(split.error().find("line 2"), std::string::npos) << split.error();
    EXPECT_NE(split.error().find("no colon"), std::string::npos) << split.error();
}

TEST(SplitMessage, RefusesMboxFromLine) {
    EXPECT_FALSE(split_message("From joe@example.com Mon Jan  1 00:00:00 2024\r\nSubject: x\r\n\r\n").ok());
}

TEST(SplitMessage, RefusesNulInHeaderButNotInBody) {
    const std::string bad("From: a\0b@example.com\r\n\r\n", 25);
    EXPECT_FALSE(split_message(bad).ok());
    const std::string fine("From: a@example.com\r\n\r\nbo\0dy", 28);
    EXPECT_TRUE(split_message(fine).ok());
}

TEST(SplitMessage, RefusesEmptyAndNonAsciiNames) {
    EXPECT_FALSE(split_message(": value\r\n\r\n").ok());
    EXPECT_FALSE(split_message("Sub\x01ject: x\r\n\r\n").ok());
    EXPECT_FALSE(split_message("Sub\xc3\xa9: x\r\n\r\n").ok());
}

TEST(SplitMessage, EightBitValuesAreKept) {
    auto split = split_message("Subject: caf\xc3\xa9\r\n\r\n");
    ASSERT_TRUE(split.ok()) << split.error();
    EXPECT_EQ(split->headers[0].value(), " caf\xc3\xa9");
}

TEST(SplitMessage, RefusesOversizeFieldEvenWhenBuiltFromContinuations) {
    HeaderLimits limits;
    limits.max_field_bytes = 1000;
    std::string message = "Subject: x";
    for (int i = 0; i < 200; ++i) message += "\r\n folded";
    message += "\r\n\r\n";
    auto split = split_message(message, limits);
    ASSERT_FALSE(split.ok());
    EXPECT_NE(split.error().find("limit"), std::string::npos) << split.error();

    const std::string one_line = "Subject: " + std::string(2000, 'x') + "\r\n\r\n";
    EXPECT_FALSE(split_message(one_line, limits).ok());
}

TEST(SplitMessage, RefusesTooManyFields) {
    HeaderLimits limits;
    limits.max_fields = 10;
    std::string message;
    for (int i = 0; i < 11; ++i) message += "X-N: " + std::to_string(i) + "\r\n";
    message += "\r\n";
    EXPECT_FALSE(split_message(message, limits).ok());
}

TEST(SplitMessage, HugeHeaderBlockWithinLimitsSplitsInLinearTime) {
    std::string message;
    for (int i = 0; i < 9000; ++i) message += "X-N: " + std::to_string(i) + "\r\n";
    message += "\r\nbody";
    auto split = split_message(message);
    ASSERT_TRUE(split.ok()) << split.error();
    EXPECT_EQ(split->headers.size(), 9000u);
}

TEST(ParseHeaderField, RefusesLineBreakNotFollowedByWhitespace) {
    EXPECT_FALSE(parse_header_field("Subject: a\r\nTo: b").ok());
    EXPECT_FALSE(parse_header_field("Subject: a\r\n").ok());
    EXPECT_FALSE(parse_header_field("Subject: a\n").ok());
    EXPECT_TRUE(parse_header_field("Subject: a\r\n b").ok());
    EXPECT_TRUE(parse_header_field("Subject: a\n\tb").ok());
}

TEST(ParseHeaderField, RefusesMissingColonAndLeadingWhitespace) {
    EXPECT_FALSE(parse_header_field("Subject").ok());
    EXPECT_FALSE(parse_header_field(" Subject: x").ok());
    EXPECT_FALSE(parse_header_field("").ok());
}

TEST(ParseHeaderField, ColonInValueBelongsToTheValue) {
    auto field = parse_header_field("Date: Fri, 11 Jul 2003 21:00:37 -0700");
    ASSERT_TRUE(field.ok()) << field.error();
    EXPECT_EQ(field->name(), "Date");
    EXPECT_EQ(field->value(), " Fri, 11 Jul 2003 21:00:37 -0700");
}

}  // namespace
}  // namespace tenantmail
