// phrase_test.cpp — display names made into RFC 5322 phrases: quoting,
// RFC 2047 encoding of 8-bit text, which encoded words stay bare, and that
// hostile names always come back as one phrase the mailbox parser accepts.
#include "common/phrase.h"

#include <gtest/gtest.h>

#include <string>

#include "common/mailbox.h"

namespace tenantmail {
namespace {

// The phrase in front of an address must parse as exactly one mailbox.
void expect_one_mailbox(const std::string& phrase) {
    auto mailbox = parse_single_mailbox(" " + phrase + " <p@platform.example>");
    ASSERT_TRUE(mailbox.ok()) << phrase << ": " << mailbox.error();
    EXPECT_EQ(mailbox->address(), "p@platform.example") << phrase;
}

TEST(Phrase, AsciiTextIsQuotedWithQuotesAndBackslashesEscaped) {
    EXPECT_EQ(make_phrase("Jane Doe"), "\"Jane Doe\"");
    EXPECT_EQ(make_phrase("Jane \"JD\" Doe"), "\"Jane \\\"JD\\\" Doe\"");
    EXPECT_EQ(make_phrase("back\\slash"), "\"back\\\\slash\"");
    EXPECT_EQ(make_phrase("Doe, Jane <jane@x.example>"), "\"Doe, Jane <jane@x.example>\"");
}

TEST(Phrase, WhitespaceAndControlCharactersCollapseToOneSpace) {
    EXPECT_EQ(make_phrase("  Jane\t\r\n Doe  "), "\"Jane Doe\"");
    EXPECT_EQ(make_phrase(std::string("a\0b\x7f" "c", 5)), "\"a b c\"");
    EXPECT_EQ(make_phrase(" \r\n\t"), "");
}

TEST(Phrase, EightBitTextIsEncodedAsUtf8QWords) {
    EXPECT_EQ(make_phrase("Jürgen"), "=?utf-8?q?J=C3=BCrgen?=");
    EXPECT_EQ(make_phrase("Jörg Müller, \"Sales\""), "=?utf-8?q?J=C3=B6rg_M=C3=BCller=2C_=22Sales=22?=");
}

TEST(Phrase, ValidEncodedWordsStayBareAndTheRestIsQuoted) {
    EXPECT_EQ(make_phrase("=?utf-8?q?J=C3=B6rg?= Schmidt, ACME Sales via acme"),
              "=?utf-8?q?J=C3=B6rg?= \"Schmidt, ACME Sales via acme\"");
    EXPECT_EQ(make_phrase("=?UTF-8?B?SsO2cmc=?="), "=?UTF-8?B?SsO2cmc=?=");
    // Beside a kept encoded word, an encoded run carries the space itself
    // (RFC 2047 6.2 drops whitespace between encoded words).
    EXPECT_EQ(make_phrase("=?utf-8?q?J=C3=B6rg?= Müller"), "=?utf-8?q?J=C3=B6rg?= =?utf-8?q?_M=C3=BCller?=");
}

TEST(Phrase, MalformedEncodedWordsAreQuotedLikeAnyText) {
    for (const char* word : {"=?utf-8?q?a,b?=", "=?utf-8?x?abc?=", "=?utf-8?q?=ZZ?=", "=??q?abc?=",
                             "=?utf-8?b?abc?=", "=?utf-8?q?a\"b?="}) {
        EXPECT_FALSE(is_phrase_encoded_word(word)) << word;
        EXPECT_EQ(make_phrase(word).front(), '"') << word;
        expect_one_mailbox(make_phrase(word));
    }
    EXPECT_FALSE(is_phrase_encoded_word("=?utf-8?q?" + std::string(70, 'a') + "?="));  // over 75
    EXPECT_TRUE(is_phrase_encoded_word("=?iso-8859-1*de?Q?M=FCller_+_Co?="));
}

// Found by fuzz/mailbox_fuzzer: a backslash in the charset was taken as a
// token character, so the word stayed bare and the From it went into could
// not be parsed ("backslash outside a quoted string").
TEST(Phrase, BackslashInTheCharsetMakesNoEncodedWord) {
    const std::string word = "=?UTF\\8?Q?J=C3=BCrgen?=";
    EXPECT_FALSE(is_phrase_encoded_word(word));
    EXPECT_EQ(make_phrase(word).front(), '"');
    expect_one_mailbox(make_phrase(word));
}

TEST(Phrase, LongTextBecomesEncodedWordsOfAtMostSeventyFiveCharacters) {
    std::string name;
    for (int i = 0; i < 40; ++i) name += "Ünïcödé ";
    const std::string phrase = make_phrase(name);
    std::size_t start = 0;
    while (start < phrase.size()) {
        const std::size_t end = std::min(phrase.find(' ', start), phrase.size());
        EXPECT_TRUE(is_phrase_encoded_word(phrase.substr(start, end - start))) << phrase.substr(start, end - start);
        start = end + 1;
    }
    expect_one_mailbox(phrase);
}

TEST(Phrase, HostileDisplayNamesAlwaysGiveOneMailbox) {
    for (const std::string& name : std::initializer_list<std::string>{
             "=?utf-8?q?J=C3=B6rg?= Schmidt, ACME Sales", "=?utf-8?q?Support?= <security@bank.example>, x",
          "a\", evil@x.example, \"b", "\\\"<evil@x.example>", "trailing backslash \\", "<>@,;:.[]()",
          "a\r\nBcc: victim@x.example", "=?utf-8?q?x?= =?utf-8?q?y?= \"q\" ü", std::string(3000, 'x'),
          "(comment) <a@b.example>", "日本語 テキスト =?utf-8?q?x?= plain"}) {
        expect_one_mailbox(make_phrase(name));
    }
}

TEST(Utf8Prefix, NeverCutsASequence) {
    EXPECT_EQ(utf8_prefix("abc", 5), "abc");
    EXPECT_EQ(utf8_prefix("abcdef", 3), "abc");
    EXPECT_EQ(utf8_prefix("aü", 2), "a");    // ü is two octets
    EXPECT_EQ(utf8_prefix("a日b", 3), "a");  // 日 is three
    EXPECT_EQ(utf8_prefix("a日b", 4), "a日");
}

}  // namespace
}  // namespace tenantmail
