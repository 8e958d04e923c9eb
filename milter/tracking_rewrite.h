// tracking_rewrite.h — open and click tracking in a message body, as pure
// logic over bytes (no libmilter): parses the MIME structure with GMime and
// each text/html part (not attachments) with an HTML5 parser, rewrites the
// href of links to the tracked URLs the caller makes, and puts the open
// pixel before </body> (or at the end). Only the changed parts' contents are
// replaced; every other byte of the message stays as it was. A part keeps
// its Content-Transfer-Encoding and charset; a 7bit/8bit part whose lines
// would pass 998 octets becomes quoted-printable (for a single-part message
// that changes the top-level Content-Transfer-Encoding field, returned as a
// header change). Left alone: mailto:, tel:, anchors and relative links,
// links with a data-notrack attribute or the "https+notrack://" prefix (the
// prefix is removed), links to the tracking domain itself, and plain-text
// parts.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tenantmail::milter {

struct TrackingPlan {
    // The tracked URL for an original absolute http(s) URL, or nullopt to
    // leave that link as it is (too long, ...). Empty: no link rewriting.
    std::function<std::optional<std::string>(std::string_view url)> click_url;
    std::string pixel_url;        // "" for no open pixel
    std::string tracking_domain;  // links already pointing here are left alone
};

struct RewrittenHeader {
    std::string name;   // e.g. "Content-Transfer-Encoding"
    std::string value;  // without leading space
};

struct RewriteResult {
    bool changed = false;                         // false: send the body as it came
    std::string body;                             // the new body (CRLF line ends) when changed
    std::vector<RewrittenHeader> header_changes;  // top-level fields to replace
    std::size_t links_rewritten = 0;
    bool pixel_added = false;
    std::string skipped;  // why nothing was changed, for the log ("" when changed
                          // or nothing to do)
};

// header_block: the top-level header fields as received, each "Name: value"
// with CRLF line ends, ending with the empty line; body: the body bytes.
RewriteResult rewrite_for_tracking(std::string_view header_block, std::string_view body, const TrackingPlan& plan);

}  // namespace tenantmail::milter
