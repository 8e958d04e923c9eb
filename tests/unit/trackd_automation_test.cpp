// trackd_automation_test.cpp — which opens and clicks are flagged as made by
// machines (trackd/automation.h), and that readers are not.
#include "trackd/automation.h"

#include <gtest/gtest.h>

namespace tenantmail::trackd {
namespace {

using std::chrono::seconds;

constexpr std::string_view kFirefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
constexpr std::string_view kIphoneSafari =
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148";

ClickFacts click(std::string_view agent, seconds since = seconds(3600), bool head = false) {
    return {head, agent, since, seconds(10)};
}

TEST(TrackdAutomation, BrowserOpenIsAReader) {
    EXPECT_FALSE(classify_open(kFirefox).flagged());
    EXPECT_FALSE(classify_open(kIphoneSafari).flagged());
}

TEST(TrackdAutomation, GoogleImageProxyOpenIsFlagged) {
    const Automation a = classify_open("Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)");
    EXPECT_EQ(a.automated, kImageProxy);
    EXPECT_EQ(a.reason, "Google image proxy");
}

TEST(TrackdAutomation, AppleBareMozillaAgentOpenIsFlaggedAsImageProxy) {
    EXPECT_EQ(classify_open("Mozilla/5.0").automated, kImageProxy);
    EXPECT_EQ(classify_open(" Mozilla/5.0 ").automated, kImageProxy);
}

TEST(TrackdAutomation, OpenWithoutUserAgentIsAPrefetch) { EXPECT_EQ(classify_open("").automated, kPrefetch); }

TEST(TrackdAutomation, LateBrowserClickIsAReader) { EXPECT_FALSE(classify_click(click(kFirefox)).flagged()); }

TEST(TrackdAutomation, HeadClickIsAScanner) {
    const Automation a = classify_click(click(kFirefox, seconds(3600), true));
    EXPECT_EQ(a.automated, kScanner);
    EXPECT_EQ(a.reason, "HEAD request");
}

TEST(TrackdAutomation, ClickWithinTheScannerWindowIsAScanner) {
    EXPECT_EQ(classify_click(click(kFirefox, seconds(9))).automated, kScanner);
    EXPECT_FALSE(classify_click(click(kFirefox, seconds(10))).flagged());
}

TEST(TrackdAutomation, KnownScannerAgentsAreFlaggedWhateverTheirCase) {
    for (const std::string_view agent : {"Mozilla/5.0 (compatible; Barracuda Sentinel)", "MIMECAST Safe Links",
                                         "Proofpoint URL Defense", "Googlebot/2.1", "python-requests/2.31.0",
                                         "curl/7.88.1", "Microsoft Office/16.0 (Windows NT 10.0)"}) {
        const Automation a = classify_click(click(agent));
        EXPECT_EQ(a.automated, kScanner) << agent;
        EXPECT_FALSE(a.reason.empty()) << agent;
    }
}

TEST(TrackdAutomation, ClickWithoutUserAgentIsAScanner) {
    EXPECT_EQ(classify_click(click("")).reason, "no user agent");
}

}  // namespace
}  // namespace tenantmail::trackd
