// header_field.h — a message's header block split into fields (RFC 5322 2.2),
// each kept as its exact bytes (folding included) so DKIM can canonicalise it.
// Accepts CRLF or bare LF line ends. Does not decode values (no RFC 2047, no
// address parsing). Malformed blocks are Result errors, never guesses: a
// leading continuation line, a line that is neither a field nor a
// continuation, a bad field name, a NUL byte, a field or block over the limits.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace tenantmail {

struct HeaderField {
    // Name, colon, value and any folding line breaks, exactly as received,
    // without the line end that terminates the field.
    std::string raw;
    // raw[0, name_length) is the name: the text before the colon with any
    // whitespace before the colon removed ("Subject : hi" -> "Subject").
    std::size_t name_length = 0;
    std::size_t colon = 0;  // offset of the colon in raw

    std::string_view name() const { return std::string_view(raw).substr(0, name_length); }
    // Everything after the colon, unmodified (leading space and folding kept).
    std::string_view value() const { return std::string_view(raw).substr(colon + 1); }
};

struct HeaderLimits {
    // Postfix's header_size_limit default: a longer field is not one a
    // legitimate client sends, and Postfix would have truncated it anyway.
    std::size_t max_field_bytes = 102400;
    std::size_t max_fields = 10000;
};

// Checks one complete field (name, colon, value, folding; no final line end)
// and records where its name ends. Every line break inside must be followed
// by a space or tab (a continuation), otherwise it is two fields or garbage.
Result<HeaderField> parse_header_field(std::string_view raw, const HeaderLimits& limits = {});

struct SplitMessage {
    std::vector<HeaderField> headers;
    // Offset of the first body byte: just after the empty line that ends the
    // header block, or message.size() when there is no empty line (no body).
    std::size_t body_offset = 0;
};

Result<SplitMessage> split_message(std::string_view message, const HeaderLimits& limits = {});

}  // namespace tenantmail
