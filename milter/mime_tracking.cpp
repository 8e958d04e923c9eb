#include "milter/mime_tracking.h"

#include <algorithm>
#include <array>
#include <utility>
#include <vector>

#include "common/header_fold.h"
#include "common/mime/gmime_handles.h"
#include "common/text.h"
#include "milter/text_tracking.h"

namespace tenantmail::milter {
namespace {

// One part's new content, in the coordinates of the body.
struct Replacement {
    std::size_t offset = 0;
    std::size_t length = 0;
    std::string content;
};

struct Walk {
    const BodyTracker& tracker;
    std::string_view message;  // what GMime parsed: the synthetic header, then the body
    std::size_t body_offset = 0;
    std::vector<Replacement> replacements;
    MimeTrackingResult result;

    void note(const std::string& why) {
        if (result.skipped.find(why) != std::string::npos) return;
        if (!result.skipped.empty()) result.skipped += "; ";
        result.skipped += why;
    }
};

bool charset_is_ascii_compatible(const char* charset) {
    if (charset == nullptr) return true;
    const std::string lower = to_lower(charset);
    static constexpr std::array<std::string_view, 6> unsafe = {"utf-16", "utf-32", "ucs-", "utf-7", "iso-2022", "hz-"};
    return std::none_of(unsafe.begin(), unsafe.end(),
                        [&](std::string_view prefix) { return lower.rfind(prefix, 0) == 0; });
}

std::string encode(GMimeContentEncoding encoding, std::string_view data) {
    GMimeEncoding state;
    g_mime_encoding_init_encode(&state, encoding);
    std::string out(g_mime_encoding_outlen(&state, data.size()) + 16, '\0');
    const std::size_t written = g_mime_encoding_flush(&state, data.data(), data.size(), out.data());
    out.resize(written);
    return out;
}

std::size_t longest_line_octets(std::string_view text) {
    std::size_t longest = 0;
    for (std::size_t start = 0; start <= text.size();) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        std::size_t length = end - start;
        if (length > 0 && end < text.size() && text[end - 1] == '\r') --length;
        longest = std::max(longest, length);
        start = end + 1;
    }
    return longest;
}

bool ends_with_newline(std::string_view text) { return !text.empty() && text.back() == '\n'; }

// The tracked HTML in the part's own transfer encoding, CRLF lines, ending
// with a line break exactly when the original content did; nullopt (and a
// note) when the part must stay as it was.
std::optional<std::string> reencode(Walk& walk, GMimeContentEncoding encoding, std::string_view original,
                                    const std::string& tracked) {
    std::string content;
    switch (encoding) {
        case GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE: content = lf_to_crlf(encode(encoding, crlf_to_lf(tracked))); break;
        case GMIME_CONTENT_ENCODING_BASE64: content = lf_to_crlf(encode(encoding, tracked)); break;
        default:
            content = tracked;
            if (longest_line_octets(content) > max_header_line_octets) {
                walk.note("an unencoded part would get lines over 998 octets");
                return std::nullopt;
            }
    }
    while (ends_with_newline(content) && !ends_with_newline(original)) {
        content.pop_back();
        if (!content.empty() && content.back() == '\r') content.pop_back();
    }
    if (!ends_with_newline(content) && ends_with_newline(original)) content += "\r\n";
    return content;
}

bool known_transfer_encoding(GMimeObject* part) {
    const char* value = g_mime_object_get_header(part, "Content-Transfer-Encoding");
    if (value == nullptr) return true;
    const std::string lower = to_lower(trim(value));
    return lower == "7bit" || lower == "8bit" || lower == "binary" || lower == "quoted-printable" ||
           lower == "base64";
}

enum class PartKind { html, text };

struct TrackedContent {
    std::string content;
    std::size_t links = 0;
    bool pixel = false;
};

// The part's content tracked, or nullopt when nothing in it changed.
std::optional<TrackedContent> track_content(Walk& walk, PartKind kind, std::string_view content) {
    if (kind == PartKind::text) {
        TextTrackingResult tracked = track_text_links(content, walk.tracker.html.click_link);
        if (tracked.links_rewritten == 0) return std::nullopt;
        return TrackedContent{std::move(tracked.text), tracked.links_rewritten, false};
    }
    HtmlTracker tracker = walk.tracker.html;
    if (walk.result.pixel_added) tracker.pixel_url.clear();  // one pixel per message
    HtmlTrackingResult tracked = track_html(content, tracker);
    if (!tracked.skipped.empty()) {
        walk.note(tracked.skipped);
        return std::nullopt;
    }
    if (tracked.links_rewritten == 0 && !tracked.pixel_added) return std::nullopt;
    return TrackedContent{std::move(tracked.html), tracked.links_rewritten, tracked.pixel_added};
}

void track_part(Walk& walk, GMimePart* part, PartKind kind) {
    GMimeObject* object = GMIME_OBJECT(part);
    const std::string what = kind == PartKind::html ? "an HTML part" : "a text part";
    if (g_mime_part_is_attachment(part)) return;
    if (!charset_is_ascii_compatible(g_mime_object_get_content_type_parameter(object, "charset"))) {
        walk.note(what + "'s charset is not ASCII-compatible");
        return;
    }
    if (!known_transfer_encoding(object)) {
        walk.note(what + " has an unknown transfer encoding");
        return;
    }
    GMimeDataWrapper* wrapper = g_mime_part_get_content(part);
    if (wrapper == nullptr) return;
    GMimeStream* source = g_mime_data_wrapper_get_stream(wrapper);
    const gint64 start = source->bound_start;
    const gint64 end = source->bound_end < 0 ? static_cast<gint64>(walk.message.size()) : source->bound_end;
    if (start < static_cast<gint64>(walk.body_offset) || end < start || end > static_cast<gint64>(walk.message.size())) {
        walk.note(what + "'s position in the message is unknown");
        return;
    }
    const std::string_view original =
        walk.message.substr(static_cast<std::size_t>(start), static_cast<std::size_t>(end - start));

    GObjectPtr<GMimeStream> decoded(g_mime_stream_mem_new());
    if (g_mime_data_wrapper_write_to_stream(wrapper, decoded.get()) < 0) {
        walk.note(what + " could not be decoded");
        return;
    }
    GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(decoded.get()));
    const std::string_view content(reinterpret_cast<const char*>(bytes->data), bytes->len);

    auto tracked = track_content(walk, kind, content);
    if (!tracked) return;
    auto encoded = reencode(walk, g_mime_data_wrapper_get_encoding(wrapper), original, tracked->content);
    if (!encoded) return;
    walk.replacements.push_back({static_cast<std::size_t>(start) - walk.body_offset, original.size(), std::move(*encoded)});
    (kind == PartKind::html ? walk.result.html_parts : walk.result.text_parts) += 1;
    walk.result.links_rewritten += tracked->links;
    walk.result.pixel_added = walk.result.pixel_added || tracked->pixel;
}

bool is_signed_or_encrypted(GMimeObject* object) {
    GMimeContentType* type = g_mime_object_get_content_type(object);
    if (type == nullptr) return false;
    return g_mime_content_type_is_type(type, "multipart", "signed") ||
           g_mime_content_type_is_type(type, "multipart", "encrypted") ||
           g_mime_content_type_is_type(type, "application", "pkcs7-mime") ||
           g_mime_content_type_is_type(type, "application", "x-pkcs7-mime");
}

// Depth first, without recursion: GMime bounds nesting, we need not trust it.
void walk_parts(Walk& walk, GMimeObject* root) {
    std::vector<GMimeObject*> pending{root};
    std::vector<std::pair<GMimePart*, PartKind>> parts;
    while (!pending.empty()) {
        GMimeObject* object = pending.back();
        pending.pop_back();
        if (is_signed_or_encrypted(object)) {
            walk.note("signed or encrypted content");
            return;  // the whole message: tracking would break its signature
        }
        if (GMIME_IS_MULTIPART(object)) {
            GMimeMultipart* multipart = GMIME_MULTIPART(object);
            for (int i = g_mime_multipart_get_count(multipart) - 1; i >= 0; --i) {
                pending.push_back(g_mime_multipart_get_part(multipart, i));
            }
        } else if (GMIME_IS_PART(object)) {
            GMimeContentType* type = g_mime_object_get_content_type(object);
            if (type != nullptr && g_mime_content_type_is_type(type, "text", "html")) {
                parts.emplace_back(GMIME_PART(object), PartKind::html);
            } else if (walk.tracker.text_links && walk.tracker.html.click_link && type != nullptr &&
                       g_mime_content_type_is_type(type, "text", "plain")) {
                parts.emplace_back(GMIME_PART(object), PartKind::text);
            }
        }
        // message/rfc822 and other message parts: someone else's mail, left alone.
    }
    for (const auto& [part, kind] : parts) track_part(walk, part, kind);
}

std::string header_line(std::string_view name, std::string_view value) {
    return std::string(name) + ":" + std::string(value) + "\r\n";
}

}  // namespace

bool may_hold_trackable_parts(std::string_view content_type, bool text_links) {
    std::string type = to_lower(trim(content_type.substr(0, content_type.find(';'))));
    std::erase_if(type, [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
    if (type == "text/html") return true;
    if (text_links && (type == "text/plain" || type.empty())) return true;
    return type.rfind("multipart/", 0) == 0 && type != "multipart/signed" && type != "multipart/encrypted";
}

MimeTrackingResult track_mime_body(std::string_view content_type, std::string_view transfer_encoding,
                                   std::string_view body, const BodyTracker& tracker) {
    ensure_gmime_initialised();
    // GMime reads a message: give it the fields that shape the body, as received.
    std::string message = "MIME-Version: 1.0\r\n";
    if (!content_type.empty()) message += header_line("Content-Type", content_type);
    if (!transfer_encoding.empty()) message += header_line("Content-Transfer-Encoding", transfer_encoding);
    message += "\r\n";
    Walk walk{tracker, {}, message.size(), {}, {}};
    message.append(body);
    walk.message = message;

    GObjectPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(message.data(), message.size()));
    GObjectPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
    g_mime_parser_set_persist_stream(parser.get(), TRUE);
    GObjectPtr<GMimeMessage> parsed(g_mime_parser_construct_message(parser.get(), nullptr));
    if (!parsed || g_mime_message_get_mime_part(parsed.get()) == nullptr) {
        walk.note("the MIME structure could not be read");
        return std::move(walk.result);
    }
    walk_parts(walk, g_mime_message_get_mime_part(parsed.get()));
    if (walk.replacements.empty()) return std::move(walk.result);

    std::sort(walk.replacements.begin(), walk.replacements.end(),
              [](const Replacement& a, const Replacement& b) { return a.offset < b.offset; });
    std::string out;
    out.reserve(body.size() + body.size() / 4);
    std::size_t copied = 0;
    for (const Replacement& r : walk.replacements) {
        if (r.offset < copied || r.offset + r.length > body.size()) continue;
        out.append(body.substr(copied, r.offset - copied));
        out.append(r.content);
        copied = r.offset + r.length;
    }
    out.append(body.substr(copied));
    walk.result.body = std::move(out);
    return std::move(walk.result);
}

}  // namespace tenantmail::milter
