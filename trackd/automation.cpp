// automation.cpp — see automation.h.
#include "trackd/automation.h"

#include <algorithm>

#include "common/text.h"

namespace tenantmail::trackd {
namespace {

// Every request's agent against every known one: inline comparisons, no
// call per position.
bool contains_nocase(std::string_view text, std::string_view needle) {
    return std::search(text.begin(), text.end(), needle.begin(), needle.end(),
                       [](char a, char b) { return ascii_lower(a) == ascii_lower(b); }) != text.end() ||
           needle.empty();
}

}  // namespace

Automation classify_open(std::string_view user_agent) {
    const std::string_view agent = trim(user_agent);
    if (agent.empty()) return {kPrefetch, "no user agent"};
    if (contains_nocase(agent, "GoogleImageProxy") || contains_nocase(agent, "ggpht.com")) {
        return {kImageProxy, "Google image proxy"};
    }
    if (contains_nocase(agent, "YahooMailProxy")) return {kImageProxy, "Yahoo mail proxy"};
    // Apple Mail Privacy Protection's fetcher: nothing after the product token.
    if (agent == "Mozilla/5.0") return {kImageProxy, "Apple Mail Privacy Protection (bare Mozilla/5.0 agent)"};
    return {};
}

Automation classify_click(const ClickFacts& facts) {
    if (facts.head) return {kScanner, "HEAD request"};
    const std::string_view agent = trim(facts.user_agent);
    if (agent.empty()) return {kScanner, "no user agent"};
    for (const std::string_view known : kScannerAgents) {
        if (contains_nocase(agent, known)) return {kScanner, known};
    }
    if (facts.since_issue < facts.scanner_window) return {kScanner, "clicked within the scanner window of sending"};
    return {};
}

}  // namespace tenantmail::trackd
