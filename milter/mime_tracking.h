// mime_tracking.h — open and click tracking of a whole message body: its
// MIME structure read with GMime, each text/html part that is not an
// attachment decoded (quoted-printable, base64, 7bit/8bit), tracked
// (html_tracking.h) and encoded again with its own transfer encoding; with
// text_links, text/plain parts too (their URLs, text_tracking.h). Only
// those parts' content is replaced in the original bytes: headers, part
// headers, boundaries, preamble and every other part stay as they were, so
// the top-level header fields need no change. One open pixel per message
// (in the first HTML part). Left as they were: signed or encrypted messages
// (multipart/signed, multipart/encrypted, application/pkcs7-mime), attached
// messages (message/rfc822), parts in charsets that are not ASCII-compatible
// (UTF-16/32, UTF-7, ISO-2022-*), unknown transfer encodings, and a 7bit or
// 8bit part whose rewritten lines would pass 998 octets. Pure: no I/O.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "milter/html_tracking.h"

namespace tenantmail::milter {

// The HTML tracker, and whether text/plain parts get their links rewritten
// with its click_link as well.
struct BodyTracker {
    BodyTracker(HtmlTracker tracker = {}, bool text = false) : html(std::move(tracker)), text_links(text) {}
    HtmlTracker html;
    bool text_links = false;
};

struct MimeTrackingResult {
    std::optional<std::string> body;  // the new body (CRLF lines); nullopt: unchanged
    std::size_t html_parts = 0;       // text/html parts rewritten
    std::size_t text_parts = 0;       // text/plain parts rewritten
    std::size_t links_rewritten = 0;
    bool pixel_added = false;
    std::string skipped;  // why parts or the message were left alone, for the log ("" for nothing)
};

// content_type, transfer_encoding: the top-level field values as received
// ("" when absent); body: the message body as the MTA passed it (CRLF).
MimeTrackingResult track_mime_body(std::string_view content_type, std::string_view transfer_encoding,
                                   std::string_view body, const BodyTracker& tracker);

// Whether a message with this top-level Content-Type ("" when it has none:
// text/plain) may hold parts worth buffering for: text/html or multipart/*
// other than signed or encrypted, and with text_links text/plain too.
bool may_hold_trackable_parts(std::string_view content_type, bool text_links);

}  // namespace tenantmail::milter
