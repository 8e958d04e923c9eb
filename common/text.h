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

}  // namespace tenantmail
