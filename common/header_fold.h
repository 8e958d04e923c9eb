// header_fold.h — the physical lines of a header field (RFC 5322 2.1.1, 2.2.3):
// how long the longest is, and folding long ones at existing whitespace.
// A line over 998 octets does not survive transit (MTAs split it, which breaks
// a DKIM signature); 78 is the recommended width. Folding only inserts a line
// break before a space or tab already there, which unfolding removes again,
// so the field means the same; a run of text with no whitespace cannot be
// folded and stays as long as it is. Pure, linear time.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tenantmail {

// RFC 5322 2.1.1: the limit, and the width a generated field should keep to.
inline constexpr std::size_t max_header_line_octets = 998;
inline constexpr std::size_t recommended_header_line_octets = 78;

// Octets of the longest physical line of a field (name, colon, value, folds as
// CRLF or LF), line ends not counted.
std::size_t longest_line(std::string_view raw_field);

// raw_field (name, colon, value, possibly folded already) with every line
// longer than width folded, as close to width as whitespace allows, with CRLF
// before the whitespace. Never folds inside the name, before the first
// character of the value, after a backslash (it could end a quoted-pair), or
// where only whitespace would follow on the new line.
std::string fold_field(std::string_view raw_field, std::size_t width = recommended_header_line_octets);

}  // namespace tenantmail
