// ini_file_test.cpp — the INI lexer: accepted syntax, and every way a line is
// refused, each with its exact "file:line: reason" message.
// Pure: text in memory, except one missing-file case.
#include "common/ini_file.h"

#include <gtest/gtest.h>

#include <string>

namespace tenantmail {
namespace {

IniFile parse_ok(std::string_view text, IniOptions options = {}) {
    auto parsed = parse_ini(text, "t.conf", options);
    EXPECT_TRUE(parsed.ok()) << parsed.error();
    return parsed.ok() ? *parsed : IniFile{};
}

std::string parse_error(std::string_view text, IniOptions options = {}) {
    auto parsed = parse_ini(text, "t.conf", options);
    EXPECT_FALSE(parsed.ok());
    return parsed.ok() ? std::string() : parsed.error();
}

TEST(IniFile, YieldsEntriesWithSectionAndLineNumber) {
    const IniFile ini = parse_ok("[a]\nx = 1\n\n[b]\n  y=two words  \n");
    ASSERT_EQ(ini.entries.size(), 2u);
    EXPECT_EQ(ini.entries[0].section, "a");
    EXPECT_EQ(ini.entries[0].key, "x");
    EXPECT_EQ(ini.entries[0].value, "1");
    EXPECT_EQ(ini.entries[0].line, 2u);
    EXPECT_EQ(ini.entries[1].section, "b");
    EXPECT_EQ(ini.entries[1].value, "two words");
    EXPECT_EQ(ini.entries[1].line, 5u);
    ASSERT_EQ(ini.sections.size(), 2u);
    EXPECT_EQ(ini.sections[1].name, "b");
    EXPECT_EQ(ini.sections[1].line, 4u);
}

TEST(IniFile, SkipsFullLineCommentsOfBothKinds) {
    const IniFile ini = parse_ok("# one\n; two\n   # indented\n[a]\nk = v\n");
    ASSERT_EQ(ini.entries.size(), 1u);
    EXPECT_EQ(ini.entries[0].line, 5u);
}

TEST(IniFile, InlineCommentNeedsWhitespaceBefore) {
    const IniFile ini = parse_ok("[a] ; header comment\nk = v ; c\nu = https://x/#frag\nw = a;b\nt = v\t# tab\n");
    ASSERT_EQ(ini.entries.size(), 4u);
    EXPECT_EQ(ini.entries[0].value, "v");
    EXPECT_EQ(ini.entries[1].value, "https://x/#frag");
    EXPECT_EQ(ini.entries[2].value, "a;b");
    EXPECT_EQ(ini.entries[3].value, "v");
}

TEST(IniFile, EmptyValueIsKept) {
    const IniFile ini = parse_ok("[a]\nk =\n");
    ASSERT_EQ(ini.entries.size(), 1u);
    EXPECT_EQ(ini.entries[0].value, "");
}

TEST(IniFile, ValueMayContainEquals) {
    const IniFile ini = parse_ok("[a]\nk = x=y\n");
    EXPECT_EQ(ini.entries.at(0).value, "x=y");
}

TEST(IniFile, CrlfLineEndingsAreAccepted) {
    const IniFile ini = parse_ok("[a]\r\nk = v\r\n\r\n");
    ASSERT_EQ(ini.entries.size(), 1u);
    EXPECT_EQ(ini.entries[0].value, "v");
    EXPECT_EQ(ini.sections.at(0).name, "a");
}

TEST(IniFile, LastLineWithoutNewlineCounts) { EXPECT_EQ(parse_ok("[a]\nk = v").entries.size(), 1u); }

TEST(IniFile, EmptyTextHasNoEntries) {
    const IniFile ini = parse_ok("");
    EXPECT_TRUE(ini.entries.empty());
    EXPECT_TRUE(ini.sections.empty());
}

TEST(IniFile, LeadingByteOrderMarkIsIgnored) {
    EXPECT_EQ(parse_ok("\xEF\xBB\xBF[a]\nk = v\n").sections.at(0).name, "a");
}

TEST(IniFile, RepeatedKeysAndSectionsAreReportedNotMerged) {
    const IniFile ini = parse_ok("[a]\nk = 1\nk = 2\n[a]\n");
    EXPECT_EQ(ini.entries.size(), 2u);
    EXPECT_EQ(ini.sections.size(), 2u);
}

TEST(IniFile, KeyOutsideSectionIsAnErrorUnlessAllowed) {
    EXPECT_EQ(parse_error("k = v\n"), "t.conf:1: key \"k\" outside any [section]");
    IniOptions global;
    global.allow_keys_outside_sections = true;
    const IniFile ini = parse_ok("k = v\n[s]\nj = w\n", global);
    EXPECT_EQ(ini.entries.at(0).section, "");
    EXPECT_EQ(ini.entries.at(1).section, "s");
}

TEST(IniFile, LineThatIsNeitherSectionNorKeyIsAnError) {
    EXPECT_EQ(parse_error("[a]\n\njust words\n"),
              "t.conf:3: expected \"[section]\" or \"key = value\", got \"just words\"");
}

TEST(IniFile, EmptyKeyIsAnError) { EXPECT_EQ(parse_error("[a]\n = v\n"), "t.conf:2: empty key before '='"); }

TEST(IniFile, KeyWithSpacesIsAnError) {
    EXPECT_EQ(parse_error("[a]\nbulk rate = 1\n"),
              "t.conf:2: invalid key \"bulk rate\" (letters, digits, '_', '-', '.' only)");
}

TEST(IniFile, BrokenSectionHeadersAreErrors) {
    EXPECT_EQ(parse_error("[a\n"), "t.conf:1: section header \"[a\" lacks a closing ']'");
    EXPECT_EQ(parse_error("[ ]\n"), "t.conf:1: empty section name");
    EXPECT_EQ(parse_error("[a]]\n"), "t.conf:1: brackets inside section name \"a]\"");
}

TEST(IniFile, LineOfExactlyMaximumLengthIsAccepted) {
    const std::string line = "k = " + std::string(kIniMaxLineLength - 4, 'x');
    EXPECT_EQ(parse_ok("[a]\n" + line + "\n").entries.at(0).value.size(), kIniMaxLineLength - 4);
}

TEST(IniFile, OverlongLineIsAnError) {
    const std::string line = "k = " + std::string(kIniMaxLineLength, 'x');
    EXPECT_EQ(parse_error("[a]\n" + line + "\n"), "t.conf:2: line longer than 4096 characters");
}

TEST(IniFile, OverlongCommentLineIsAnErrorToo) {
    EXPECT_EQ(parse_error("#" + std::string(kIniMaxLineLength, 'x')), "t.conf:1: line longer than 4096 characters");
}

TEST(IniFile, NulByteIsAnError) {
    EXPECT_EQ(parse_error(std::string("[a]\nk = v\0w\n", 10)), "t.conf:2: NUL byte in line; binary file?");
}

TEST(IniFile, ControlCharacterIsAnError) {
    EXPECT_EQ(parse_error("[a]\nk = \x1b[31m\n"), "t.conf:2: control character 0x1b in line; binary file?");
    EXPECT_EQ(parse_error("[a]\rk = v\r"), "t.conf:1: control character 0x0d in line; binary file?");
}

TEST(IniFile, BinaryGarbageIsRejectedNotSkipped) {
    std::string garbage;
    for (int i = 0; i < 512; ++i) garbage.push_back(static_cast<char>((i * 73 + 11) % 256));
    EXPECT_FALSE(parse_ini(garbage, "t.conf").ok());
}

TEST(IniFile, Utf8InValuesIsAccepted) {
    EXPECT_EQ(parse_ok("[a]\nk = Universit\xC3\xA9\n").entries.at(0).value, "Universit\xC3\xA9");
}

TEST(IniFile, MissingFileNamesThePath) {
    auto parsed = read_ini_file("/nonexistent/tenantmail-test.conf");
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.error().rfind("/nonexistent/tenantmail-test.conf: cannot open: ", 0), 0u) << parsed.error();
}

TEST(IniFile, ClosestNameSuggestsWithinTwoEdits) {
    const std::vector<std::string_view> known{"selector", "domains", "key"};
    EXPECT_EQ(closest_name("selectr", known), "selector");
    EXPECT_EQ(closest_name("Domain", known), "domains");
    EXPECT_EQ(closest_name("webhook", known), "");
    EXPECT_EQ(did_you_mean("selectr", known), " (did you mean \"selector\"?)");
    EXPECT_EQ(did_you_mean("zzzzzzzz", known), "");
}

}  // namespace
}  // namespace tenantmail
