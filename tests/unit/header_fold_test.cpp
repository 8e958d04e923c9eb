// header_fold_test.cpp — physical line lengths of header fields and folding at
// existing whitespace: within the width where possible, meaning unchanged
// (unfolding gives the input back), never inside a word or the name.
#include "common/header_fold.h"

#include <gtest/gtest.h>

#include <string>

namespace tenantmail {
namespace {

// RFC 5322 2.2.3 unfolding: remove every CRLF that precedes whitespace.
std::string unfold(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
            ++i;
            continue;
        }
        out.push_back(text[i]);
    }
    return out;
}

TEST(LongestLine, CountsEachPhysicalLineWithoutItsLineEnd) {
    EXPECT_EQ(longest_line("Subject: hi"), 11u);
    EXPECT_EQ(longest_line("Subject: hi\r\n there, a longer line"), 21u);
    EXPECT_EQ(longest_line("Subject: hi\n there"), 11u);
    EXPECT_EQ(longest_line(""), 0u);
    EXPECT_EQ(longest_line("Subject: " + std::string(1500, 'x')), 1509u);
}

TEST(FoldField, ShortFieldsAreUnchanged) {
    EXPECT_EQ(fold_field("Subject: hello world"), "Subject: hello world");
    EXPECT_EQ(fold_field("Subject: a\r\n b"), "Subject: a\r\n b");
}

TEST(FoldField, LongFieldsFoldAtWhitespaceWithinTheWidthAndUnfoldToTheInput) {
    std::string raw = "Subject:";
    for (int i = 0; i < 60; ++i) raw += " word" + std::to_string(i);
    const std::string folded = fold_field(raw);
    EXPECT_LE(longest_line(folded), 78u);
    EXPECT_NE(folded.find("\r\n "), std::string::npos);
    EXPECT_EQ(unfold(folded), raw);
    EXPECT_EQ(folded.substr(0, 14), "Subject: word0");
}

TEST(FoldField, UnbreakableTextStaysLongButBreaksAtTheNextWhitespace) {
    const std::string word(1500, 'x');
    EXPECT_EQ(fold_field("Subject: " + word), "Subject: " + word);
    const std::string folded = fold_field("Subject: " + word + " tail");
    EXPECT_EQ(folded, "Subject: " + word + "\r\n tail");
}

TEST(FoldField, NeverFoldsInTheNameAfterABackslashOrBeforeOnlyWhitespace) {
    const std::string long_name = "X-" + std::string(90, 'n') + ": v";
    EXPECT_EQ(fold_field(long_name), long_name);
    const std::string escaped = "From: \"" + std::string(76, 'a') + "\\ b\" <x@y.example>";
    const std::string folded = fold_field(escaped);
    EXPECT_EQ(folded.find("\\\r\n"), std::string::npos) << folded;
    EXPECT_EQ(unfold(folded), escaped);
    const std::string trailing = "Subject: " + std::string(80, 'a') + "    ";
    EXPECT_EQ(fold_field(trailing), trailing);
}

TEST(FoldField, RefoldsOnlyTheLinesThatAreTooLong) {
    std::string second;
    for (int i = 0; i < 30; ++i) second += " w" + std::to_string(i);
    const std::string raw = "To: a@b.example,\r\n" + second;
    const std::string folded = fold_field(raw);
    EXPECT_EQ(folded.substr(0, 18), "To: a@b.example,\r\n");
    EXPECT_LE(longest_line(folded), 78u);
    EXPECT_EQ(unfold(folded), unfold(raw));
}

}  // namespace
}  // namespace tenantmail
