// text_tracking_test.cpp — URLs in plain text: where each one ends, which
// are rewritten, and hostile text.
#include "milter/text_tracking.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tenantmail::milter {
namespace {

// Rewrites every URL to [URL] and remembers what it was given.
struct Recorder {
    std::vector<std::string> seen;
    std::function<std::optional<std::string>(std::string_view)> link() {
        return [this](std::string_view url) -> std::optional<std::string> {
            seen.emplace_back(url);
            return "[" + std::string(url) + "]";
        };
    }
};

std::string tracked(std::string_view text) {
    Recorder recorder;
    return track_text_links(text, recorder.link()).text;
}

TEST(TextTracking, UrlsEndWhereMailClientsEndThem) {
    EXPECT_EQ(tracked("see https://a.example/x."), "see [https://a.example/x].");
    EXPECT_EQ(tracked("see https://a.example/x, then"), "see [https://a.example/x], then");
    EXPECT_EQ(tracked("(https://a.example/x)"), "([https://a.example/x])");
    EXPECT_EQ(tracked("https://en.example/wiki/Mail_(protocol)"), "[https://en.example/wiki/Mail_(protocol)]");
    EXPECT_EQ(tracked("<https://a.example/x>"), "<[https://a.example/x]>");
    EXPECT_EQ(tracked("\"https://a.example/x\""), "\"[https://a.example/x]\"");
    EXPECT_EQ(tracked("https://a.example/x?y=1&z=2#top!"), "[https://a.example/x?y=1&z=2#top]!");
    EXPECT_EQ(tracked("HTTP://A.EXAMPLE/\r\nnext"), "[HTTP://A.EXAMPLE/]\r\nnext");
    EXPECT_EQ(tracked("[https://a.example/x]"), "[[https://a.example/x]]");
}

TEST(TextTracking, OnlyWebUrlsThatStartAWord) {
    EXPECT_EQ(tracked("xhttps://a.example/ ftp://a.example/ mailto:a@b.example"),
              "xhttps://a.example/ ftp://a.example/ mailto:a@b.example");
    EXPECT_EQ(tracked("https:// alone and http://"), "https:// alone and http://");
    EXPECT_EQ(tracked("no links at all"), "no links at all");
}

TEST(TextTracking, UnsubscribeLinksAndDeclinedOnesStay) {
    EXPECT_EQ(tracked("https://a.example/unsubscribe?u=1 https://a.example/b"),
              "https://a.example/unsubscribe?u=1 [https://a.example/b]");
    const auto declined = track_text_links("https://a.example/", [](std::string_view) { return std::nullopt; });
    EXPECT_EQ(declined.text, "https://a.example/");
    EXPECT_EQ(declined.links_rewritten, 0u);
}

TEST(TextTracking, CountsAndPassesTheUrlAsWritten) {
    Recorder recorder;
    const auto result = track_text_links("a https://a.example/1 b https://a.example/2?q=%20", recorder.link());
    EXPECT_EQ(result.links_rewritten, 2u);
    EXPECT_EQ(recorder.seen, (std::vector<std::string>{"https://a.example/1", "https://a.example/2?q=%20"}));
}

TEST(TextTracking, HostileTextStaysLinearAndUnchangedWhereNotAUrl) {
    // An over-long URL is left alone.
    const std::string huge = "https://a.example/" + std::string(kMaxTextUrlOctets, 'a');
    EXPECT_EQ(tracked(huge), huge);
    // Many closing brackets: each removed once, not rescanned.
    const std::string brackets = "https://a.example/" + std::string(6000, ')');
    EXPECT_EQ(tracked(brackets), "[https://a.example/]" + std::string(6000, ')'));
    // NUL and control bytes end a URL; 8-bit bytes belong to it (IRIs as sent).
    EXPECT_EQ(tracked(std::string("https://a.example/\0x", 20)), std::string("[https://a.example/]\0x", 22));
    EXPECT_EQ(tracked("https://a.example/caf\xc3\xa9 x"), "[https://a.example/caf\xc3\xa9] x");
    std::string many;
    for (int i = 0; i < 20000; ++i) many += "h http:/ ";
    EXPECT_EQ(tracked(many), many);
}

TEST(TextTracking, UrlAtStopsAtTheLimit) {
    const std::string text = "https://a.example/" + std::string(3 * kMaxTextUrlOctets, 'a');
    EXPECT_EQ(url_at(text, 0).size(), kMaxTextUrlOctets + 1);
}

}  // namespace
}  // namespace tenantmail::milter
