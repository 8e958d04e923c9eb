// request_decision.h — what trackd does with one HTTP request, decided from
// the request alone: method, target, Host and (for POST) the body. The
// answer names the response and carries the authenticated link; nothing in
// it comes from the request except through the token, so a redirect can
// only go where the token (made by the milter under the tracking secret)
// says: there is no open redirect to ask for.
//
//   GET|HEAD /o/TOKEN   pixel             (open)
//   GET|HEAD /c/TOKEN   redirect          (click; HEAD is answered too, and
//                                          flagged as a scanner by the caller)
//   GET|HEAD /u/TOKEN   unsubscribe_page  (a form that POSTs One-Click)
//   POST     /u/TOKEN   unsubscribe       (RFC 8058 One-Click body only)
//
// Not found (404, no event): any other path; a Host that is no tenant's
// tracking_domain (trackd serves only the tracking domains, so a request
// that reached it by another name is not for us); a token that does not
// decode under the secret (forged, truncated, or from an older secret);
// a token of another kind than its path letter; a token of another tenant
// than the Host's (one tenant's links cannot be replayed on another's
// domain); a click whose URL is not http or https; an unsubscribe link
// without a single recipient (mail to several recipients carries no
// one-click link the milter would make, but a token could still say so).
// A query string is ignored. Other methods get 405, a POST that is not
// One-Click 400.
// Pure: the codec and registry are values; no I/O, no clock.
#pragma once

#include <string_view>

#include "common/tenants.h"
#include "common/tracking_token.h"

namespace tenantmail::trackd {

enum class Action { pixel, redirect, unsubscribe_page, unsubscribe, not_found, method_not_allowed, bad_request };

struct TrackRequest {
    std::string_view method;  // as sent: "GET", "HEAD", "POST", ...
    std::string_view target;  // the request-target: "/o/TOKEN"
    std::string_view host;    // the Host field ("" when absent), maybe with ":port"
    std::string_view content_type;
    std::string_view body;
};

struct Decision {
    Action action = Action::not_found;
    bool head = false;           // answer without a body
    TrackingLink link;           // authenticated; only for pixel .. unsubscribe
    std::string_view token;      // the token part of the target, for the form's action
    std::string_view why;        // for not_found, bad_request: the log's reason
};

Decision decide(const TrackRequest& request, const TrackingTokenCodec& codec, const TenantRegistry& tenants);

// The host part of a Host field: without ":port"; "" for an IPv6 literal,
// which no tracking_domain can be.
std::string_view host_name(std::string_view host_field);

// True for an absolute http or https URL without spaces or control
// characters (it goes into a Location field as it is).
bool redirectable_url(std::string_view url);

}  // namespace tenantmail::trackd
