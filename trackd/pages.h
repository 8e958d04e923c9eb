// pages.h — the fixed bodies trackd answers with: the open pixel (the
// smallest transparent GIF, 43 bytes), the unsubscribe confirmation page
// (plain HTML, no script, no outside resources; its one button POSTs
// List-Unsubscribe=One-Click to the same path, exactly what a mail client
// does for RFC 8058) and the short texts of the other answers.
// Pure.
#pragma once

#include <string>
#include <string_view>

namespace tenantmail::trackd {

// GIF89a, 1x1, one transparent colour.
std::string_view transparent_gif();

// The page at GET /u/TOKEN. token goes into the form's action (escaped).
std::string unsubscribe_page(std::string_view token);
// The answer to the POST.
std::string_view unsubscribed_page();
std::string_view not_found_text();

// &, <, >, " and ' as HTML entities.
std::string html_escape(std::string_view text);

}  // namespace tenantmail::trackd
