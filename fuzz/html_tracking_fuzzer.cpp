// html_tracking_fuzzer.cpp — a tenant's message body as the milter's tracking
// reads it: the input's first line is the Content-Type value, the second the
// Content-Transfer-Encoding value, the rest the body (anything a tenant sends).
// Invariants: with nothing to add, nothing changes (the body, and an HTML
// document, come back byte for byte); tracking is deterministic for a
// deterministic tracker; a body is rewritten only when a part got a link or
// the pixel; a document left alone (too deep) comes back as it was. The
// same input as plain text (text_tracking.h): nothing changes without a
// link made, and every URL handed out lies inside the text.
#include <string>

#include "fuzz/fuzz_check.h"
#include "milter/mime_tracking.h"
#include "milter/text_tracking.h"

namespace {

using namespace tenantmail::milter;

HtmlTracker tracker() {
    HtmlTracker t;
    t.pixel_url = "https://t.example/o/P";
    t.click_link = [](std::string_view url) -> std::optional<std::string> {
        if (url.size() % 3 == 0) return std::nullopt;  // some links declined, as over-long ones are
        return "https://t.example/c/C";
    };
    return t;
}

std::string_view next_line(std::string_view& text) {
    const std::size_t lf = text.find('\n');
    const std::string_view line = text.substr(0, lf);
    text.remove_prefix(lf == std::string_view::npos ? text.size() : lf + 1);
    return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > 256 * 1024) return 0;  // the milter's limit is far larger; keep runs fast
    std::string_view input = tenantmail::fuzz::as_text(data, size);
    const std::string_view whole = input;
    const std::string_view content_type = next_line(input);
    const std::string_view encoding = next_line(input);
    const std::string_view body = input;

    FUZZ_CHECK(!track_mime_body(content_type, encoding, body, HtmlTracker{}).body);
    const HtmlTrackingResult untouched = track_html(whole, HtmlTracker{});
    FUZZ_CHECK(untouched.html == whole);

    const MimeTrackingResult first = track_mime_body(content_type, encoding, body, tracker());
    const MimeTrackingResult second = track_mime_body(content_type, encoding, body, tracker());
    FUZZ_CHECK(first.body == second.body);
    if (first.body) FUZZ_CHECK(first.html_parts > 0 && (first.links_rewritten > 0 || first.pixel_added));

    const HtmlTrackingResult html = track_html(whole, tracker());
    if (!html.skipped.empty()) FUZZ_CHECK(html.html == whole && html.links_rewritten == 0 && !html.pixel_added);
    if (html.skipped.empty()) FUZZ_CHECK(html.pixel_added);

    const MimeTrackingResult with_text = track_mime_body(content_type, encoding, body, BodyTracker(tracker(), true));
    if (with_text.body) FUZZ_CHECK(with_text.html_parts + with_text.text_parts > 0);
    std::size_t offered = 0;
    const auto inside = [&](std::string_view url) -> std::optional<std::string> {
        FUZZ_CHECK(url.data() >= whole.data() && url.data() + url.size() <= whole.data() + whole.size());
        return ++offered % 2 == 0 ? std::nullopt : std::optional<std::string>("L");
    };
    const TextTrackingResult text = track_text_links(whole, inside);
    FUZZ_CHECK(text.links_rewritten == (offered + 1) / 2);
    if (text.links_rewritten == 0) FUZZ_CHECK(text.text == whole);
    return 0;
}
