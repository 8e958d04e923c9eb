// text_tracking.h — click tracking in plain text (text/plain parts, when a
// tenant asks for it with track_text_links): each http:// or https:// URL
// in the text is replaced by the link click_link gives for it. Where a URL
// ends follows what mail clients make clickable: at whitespace, control
// characters, quotes and angle brackets (a URL written <https://...> ends
// at '>', RFC 3986 appendix C), and trailing punctuation . , ; : ! ? is not
// part of it, nor is a closing ) or ] that the URL did not open. The same
// targets as in HTML are left alone (html_tracking.h is_untracked_target),
// and so is a URL click_link declines. Pure: no I/O.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace tenantmail::milter {

struct TextTrackingResult {
    std::string text;
    std::size_t links_rewritten = 0;
};

// URLs longer than this are left as they are (no client needs them, and a
// bounded scan keeps hostile text linear).
inline constexpr std::size_t kMaxTextUrlOctets = 8192;

TextTrackingResult track_text_links(std::string_view text,
                                    const std::function<std::optional<std::string>(std::string_view url)>& click_link);

// The URL starting at text[start] (which must begin with http:// or
// https://, any case), as track_text_links delimits it; exposed for tests.
std::string_view url_at(std::string_view text, std::size_t start);

}  // namespace tenantmail::milter
