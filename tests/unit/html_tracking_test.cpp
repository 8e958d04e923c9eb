// html_tracking_test.cpp — link rewriting and the open pixel in one HTML
// document: what is rewritten, what is left alone, and that every other byte
// stays as the tenant wrote it.
#include "milter/html_tracking.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tenantmail::milter {
namespace {

// Records each URL asked for and answers a recognisable stand-in.
struct RecordingTracker {
    std::vector<std::string> asked;
    HtmlTracker tracker(const std::string& pixel = "https://t.example/o/P") {
        HtmlTracker t;
        t.pixel_url = pixel;
        t.click_link = [this](std::string_view url) -> std::optional<std::string> {
            asked.emplace_back(url);
            return "https://t.example/c/" + std::to_string(asked.size());
        };
        return t;
    }
};

TEST(HtmlTracking, RewritesHttpLinksAndKeepsEverythingElseByteForByte) {
    RecordingTracker rec;
    const std::string html =
        "<html><body>\r\n<p>Hi &amp; welcome</p>\r\n"
        "<a class=x href=\"https://uni.example/jobs?id=7&amp;x=1\" >Jobs</a>\r\n"
        "<A HREF='http://uni.example/'>Home</A>\r\n</body></html>\r\n";
    const HtmlTrackingResult result = track_html(html, rec.tracker());
    EXPECT_EQ(result.links_rewritten, 2u);
    EXPECT_TRUE(result.pixel_added);
    EXPECT_TRUE(result.skipped.empty());
    // The browser's URL: entities decoded.
    ASSERT_EQ(rec.asked.size(), 2u);
    EXPECT_NE(std::find(rec.asked.begin(), rec.asked.end(), "https://uni.example/jobs?id=7&x=1"), rec.asked.end());
    EXPECT_NE(std::find(rec.asked.begin(), rec.asked.end(), "http://uni.example/"), rec.asked.end());
    const std::string pixel =
        "<img src=\"https://t.example/o/P\" width=\"1\" height=\"1\" alt=\"\" border=\"0\" "
        "style=\"display:block;width:1px;height:1px;border:0;margin:0;padding:0\">";
    // Which stand-in went where depends on traversal order; check the shape.
    std::string expected_a = "<html><body>\r\n<p>Hi &amp; welcome</p>\r\n<a class=x href=\"https://t.example/c/";
    EXPECT_EQ(result.html.rfind(expected_a, 0), 0u) << result.html;
    EXPECT_NE(result.html.find("\" >Jobs</a>\r\n<A HREF=\"https://t.example/c/"), std::string::npos) << result.html;
    EXPECT_NE(result.html.find("\">Home</A>\r\n" + pixel + "</body></html>\r\n"), std::string::npos) << result.html;
}

TEST(HtmlTracking, LeavesMailtoTelAnchorsUnsubscribeAndNotrackLinksAlone) {
    RecordingTracker rec;
    const std::string html =
        "<body><a href=\"mailto:jobs@uni.example\">m</a><a href=\"tel:+441234\">t</a>"
        "<a href=\"#top\">a</a><a href=\"/relative\">r</a><a href=\"javascript:x()\">j</a>"
        "<a href=\"https://uni.example/Unsubscribe?u=1\">u</a>"
        "<a data-notrack href=\"https://uni.example/private\">p</a><a>no href</a><a href=>empty</a>"
        "<a href=\"https://uni.example/tracked\">ok</a></body>";
    const HtmlTrackingResult result = track_html(html, rec.tracker(""));
    EXPECT_EQ(rec.asked, std::vector<std::string>{"https://uni.example/tracked"});
    EXPECT_EQ(result.links_rewritten, 1u);
    EXPECT_FALSE(result.pixel_added);
    std::string expected = html;
    expected.replace(expected.find("\"https://uni.example/tracked\""), 29, "\"https://t.example/c/1\"");
    EXPECT_EQ(result.html, expected);
}

TEST(HtmlTracking, ALinkTheTrackerDeclinesStaysAsItWas) {
    HtmlTracker tracker;
    tracker.click_link = [](std::string_view) { return std::nullopt; };
    const std::string html = "<a href=\"https://uni.example/x\">x</a>";
    const HtmlTrackingResult result = track_html(html, tracker);
    EXPECT_EQ(result.html, html);
    EXPECT_EQ(result.links_rewritten, 0u);
}

TEST(HtmlTracking, PixelGoesAtTheEndWithoutABodyEndTagAndNotIntoComments) {
    HtmlTracker tracker;
    tracker.pixel_url = "https://t.example/o/P";
    const HtmlTrackingResult fragment = track_html("<p>Hello</p>", tracker);
    EXPECT_EQ(fragment.html.rfind("<p>Hello</p><img src=\"https://t.example/o/P\"", 0), 0u) << fragment.html;

    const std::string html = "<body><!-- </body> -->text</body>\r\n";
    const HtmlTrackingResult commented = track_html(html, tracker);
    EXPECT_EQ(commented.html.rfind("<body><!-- </body> -->text<img ", 0), 0u) << commented.html;
    EXPECT_EQ(commented.html.substr(commented.html.size() - 9), "</body>\r\n");
}

TEST(HtmlTracking, NoTrackerChangesNothing) {
    const std::string html = "<a href=\"https://uni.example/\">x</a>";
    const HtmlTrackingResult result = track_html(html, HtmlTracker{});
    EXPECT_EQ(result.html, html);
    EXPECT_FALSE(result.pixel_added);
}

TEST(HtmlTracking, TenThousandLinksAreAllRewritten) {
    RecordingTracker rec;
    std::string html = "<html><body>";
    for (int i = 0; i < 10000; ++i) html += "<a href=\"https://uni.example/" + std::to_string(i) + "\">l</a>\n";
    html += "</body></html>";
    const HtmlTrackingResult result = track_html(html, rec.tracker());
    EXPECT_EQ(result.links_rewritten, 10000u);
    EXPECT_EQ(result.html.find("https://uni.example/"), std::string::npos);
}

TEST(HtmlTracking, BrokenAndHostileMarkupNeverCrashesAndDeepNestingIsLeftAlone) {
    RecordingTracker rec;
    const std::vector<std::string> broken = {
        "", "<", "<a href=\"https://x.example/", "<a href='https://x.example/'", "</body></body><body>",
        "<a href=\"https://x.example/\"><a href=\"https://y.example/\">nested</a></a>",
        "<b><a href=\"https://x.example/\">ad<i>opt</b>ion</i></a>", std::string("\0\xff\xfe<a href=x>", 13),
        "<table><a href=\"https://x.example/\">foster</a><tr></table>", "<template><a href=\"https://x.example/t\">t</a></template>",
        "<svg><a href=\"https://x.example/svg\">s</a></svg>", "<!-- unterminated <a href=\"https://x.example/\">"};
    for (const std::string& html : broken) {
        const HtmlTrackingResult result = track_html(html, rec.tracker());
        EXPECT_TRUE(result.pixel_added) << html;
    }
    std::string deep;
    for (std::size_t i = 0; i <= kMaxHtmlNesting; ++i) deep += "<div>";
    const HtmlTrackingResult result = track_html(deep, rec.tracker());
    EXPECT_FALSE(result.skipped.empty());
    EXPECT_EQ(result.html, deep);
    // Tags that never close each count as one level, however they are cut off.
    std::string unclosed;
    for (std::size_t i = 0; i <= kMaxHtmlNesting; ++i) unclosed += "<div<b/";
    EXPECT_FALSE(track_html(unclosed, rec.tracker()).skipped.empty());
    // Many void or closed elements are not nesting.
    std::string flat;
    for (std::size_t i = 0; i <= 2 * kMaxHtmlNesting; ++i) flat += "<br><p>x</p><img src=a />";
    EXPECT_TRUE(track_html(flat, rec.tracker()).skipped.empty());
}

TEST(HtmlTracking, OnlyHttpAndHttpsTargetsAreTracked) {
    EXPECT_FALSE(is_untracked_target("https://uni.example/"));
    EXPECT_FALSE(is_untracked_target("  HTTP://uni.example/a "));
    EXPECT_TRUE(is_untracked_target("mailto:a@b.example"));
    EXPECT_TRUE(is_untracked_target("ftp://uni.example/"));
    EXPECT_TRUE(is_untracked_target("https://uni.example/unsubscribe"));
    EXPECT_TRUE(is_untracked_target("//uni.example/"));
}

}  // namespace
}  // namespace tenantmail::milter
