// report_text.h — text taken from a report (diagnostics, addresses, agent
// names) made safe to put in a log line, an event's JSON or a suppression
// reason: valid UTF-8 is kept (RFC 6533 reports carry it), control
// characters and invalid bytes become '?', and the result is cut at a
// character boundary. Pure.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tenantmail::bounce {

// At most max_bytes of text, then "..." when something was cut.
std::string clean_text(std::string_view text, std::size_t max_bytes);

}  // namespace tenantmail::bounce
