// html_tracking.h — open and click tracking inside one HTML document: the
// href of each <a>/<area> that leads to an http(s) page replaced by its
// tracking link, and a 1x1 open pixel inserted before </body> (or at the
// end). Parsed with gumbo (the HTML5 algorithm browsers use), never with
// patterns; only the attribute values and the pixel's insertion point are
// spliced into the original bytes, so everything else (markup, whitespace,
// text in any ASCII-compatible charset) stays exactly as the tenant wrote it.
// Left alone: mailto:, tel:, anchors and other non-http(s) targets, links
// with a data-notrack attribute, links to an unsubscribe page (their URL
// contains "unsubscribe", or is the message's List-Unsubscribe URL), and
// URLs the token cannot hold. Pure: no I/O.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace tenantmail::milter {

struct HtmlTracker {
    // The tracking link for a target URL (as the reader's browser would
    // follow it: entities decoded); nullopt leaves that link alone. Unset:
    // no link is rewritten.
    std::function<std::optional<std::string>(std::string_view url)> click_link;
    std::string pixel_url;  // "" for no pixel
};

struct HtmlTrackingResult {
    std::string html;
    std::size_t links_rewritten = 0;
    bool pixel_added = false;
    std::string skipped;  // why the document was left as it was ("" when it was not)
};

// Nesting this deep (as a cheap count of open tags estimates it) is left
// untouched: no mail needs it, and gumbo frees its tree recursively.
inline constexpr std::size_t kMaxHtmlNesting = 4000;

HtmlTrackingResult track_html(std::string_view html, const HtmlTracker& tracker);

// Whether a link target is left alone (see above); exposed for tests.
bool is_untracked_target(std::string_view url);

}  // namespace tenantmail::milter
