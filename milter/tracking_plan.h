// tracking_plan.h — what tracking does to one tenant's message, decided from
// the tenant's settings and the envelope: the links of its HTML (open pixel,
// click redirects), the RFC 8058 List-Unsubscribe pair and the Feedback-ID.
// Every link is https://TRACKING_DOMAIN/{o,c,u}/TOKEN with a token of
// common/tracking_token.h naming tenant, queue id and, when the message has
// exactly one envelope recipient, that recipient; with several, links name
// the message only and no List-Unsubscribe is added (one could not say who
// unsubscribes). Pure apart from the token's random nonce.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/tenants.h"
#include "common/tracking_token.h"
#include "milter/html_tracking.h"

namespace tenantmail::milter {

struct TrackingContext {
    const Tenant* tenant = nullptr;
    TrafficClass traffic_class = TrafficClass::bulk;
    const TrackingTokenCodec* codec = nullptr;  // nullptr: nothing tracked
    std::string queue_id;
    std::vector<std::string> recipients;  // envelope recipients, as given
    std::string bounce_domain;            // for the mailto: form; "" leaves it out
    std::int64_t now = 0;
};

// "https://DOMAIN/L/TOKEN" for kind's letter L; "" when the link cannot be made.
std::string tracking_url(const TrackingContext& context, TrackingLinkKind kind, std::string_view target = {});

// The open pixel and click links the tenant's settings ask for in this
// class; links to any of leave_alone (the message's own unsubscribe URLs)
// are not rewritten.
HtmlTracker html_tracker(const TrackingContext& context, std::vector<std::string> leave_alone);
bool tracks_html(const TrackingContext& context);
// Whether text/plain parts get their links rewritten too (track_text_links).
bool tracks_text_links(const TrackingContext& context);

// " <https://DOMAIN/u/TOKEN>, <mailto:unsubscribe+TOKEN@BOUNCE_DOMAIN>"
// (mailto only with a bounce domain), as a header value; nullopt when the
// tenant does not want one in this class, or the message has not exactly one
// recipient.
std::optional<std::string> list_unsubscribe_value(const TrackingContext& context);
inline constexpr std::string_view kListUnsubscribePost = " List-Unsubscribe=One-Click";

// " CLASS:TENANT:SENDERID" when the tenant has a feedback_id.
std::optional<std::string> feedback_id_value(const Tenant& tenant, TrafficClass traffic_class);

// The http(s) URLs inside the <...> of a List-Unsubscribe value.
std::vector<std::string> list_unsubscribe_urls(std::string_view value);

}  // namespace tenantmail::milter
