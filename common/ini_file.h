// ini_file.h — lexer for the INI syntax shared by tenants.conf and tenantmail.conf:
// `[section]`, `key = value`, `#`/`;` comments, blank lines, LF or CRLF.
// It only splits text into entries with line numbers; what keys mean, which are
// allowed and whether one may repeat is the caller's business.
// Fails on the first bad line with "file:line: reason" (no partial result).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace tenantmail {

// Longest line accepted, without its line ending. Anything longer is almost
// certainly not a hand-written config (a pasted key, a binary file).
inline constexpr std::size_t kIniMaxLineLength = 4096;
// Largest file read_ini_file() accepts.
inline constexpr std::size_t kIniMaxFileSize = 16 * 1024 * 1024;

struct IniEntry {
    std::string section;  // "" for keys before the first section header
    std::string key;
    std::string value;  // trimmed; may be empty ("key =")
    std::size_t line = 0;
};

struct IniSectionHeader {
    std::string name;
    std::size_t line = 0;
};

struct IniFile {
    std::string filename;
    std::vector<IniSectionHeader> sections;  // in file order, repeats kept
    std::vector<IniEntry> entries;           // in file order, repeats kept
};

struct IniOptions {
    // tenantmail.conf has top-level keys (tenants_file = ...); tenants.conf does not.
    bool allow_keys_outside_sections = false;
};

// Lexes text; filename only names the source in error messages.
Result<IniFile> parse_ini(std::string_view text, std::string_view filename, const IniOptions& options = {});
// Reads path (at most kIniMaxFileSize bytes) and lexes it.
Result<IniFile> read_ini_file(const std::string& path, const IniOptions& options = {});

// "file:line: reason", the one shape every config error takes.
std::string ini_error(std::string_view filename, std::size_t line, std::string_view reason);

// The known name closest to a mistyped one (at most two edits away), or "" —
// for "unknown key "selectr" (did you mean "selector"?)".
std::string_view closest_name(std::string_view typo, const std::vector<std::string_view>& known);
// The " (did you mean "x"?)" suffix for an error message, or "" when nothing is close.
std::string did_you_mean(std::string_view typo, const std::vector<std::string_view>& known);

}  // namespace tenantmail
