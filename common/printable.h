// printable.h — outside text (Redis values, client input, event fields)
// shortened and made safe for an SMTP reply or a log line: bytes outside
// printable ASCII become '?', at most max_length bytes, then "..." when cut.
// Not for terminals showing whole values (text.h's terminal_text escapes
// instead of replacing). Pure, cannot fail.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tenantmail {

// Appends to out.
void append_printable(std::string& out, std::string_view text, std::size_t max_length);
// The same as a new string.
std::string excerpt(std::string_view text, std::size_t max_length);

}  // namespace tenantmail
