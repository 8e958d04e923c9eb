// automation.h — telling opens and clicks made by machines from those made
// by readers, from what one request shows: its method, user agent and how
// soon after sending it came. Nothing is dropped on this account: the event
// is still recorded, with details "automated" (what kind of machine) and
// "automated_reason" (which rule fired), so tenants decide what to count.
//
// Opens: image proxies fetch the pixel for the reader, sometimes ahead of
// any reading (Apple Mail Privacy Protection fetches every image of every
// message on delivery). Apple's proxy sends the bare user agent
// "Mozilla/5.0" and comes from Apple's published egress ranges; those ranges
// are not available offline, so the bare agent is the rule here (a real
// browser always says more). Google's proxy says "GoogleImageProxy" and
// "via ggpht.com", Yahoo's "YahooMailProxy". An open without any user agent
// is a prefetcher.
// Clicks: link scanners of mail gateways follow every link before the reader
// sees the message. Flagged: HEAD requests (a browser never sends one for a
// link), clicks within scanner_window seconds of sending, and the agents in
// kScannerAgents (matched case-insensitively as substrings; "bot" catches
// most crawlers and, rarely, a phone model with "bot" in its name; curl and
// other HTTP libraries count as scanners because readers do not click with
// them).
// Pure: no I/O, no clock (the caller passes the age of the link).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string_view>

namespace tenantmail::trackd {

// The values of the "automated" detail; empty: a reader, as far as we can tell.
inline constexpr std::string_view kImageProxy = "image_proxy";
inline constexpr std::string_view kPrefetch = "prefetch";
inline constexpr std::string_view kScanner = "scanner";

inline constexpr std::array<std::string_view, 21> kScannerAgents = {
    "barracuda", "mimecast",  "proofpoint", "bot",        "spider",         "crawler",    "python-requests",
    "python-urllib", "go-http-client", "java/", "libwww-perl", "wget", "curl/", "microsoft office",
    "safelinks", "symantec", "trendmicro", "forcepoint", "fireeye", "headlesschrome", "okhttp"};

struct Automation {
    std::string_view automated;  // kImageProxy, kPrefetch, kScanner or "" (a reader)
    std::string_view reason;     // the rule, for the "automated_reason" detail; "" for a reader

    bool flagged() const { return !automated.empty(); }
};

Automation classify_open(std::string_view user_agent);

struct ClickFacts {
    bool head = false;                    // HEAD rather than GET
    std::string_view user_agent;          // "" when the request had none
    std::chrono::seconds since_issue{0};  // request time minus the link's issued_at (may be negative)
    std::chrono::seconds scanner_window{10};
};
Automation classify_click(const ClickFacts& facts);

}  // namespace tenantmail::trackd
