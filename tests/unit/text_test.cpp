#include "common/base64.h"
#include "common/text.h"

#include <gtest/gtest.h>

namespace tenantmail {
namespace {

TEST(Text, TrimStripsSpacesTabsAndLineEnds) { EXPECT_EQ(trim(" \t a b \r\n"), "a b"); }

TEST(Text, SplitListAcceptsCommasAndWhitespace) {
    const auto items = split_list(" a, b\tc,,d ");
    ASSERT_EQ(items.size(), 4u);
    EXPECT_EQ(items[0], "a");
    EXPECT_EQ(items[3], "d");
}

TEST(Text, IequalsIgnoresAsciiCaseOnly) {
    EXPECT_TRUE(iequals("From", "fROM"));
    EXPECT_FALSE(iequals("From", "Fro"));
}

TEST(TerminalText, PrintableAsciiAndUtf8PassUnchanged) {
    EXPECT_EQ(terminal_text("v=DKIM1; k=rsa; p=MIIB"), "v=DKIM1; k=rsa; p=MIIB");
    EXPECT_EQ(terminal_text("Grüße, 日本語 ✓"), "Grüße, 日本語 ✓");
}

TEST(TerminalText, ControlCharactersComeOutEscaped) {
    // Screen clear, cursor home, a fake green line and a bell.
    EXPECT_EQ(terminal_text("\x1b[2J\x1b[H\x1b[32mOK\x07"), "\\x1b[2J\\x1b[H\\x1b[32mOK\\x07");
    EXPECT_EQ(terminal_text("a\tb\r\nc\x7f"), "a\\x09b\\x0d\\x0ac\\x7f");
    EXPECT_EQ(terminal_text(std::string("a\0b", 3)), "a\\x00b");
    // The escape character itself is escaped, so "\x1b" in the data cannot
    // pass for an escaped ESC.
    EXPECT_EQ(terminal_text("C:\\x1b"), "C:\\\\x1b");
}

TEST(TerminalText, C1ControlsRawOrEncodedAndBidiOverridesAreEscaped) {
    EXPECT_EQ(terminal_text("\x9b" "2J"), "\\x9b2J");             // raw 8-bit CSI (not UTF-8)
    EXPECT_EQ(terminal_text("\xc2\x9b" "2J"), "\\u009b2J");      // U+009B CSI, UTF-8 encoded
    EXPECT_EQ(terminal_text("\xc2\x85"), "\\u0085");             // NEL
    EXPECT_EQ(terminal_text("abc\xe2\x80\xaetxt.exe"), "abc\\u202etxt.exe");  // RIGHT-TO-LEFT OVERRIDE
    EXPECT_EQ(terminal_text("\xe2\x81\xa6x"), "\\u2066x");       // LEFT-TO-RIGHT ISOLATE
}

TEST(TerminalText, BytesThatAreNotUtf8AreEscaped) {
    EXPECT_EQ(terminal_text("\xff\xfe"), "\\xff\\xfe");
    EXPECT_EQ(terminal_text("\xc0\xaf"), "\\xc0\\xaf");        // overlong '/'
    EXPECT_EQ(terminal_text("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // surrogate
    EXPECT_EQ(terminal_text("\xe2\x9c"), "\\xe2\\x9c");        // truncated ✓
}

TEST(TerminalText, LinesKeepTheirNewlinesOnly) {
    EXPECT_EQ(terminal_lines("one\ntwo\x1b]0;title\x07"), "one\ntwo\\x1b]0;title\\x07");
    EXPECT_EQ(terminal_lines("a\r\nb"), "a\\x0d\nb");
}

TEST(TerminalText, CellsAreCutAfterEscapingAtUtf8Boundaries) {
    EXPECT_EQ(terminal_cell("\x1b\x1b\x1b", 8), "\\x1b...");
    EXPECT_EQ(terminal_cell("short", 8), "short");
    EXPECT_EQ(terminal_cell("xxxxééé", 8), "xxxx...");
}

TEST(Base64, RoundTripsEveryLengthModuloThree) {
    for (const std::string s : {"", "a", "ab", "abc", "abcd"}) {
        const auto decoded = base64_decode(base64_encode(s));
        ASSERT_TRUE(decoded.has_value());
        EXPECT_EQ(*decoded, s);
    }
    EXPECT_EQ(base64_encode("abcd"), "YWJjZA==");
}

TEST(Base64, DecodeIgnoresFoldingWhitespaceAndRejectsGarbage) {
    EXPECT_EQ(base64_decode("YWJj\r\n\tZA=="), std::optional<std::string>("abcd"));
    EXPECT_FALSE(base64_decode("YW*j").has_value());
    EXPECT_FALSE(base64_decode("YWJ").has_value());
}

TEST(LineEnds, LfAndCrlfBothWays) {
    EXPECT_EQ(lf_to_crlf("a\nb\r\nc\rd\n"), "a\r\nb\r\nc\rd\r\n");
    EXPECT_EQ(lf_to_crlf("\n"), "\r\n");
    EXPECT_EQ(crlf_to_lf("a\r\nb\nc\rd\r"), "a\nb\nc\rd\r");
    EXPECT_EQ(crlf_to_lf(lf_to_crlf("x\ny\n")), "x\ny\n");
}

}  // namespace
}  // namespace tenantmail
