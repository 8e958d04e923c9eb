// text.h — small ASCII string helpers shared by the parsers. Pure, no locale:
// mail syntax is ASCII and must not change meaning with the admin's LANG.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tenantmail {

inline bool is_wsp(char c) { return c == ' ' || c == '\t'; }
inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
inline char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

std::string to_lower(std::string_view text);
bool iequals(std::string_view a, std::string_view b);
// Strips spaces, tabs, CR and LF at both ends.
std::string_view trim(std::string_view text);
// Splits on runs of whitespace and commas; no empty items.
std::vector<std::string_view> split_list(std::string_view text);

// Line ends: every LF not after a CR gets one; every CR before an LF goes.
// Other CRs stay as they are.
std::string lf_to_crlf(std::string_view text);
std::string crlf_to_lf(std::string_view text);

// Outside data (DNS answers, mail headers, Redis values, postqueue output,
// file contents) made safe to print on a terminal: control characters
// (C0, DEL, and C1 whether raw or UTF-8 encoded) and bidirectional
// overrides come out as visible escapes ("\x1b", "\u009b", "\u202e"),
// bytes that are not UTF-8 as "\xNN", and a backslash as "\\", so the
// text cannot move the cursor, clear the screen, retitle the window or
// pass for something it is not. Printable ASCII and valid UTF-8 pass
// unchanged. For text output only: JSON output has its own escaping.
std::string terminal_text(std::string_view text);
// terminal_text cut to at most max_width bytes (at a UTF-8 boundary,
// ending "..."), for one column of a table.
std::string terminal_cell(std::string_view text, std::size_t max_width);
// The same for text of several lines (error messages): '\n' is kept.
std::string terminal_lines(std::string_view text);

}  // namespace tenantmail
