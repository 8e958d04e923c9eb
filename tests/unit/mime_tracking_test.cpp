// mime_tracking_test.cpp — tracking a whole message body: each HTML part
// decoded, rewritten and encoded again in its own transfer encoding, the
// rest of the message byte for byte as it came; what is left alone.
#include "milter/mime_tracking.h"

#include <gtest/gtest.h>

#include <string>

#include "common/base64.h"

namespace tenantmail::milter {
namespace {

HtmlTracker tracker() {
    HtmlTracker t;
    t.pixel_url = "https://t.example/o/PIXEL";
    t.click_link = [](std::string_view) -> std::optional<std::string> { return "https://t.example/c/CLICK"; };
    return t;
}

std::string qp_decode_soft_breaks(std::string text) {
    for (std::size_t at; (at = text.find("=\r\n")) != std::string::npos;) text.erase(at, 3);
    return text;
}

bool every_line_at_most(const std::string& text, std::size_t limit) {
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find("\r\n", start);
        if (end == std::string::npos) end = text.size();
        if (end - start > limit) return false;
        start = end + 2;
    }
    return true;
}

bool only_crlf_line_ends(const std::string& text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) return false;
        if (text[i] == '\r' && (i + 1 == text.size() || text[i + 1] != '\n')) return false;
    }
    return true;
}

TEST(MimeTracking, SinglePartHtmlIn8bitIsRewrittenInPlace) {
    const std::string body = "<html><body><a href=\"https://uni.example/\">caf\xc3\xa9</a></body></html>\r\n";
    const MimeTrackingResult result = track_mime_body(" text/html; charset=utf-8", " 8bit", body, tracker());
    ASSERT_TRUE(result.body) << result.skipped;
    EXPECT_EQ(*result.body,
              "<html><body><a href=\"https://t.example/c/CLICK\">caf\xc3\xa9</a><img src=\"https://t.example/o/PIXEL\""
              " width=\"1\" height=\"1\" alt=\"\" border=\"0\" "
              "style=\"display:block;width:1px;height:1px;border:0;margin:0;padding:0\"></body></html>\r\n");
    EXPECT_EQ(result.links_rewritten, 1u);
    EXPECT_TRUE(result.pixel_added);
}

TEST(MimeTracking, QuotedPrintableIsDecodedAndEncodedAgainWithShortCrlfLines) {
    const std::string body =
        "<html><body><p style=3D\"color:red\">Caf=C3=A9 =E2=82=AC</p><a href=3D\"https://uni.exam=\r\n"
        "ple/jobs?a=3D1&amp;b=3D2\">Jobs</a></body></html>\r\n";
    const MimeTrackingResult result =
        track_mime_body(" text/html; charset=\"UTF-8\"", " quoted-printable", body, tracker());
    ASSERT_TRUE(result.body) << result.skipped;
    EXPECT_TRUE(every_line_at_most(*result.body, 76)) << *result.body;
    EXPECT_TRUE(only_crlf_line_ends(*result.body));
    const std::string flat = qp_decode_soft_breaks(*result.body);
    EXPECT_NE(flat.find("<p style=3D\"color:red\">Caf=C3=A9 =E2=82=AC</p>"), std::string::npos) << flat;
    EXPECT_NE(flat.find("href=3D\"https://t.example/c/CLICK\""), std::string::npos) << flat;
    EXPECT_NE(flat.find("src=3D\"https://t.example/o/PIXEL\""), std::string::npos) << flat;
    EXPECT_EQ(flat.find("uni.example"), std::string::npos);
    EXPECT_EQ(result.body->substr(result.body->size() - 2), "\r\n");
}

TEST(MimeTracking, Base64IsDecodedAndEncodedAgain) {
    const std::string html = "<html><body><a href=\"https://uni.example/\">x</a></body></html>\r\n";
    std::string encoded = base64_encode(html);
    const std::string body = encoded + "\r\n";
    const MimeTrackingResult result = track_mime_body(" text/html", " base64", body, tracker());
    ASSERT_TRUE(result.body) << result.skipped;
    EXPECT_TRUE(every_line_at_most(*result.body, 76));
    EXPECT_TRUE(only_crlf_line_ends(*result.body));
    std::string joined;
    for (char c : *result.body) {
        if (c != '\r' && c != '\n') joined.push_back(c);
    }
    const auto decoded = base64_decode(joined);
    ASSERT_TRUE(decoded);
    EXPECT_NE(decoded->find("href=\"https://t.example/c/CLICK\""), std::string::npos) << *decoded;
    EXPECT_NE(decoded->find("<img src=\"https://t.example/o/PIXEL\""), std::string::npos);
}

const std::string alternative_with_attachment =
    "This is a multi-part message in MIME format.\r\n"
    "--outer\r\n"
    "Content-Type: multipart/alternative; boundary=\"inner\"\r\n"
    "\r\n"
    "--inner\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "\r\n"
    "See https://uni.example/jobs\r\n"
    "--inner\r\n"
    "Content-Type: text/html; charset=iso-8859-1\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "<html><body><a href=3D\"https://uni.example/jobs\">Caf=E9</a></body></html>\r\n"
    "--inner--\r\n"
    "\r\n"
    "--outer\r\n"
    "Content-Type: text/html; name=\"attached.html\"\r\n"
    "Content-Disposition: attachment; filename=\"attached.html\"\r\n"
    "\r\n"
    "<a href=\"https://uni.example/attachment\">keep</a>\r\n"
    "--outer\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "From: a@b.example\r\n"
    "Content-Type: text/html\r\n"
    "\r\n"
    "<a href=\"https://uni.example/forwarded\">keep</a>\r\n"
    "--outer--\r\n"
    "epilogue\r\n";

TEST(MimeTracking, OnlyTheInlineHtmlPartOfAMultipartChanges) {
    const MimeTrackingResult result = track_mime_body(" multipart/mixed;\r\n\tboundary=\"outer\"", "",
                                                      alternative_with_attachment, tracker());
    ASSERT_TRUE(result.body) << result.skipped;
    EXPECT_EQ(result.html_parts, 1u);
    const std::string& out = *result.body;
    const std::size_t html_start = alternative_with_attachment.find("<html>");
    const std::size_t html_end = alternative_with_attachment.find("\r\n--inner--");
    // Before and after the HTML part's content: unchanged.
    EXPECT_EQ(out.substr(0, html_start), alternative_with_attachment.substr(0, html_start));
    const std::string tail = alternative_with_attachment.substr(html_end);
    EXPECT_EQ(out.substr(out.size() - tail.size()), tail);
    const std::string html = qp_decode_soft_breaks(out.substr(html_start, out.size() - tail.size() - html_start));
    EXPECT_EQ(html.rfind("<html><body><a href=3D\"https://t.example/c/CLICK\">Caf=E9</a><img ", 0), 0u) << html;
    EXPECT_EQ(html.substr(html.size() - 14), "</body></html>");
}

TEST(MimeTracking, SignedEncryptedAndNonAsciiCharsetsAreLeftAlone) {
    const std::string signed_body =
        "--s\r\nContent-Type: text/html\r\n\r\n<a href=\"https://uni.example/\">x</a>\r\n--s\r\n"
        "Content-Type: application/pkcs7-signature\r\n\r\nAAAA\r\n--s--\r\n";
    EXPECT_FALSE(track_mime_body(" multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=s", "",
                                 signed_body, tracker())
                     .body);
    const std::string nested = "--m\r\nContent-Type: multipart/signed; boundary=s\r\n\r\n" + signed_body + "--m--\r\n";
    EXPECT_FALSE(track_mime_body(" multipart/mixed; boundary=m", "", nested, tracker()).body);
    const MimeTrackingResult utf16 =
        track_mime_body(" text/html; charset=UTF-16", " base64", base64_encode(std::string("<\0a\0>\0", 6)) + "\r\n", tracker());
    EXPECT_FALSE(utf16.body);
    EXPECT_NE(utf16.skipped.find("charset"), std::string::npos);
    EXPECT_FALSE(track_mime_body(" text/html", " x-gzip", "<a href=\"https://u.example/\">x</a>\r\n", tracker()).body);
    EXPECT_FALSE(track_mime_body(" text/plain", "", "https://uni.example/\r\n", tracker()).body);
}

TEST(MimeTracking, An8bitPartWhoseLinesWouldPass998OctetsIsLeftAlone) {
    std::string line;
    while (line.size() < 900) line += "<a href=\"https://u.example/\">x</a>";
    const MimeTrackingResult result = track_mime_body(" text/html", " 8bit", line + "\r\n", tracker());
    EXPECT_FALSE(result.body);
    EXPECT_NE(result.skipped.find("998"), std::string::npos);
}

TEST(MimeTracking, HostileStructuresNeverCrash) {
    std::string deep;
    for (int i = 0; i < 500; ++i) deep += "--b" + std::to_string(i) + "\r\nContent-Type: multipart/mixed; boundary=b" + std::to_string(i + 1) + "\r\n\r\n";
    deep += "--b500\r\nContent-Type: text/html\r\n\r\n<a href=\"https://u.example/\">x</a>\r\n";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {" multipart/mixed; boundary=b0", deep},
        {" multipart/mixed", "no boundary at all\r\n"},
        {" multipart/mixed; boundary=x", "--x\r\n--x\r\n--x--\r\n--x\r\n"},
        {" text/html; charset=\"\xff\xfe\"", "<a href=\"https://u.example/\">x</a>"},
        {" text/html", std::string("\0\0<a href=\"https://u.example/\">\0</a>", 36)},
        {" multipart/alternative; boundary=\"\"", "--\r\n\r\n--\r\n"},
    };
    for (const auto& [type, body] : cases) {
        const MimeTrackingResult result = track_mime_body(type, "", body, tracker());
        if (result.body) {
            EXPECT_TRUE(only_crlf_line_ends(*result.body) || body.find('\n') == std::string::npos);
        }
    }
}

TEST(MimeTracking, BufferingIsWorthItOnlyForHtmlAndUnsignedMultiparts) {
    EXPECT_TRUE(may_hold_trackable_parts(" text/html; charset=utf-8", false));
    EXPECT_TRUE(may_hold_trackable_parts(" TEXT/HTML", false));
    EXPECT_TRUE(may_hold_trackable_parts(" multipart/alternative;\r\n boundary=x", false));
    EXPECT_FALSE(may_hold_trackable_parts(" multipart/signed; boundary=x", false));
    EXPECT_FALSE(may_hold_trackable_parts(" multipart/encrypted; boundary=x", false));
    EXPECT_FALSE(may_hold_trackable_parts(" text/plain", false));
    EXPECT_FALSE(may_hold_trackable_parts("", false));
}

TEST(MimeTracking, WithTextLinksPlainTextIsWorthBufferingToo) {
    EXPECT_TRUE(may_hold_trackable_parts(" text/plain; charset=utf-8", true));
    EXPECT_TRUE(may_hold_trackable_parts("", true));  // no Content-Type: text/plain
    EXPECT_FALSE(may_hold_trackable_parts(" multipart/signed; boundary=x", true));
    EXPECT_FALSE(may_hold_trackable_parts(" application/pdf", true));
}

TEST(MimeTracking, PlainTextIsLeftAloneUnlessTextLinksAreAsked) {
    const std::string body = "See https://uni.example/offer for details.\r\n";
    EXPECT_FALSE(track_mime_body(" text/plain", "", body, tracker()).body);
    const MimeTrackingResult result = track_mime_body(" text/plain", "", body, BodyTracker(tracker(), true));
    ASSERT_TRUE(result.body) << result.skipped;
    EXPECT_EQ(*result.body, "See https://t.example/c/CLICK for details.\r\n");
    EXPECT_EQ(result.text_parts, 1u);
    EXPECT_EQ(result.html_parts, 0u);
    EXPECT_FALSE(result.pixel_added);
}

TEST(MimeTracking, TextLinksInAlternativeQuotedPrintableWithThePixelInHtmlOnly) {
    const std::string body =
        "--b\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        "Caf=C3=A9: https://uni.example/a?x=3D1 and <https://uni.example/b>.\r\n"
        "--b\r\n"
        "Content-Type: text/html; charset=utf-8\r\n\r\n"
        "<html><body><a href=\"https://uni.example/a?x=1\">a</a></body></html>\r\n"
        "--b\r\n"
        "Content-Type: text/plain; name=notes.txt\r\n"
        "Content-Disposition: attachment; filename=notes.txt\r\n\r\n"
        "https://uni.example/attached stays\r\n"
        "--b--\r\n";
    const MimeTrackingResult result =
        track_mime_body(" multipart/alternative; boundary=b", "", body, BodyTracker(tracker(), true));
    ASSERT_TRUE(result.body) << result.skipped;
    EXPECT_EQ(result.text_parts, 1u);
    EXPECT_EQ(result.html_parts, 1u);
    EXPECT_EQ(result.links_rewritten, 3u);
    const std::string text = qp_decode_soft_breaks(*result.body);
    EXPECT_NE(text.find("Caf=C3=A9: https://t.example/c/CLICK and <https://t.example/c/CLICK>.\r\n"),
              std::string::npos)
        << *result.body;
    EXPECT_NE(result.body->find("https://uni.example/attached stays"), std::string::npos);
    EXPECT_EQ(result.body->find("https://t.example/o/PIXEL"), result.body->rfind("https://t.example/o/PIXEL"));
    EXPECT_TRUE(every_line_at_most(result.body->substr(0, result.body->find("--b\r\nContent-Type: text/html")), 76));
}

TEST(MimeTracking, TextLinksNeedClickTracking) {
    HtmlTracker opens_only;
    opens_only.pixel_url = "https://t.example/o/PIXEL";
    EXPECT_FALSE(track_mime_body(" text/plain", "", "https://uni.example/\r\n", BodyTracker(opens_only, true)).body);
}

}  // namespace
}  // namespace tenantmail::milter
