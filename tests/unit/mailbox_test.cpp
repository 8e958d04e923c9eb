// mailbox_test.cpp — RFC 5322 address parsing: the forms real From headers
// use, the refusals the From check relies on (each with its reason), and a
// table of hostile inputs that must give an error quickly, never a crash.
#include "common/mailbox.h"

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace tenantmail {
namespace {

::testing::AssertionResult contains(const char* text_expr, const char* /*part_expr*/, const std::string& text,
                                    const std::string& part) {
    if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << text_expr << " is \"" << text << "\", without \"" << part << "\"";
}
#define EXPECT_CONTAINS(text, part) EXPECT_PRED_FORMAT2(contains, text, part)

Mailbox must_parse(std::string_view value) {
    auto parsed = parse_single_mailbox(value);
    EXPECT_TRUE(parsed.ok()) << "'" << value << "': " << (parsed.ok() ? "" : parsed.error());
    return parsed.ok() ? *parsed : Mailbox{};
}

std::string error_of(std::string_view value) {
    auto parsed = parse_single_mailbox(value);
    EXPECT_FALSE(parsed.ok()) << "'" << value << "' parsed as " << (parsed.ok() ? parsed->address() : "");
    return parsed.ok() ? std::string() : parsed.error();
}

TEST(Mailbox, ParsesQuotedDisplayNameAndAngleAddress) {
    const Mailbox m = must_parse("\"Jane Doe\" <jane@uni.example>");
    EXPECT_EQ(m.display_name, "Jane Doe");
    EXPECT_EQ(m.local_part, "jane");
    EXPECT_EQ(m.domain, "uni.example");
    EXPECT_EQ(m.address(), "jane@uni.example");
}

TEST(Mailbox, ParsesUnquotedPhraseAndLowercasesOnlyTheDomain) {
    const Mailbox m = must_parse(" Jane   Doe <Jane.Doe@Uni.EXAMPLE> ");
    EXPECT_EQ(m.display_name, "Jane Doe");
    EXPECT_EQ(m.address(), "Jane.Doe@uni.example");
}

TEST(Mailbox, ParsesBareAddrSpecWithEmptyDisplayName) {
    const Mailbox m = must_parse("jane@uni.example");
    EXPECT_EQ(m.display_name, "");
    EXPECT_EQ(m.address(), "jane@uni.example");
}

TEST(Mailbox, IgnoresNestedAndEscapedCommentsAnywhere) {
    EXPECT_EQ(must_parse("jane@uni.example (Jane)").address(), "jane@uni.example");
    const Mailbox m = must_parse("(a (nested \\) comment) here)Jane(x) <(y)jane(z)@(w)uni.example(v)>(end)");
    EXPECT_EQ(m.display_name, "Jane");
    EXPECT_EQ(m.address(), "jane@uni.example");
}

TEST(Mailbox, DecodesQuotedLocalPartsAndQuotesThemAgainInAddress) {
    const Mailbox m = must_parse("\"jane doe\"@uni.example");
    EXPECT_EQ(m.local_part, "jane doe");
    EXPECT_EQ(m.address(), "\"jane doe\"@uni.example");
    EXPECT_EQ(must_parse("\"a\\\"b\\\\c\"@x.example").address(), "\"a\\\"b\\\\c\"@x.example");
    EXPECT_EQ(must_parse("\"plain\"@x.example").address(), "plain@x.example");
}

TEST(Mailbox, DecodesQuotedPairsInDisplayName) {
    EXPECT_EQ(must_parse("\"Jane \\\"JD\\\" Doe\" <jane@uni.example>").display_name, "Jane \"JD\" Doe");
}

TEST(Mailbox, UnfoldsCrlfAndLfFolding) {
    EXPECT_EQ(must_parse("Jane\r\n Doe\r\n\t<jane@uni.example>").display_name, "Jane Doe");
    EXPECT_EQ(must_parse("\"Jane\r\n Doe\" <jane@uni.example>\r\n").display_name, "Jane Doe");
    EXPECT_EQ(must_parse("Jane\n\t<jane@uni.example>").address(), "jane@uni.example");
}

TEST(Mailbox, AcceptsObsoletePhrasesAndLocalParts) {
    EXPECT_EQ(must_parse("J. R. Doe <j@x.example>").display_name, "J. R. Doe");
    EXPECT_EQ(must_parse("jane . doe @ uni.example").address(), "jane.doe@uni.example");
    EXPECT_EQ(must_parse("\"jane\".doe@uni.example").local_part, "jane.doe");
}

TEST(Mailbox, KeepsEncodedWordsAndUtf8DisplayNames) {
    EXPECT_EQ(must_parse("=?utf-8?q?J=C3=A9r=C3=B4me?= <j@x.example>").display_name, "=?utf-8?q?J=C3=A9r=C3=B4me?=");
    EXPECT_EQ(must_parse("J\xC3\xA9r\xC3\xB4me <j@x.example>").display_name, "J\xC3\xA9r\xC3\xB4me");
    EXPECT_EQ(must_parse("j\xC3\xA9@x.example").local_part, "j\xC3\xA9");  // RFC 6532
}

TEST(Mailbox, DropsOneTrailingDotFromTheDomain) {
    EXPECT_EQ(must_parse("<jane@uni.example.>").domain, "uni.example");
}

TEST(Mailbox, RefusesEmptyFields) {
    EXPECT_CONTAINS(error_of(""), "From is empty");
    EXPECT_CONTAINS(error_of(" \r\n\t"), "From is empty");
    EXPECT_CONTAINS(error_of("(just a comment)"), "From has no address");
}

TEST(Mailbox, RefusesSeveralMailboxesSayingHowMany) {
    EXPECT_EQ(error_of("a@x.example, b@y.example"), "From has 2 addresses; exactly one is required");
    EXPECT_CONTAINS(error_of("a@x.example, \"B\" <b@y.example>, c@z.example"), "From has 3 addresses");
}

TEST(Mailbox, RefusesGroupSyntax) {
    EXPECT_CONTAINS(error_of("undisclosed:;"), "From uses group syntax ('undisclosed:...;')");
    EXPECT_CONTAINS(error_of("team: a@x.example, b@y.example;"), "group syntax ('team:");
}

TEST(Mailbox, RefusesMissingOrInvalidParts) {
    EXPECT_CONTAINS(error_of("jane"), "missing '@' in 'jane'");
    EXPECT_CONTAINS(error_of("Jane Doe <jane>"), "missing '@' in 'jane'");
    EXPECT_CONTAINS(error_of("jane@"), "missing domain after '@'");
    EXPECT_CONTAINS(error_of("<jane@>"), "missing domain");
    EXPECT_CONTAINS(error_of("@uni.example"), "missing local part");
    EXPECT_CONTAINS(error_of("jane@-uni.example"), "invalid domain '-uni.example'");
    EXPECT_CONTAINS(error_of("jane@uni_x.example"), "invalid domain");
    EXPECT_CONTAINS(error_of("jane doe@uni.example"), "space in local part");
    EXPECT_CONTAINS(error_of("jane.@uni.example"), "empty word");
    EXPECT_CONTAINS(error_of("<>"), "empty address '<>'");
    EXPECT_CONTAINS(error_of("jane@uni..example"), "empty label in domain 'uni..'");
}

TEST(Mailbox, RefusesDomainLiteralsAndSourceRoutes) {
    EXPECT_CONTAINS(error_of("jane@[192.0.2.1]"), "domain literal [192.0.2.1] is not accepted");
    EXPECT_CONTAINS(error_of("<@relay.example:jane@uni.example>"), "source route");
    EXPECT_CONTAINS(error_of("<@a.example,@b.example:jane@uni.example>"), "source route");
}

TEST(Mailbox, RefusesUnbalancedDelimiters) {
    EXPECT_CONTAINS(error_of("\"Jane <jane@uni.example>"), "unbalanced '\"'");
    EXPECT_CONTAINS(error_of("Jane <jane@uni.example"), "unbalanced '<'");
    EXPECT_CONTAINS(error_of("jane@uni.example>"), "unexpected '>'");
    EXPECT_CONTAINS(error_of("jane@uni.example (Jane"), "unbalanced '('");
    EXPECT_CONTAINS(error_of("jane@uni.example Jane)"), "unbalanced ')'");
    EXPECT_CONTAINS(error_of("jane@[192.0.2.1"), "unbalanced '['");
}

TEST(Mailbox, RefusesControlCharactersAndBadLineBreaks) {
    EXPECT_CONTAINS(error_of(std::string("jane@uni.example\0", 17)), "NUL byte at offset 16");
    EXPECT_CONTAINS(error_of("ja\x01ne@uni.example"), "control character 0x01 at offset 2");
    EXPECT_CONTAINS(error_of("jane@uni.example\x7F"), "control character 0x7F");
    EXPECT_CONTAINS(error_of("Jane\r<jane@uni.example>"), "bare CR");
    EXPECT_CONTAINS(error_of("Jane\r\n<jane@uni.example>"), "line break not followed by whitespace");
}

TEST(Mailbox, RefusesBadEightBitAndUnicodeDomains) {
    EXPECT_CONTAINS(error_of("J\xE9r\xF4me <j@x.example>"), "not UTF-8 at offset 1");
    EXPECT_CONTAINS(error_of("j@x.example (\xC0\xAF)"), "not UTF-8");  // overlong '/'
    EXPECT_CONTAINS(error_of("jane@b\xC3\xBC" "cher.example"),
                    "internationalised domain 'b\xC3\xBC" "cher.example' must be in A-label form");
    EXPECT_EQ(must_parse("jane@xn--bcher-kva.example").domain, "xn--bcher-kva.example");
}

TEST(Mailbox, RefusesInputOverSixtyFourKilobytes) {
    const std::string huge = std::string(max_address_field_bytes, ' ') + "j@x.example";
    EXPECT_CONTAINS(error_of(huge), "at most 64 KB");
}

TEST(Mailbox, LimitsCommentNestingToSixtyFour) {
    const auto nested = [](int depth) {
        return "j@x.example " + std::string(static_cast<std::size_t>(depth), '(') +
               std::string(static_cast<std::size_t>(depth), ')');
    };
    EXPECT_EQ(must_parse(nested(64)).address(), "j@x.example");
    EXPECT_CONTAINS(error_of(nested(65)), "nested more than 64 deep");
}

TEST(Mailbox, AddressListFlattensGroupsAndSkipsEmptyElements) {
    const auto list = parse_address_list(
        "a@x.example, \"B\" <b@y.example>,, team: c@z.example, D <d@w.example>;, undisclosed-recipients:;");
    ASSERT_TRUE(list.ok()) << list.error();
    ASSERT_EQ(list->size(), 4u);
    EXPECT_EQ((*list)[0].address(), "a@x.example");
    EXPECT_EQ((*list)[1].display_name, "B");
    EXPECT_EQ((*list)[2].address(), "c@z.example");
    EXPECT_EQ((*list)[3].display_name, "D");
}

TEST(Mailbox, AddressListRefusesEmptyListsAndUnclosedGroups) {
    EXPECT_CONTAINS(parse_address_list("undisclosed-recipients:;").error(), "address list has no address");
    EXPECT_CONTAINS(parse_address_list("team: a@x.example").error(), "group 'team' is not closed with ';'");
    EXPECT_CONTAINS(parse_address_list("team: a@x.example b@y.example;").error(), "unexpected");
    EXPECT_CONTAINS(parse_address_list("a@x.example, b").error(), "missing '@' in 'b'");
}

TEST(Mailbox, DomainSyntaxFollowsHostnameRules) {
    EXPECT_TRUE(is_valid_domain("uni.example"));
    EXPECT_TRUE(is_valid_domain("a-b.c0.example"));
    EXPECT_TRUE(is_valid_domain("localhost"));
    EXPECT_TRUE(is_valid_domain(std::string(63, 'a') + ".example"));
    EXPECT_FALSE(is_valid_domain(std::string(64, 'a') + ".example"));
    std::string long_name;
    while (long_name.size() < 250) long_name += "abcdefghi.";
    long_name += "example";  // 257 octets
    EXPECT_FALSE(is_valid_domain(long_name));
    EXPECT_TRUE(is_valid_domain(long_name.substr(long_name.size() - 253)));
    for (const char* bad : {"", ".", "uni.example.", ".uni.example", "uni..example", "-uni.example",
                            "uni-.example", "uni_x.example", "uni example", "b\xC3\xBC" "cher.example"}) {
        EXPECT_FALSE(is_valid_domain(bad)) << bad;
    }
}

// Each input must give an error (not a crash, not a hang) and do it fast:
// anything quadratic would take seconds on the 60 KB cases.
TEST(Mailbox, HostileInputsGiveErrorsQuickly) {
    const std::string big(60000, '(');
    const std::vector<std::string> inputs = {
        big,
        std::string(30000, '(') + std::string(30000, ')'),
        std::string(60000, '"'),
        std::string(100000, '"'),
        std::string(60000, '<'),
        std::string(60000, '\\'),
        std::string(60000, '.'),
        std::string(60000, '@'),
        std::string(60000, ','),
        std::string(30000, 'a') + std::string(30000, ' ') + "<",
        [] {
            std::string s;
            while (s.size() < 60000) s += "a.";
            return s + "@";
        }(),
        [] {
            std::string s;
            while (s.size() < 60000) s += "x: ";
            return s;
        }(),
        [] {
            std::string s;
            while (s.size() < 60000) s += "\"a\" ";
            return s;
        }(),
        "jane@uni.example\\",
        "\"jane\\",
        "(\\",
        "<<<>>>",
        "a@b@c",
        "a@b.example@c.example",
        "attacker@evil.example(x)@bank.example",
        "@",
        "<>",
        "<@>",
        ":;",
        ";",
        ",",
        "\t\r\n \r\n\t",
        std::string("\0", 1),
        std::string("jane@uni.example\0evil.example", 29),
        "jane@uni.example>",
        "\"\"",
        "[",
        "]",
        ")",
        "a@[",
        "a@.example",
        "a@b..example",
        "<jane@uni.example> <other@evil.example>",
        "jane@uni.example <other@evil.example>",
        "\"x\"@",
        "a\r\n",
    };
    for (const std::string& input : inputs) {
        const auto start = std::chrono::steady_clock::now();
        const auto single = parse_single_mailbox(input);
        const auto list = parse_address_list(input);
        const auto elapsed = std::chrono::steady_clock::now() - start;
        EXPECT_FALSE(single.ok()) << input.substr(0, 60);
        EXPECT_FALSE(list.ok()) << input.substr(0, 60);
        if (!single.ok()) {
            EXPECT_FALSE(single.error().empty());
            EXPECT_LT(single.error().size(), 300u) << "error messages quote at most an excerpt";
        }
        EXPECT_LT(elapsed, std::chrono::seconds(1)) << input.substr(0, 60);
    }
}

}  // namespace
}  // namespace tenantmail
