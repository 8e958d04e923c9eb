// request_decision.cpp — see request_decision.h.
#include "trackd/request_decision.h"

#include "common/text.h"
#include "trackd/one_click.h"

namespace tenantmail::trackd {
namespace {

Decision refuse(Action action, std::string_view why) {
    Decision decision;
    decision.action = action;
    decision.why = why;
    return decision;
}

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
    return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

}  // namespace

std::string_view host_name(std::string_view host_field) {
    const std::string_view host = trim(host_field);
    if (host.starts_with('[')) return {};
    return host.substr(0, host.find(':'));
}

bool redirectable_url(std::string_view url) {
    std::string_view rest;
    if (starts_with_nocase(url, "https://")) rest = url.substr(8);
    else if (starts_with_nocase(url, "http://")) rest = url.substr(7);
    else return false;
    if (rest.empty() || rest.front() == '/') return false;  // no host
    for (const char c : url) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte == 0x7f) return false;
    }
    return true;
}

Decision decide(const TrackRequest& request, const TrackingTokenCodec& codec, const TenantRegistry& tenants) {
    std::string_view path = request.target.substr(0, request.target.find('?'));
    if (path.size() < 4 || path[0] != '/' || path[2] != '/') return refuse(Action::not_found, "unknown path");
    TrackingLinkKind kind = TrackingLinkKind::open;
    switch (path[1]) {
        case 'o': kind = TrackingLinkKind::open; break;
        case 'c': kind = TrackingLinkKind::click; break;
        case 'u': kind = TrackingLinkKind::unsubscribe; break;
        default: return refuse(Action::not_found, "unknown path");
    }
    const std::string_view token = path.substr(3);
    if (token.find('/') != std::string_view::npos) return refuse(Action::not_found, "unknown path");

    const bool get = request.method == "GET";
    const bool head = request.method == "HEAD";
    const bool post = request.method == "POST";
    if (!(get || head || (post && kind == TrackingLinkKind::unsubscribe))) {
        return refuse(Action::method_not_allowed, "method not allowed");
    }

    const Tenant* host_tenant = tenants.by_tracking_domain(host_name(request.host));
    if (host_tenant == nullptr) return refuse(Action::not_found, "Host is no tenant's tracking_domain");
    auto link = codec.decode(token);
    if (!link) return refuse(Action::not_found, "token does not decode (forged, truncated or another secret)");
    if (link->kind != kind) return refuse(Action::not_found, "token of another kind than its path");
    if (link->tenant != host_tenant->id) return refuse(Action::not_found, "token of another tenant than the Host's");

    Decision decision;
    decision.head = head;
    decision.token = token;
    switch (kind) {
        case TrackingLinkKind::open: decision.action = Action::pixel; break;
        case TrackingLinkKind::click:
            if (!redirectable_url(link->url)) return refuse(Action::not_found, "click URL is not http(s)");
            decision.action = Action::redirect;
            break;
        case TrackingLinkKind::unsubscribe:
            if (link->recipient.empty()) return refuse(Action::not_found, "unsubscribe link without a single recipient");
            if (!post) {
                decision.action = Action::unsubscribe_page;
            } else if (is_one_click_request(request.content_type, request.body)) {
                decision.action = Action::unsubscribe;
            } else {
                return refuse(Action::bad_request, "POST body is not List-Unsubscribe=One-Click");
            }
            break;
    }
    decision.link = std::move(link).value();
    return decision;
}

}  // namespace tenantmail::trackd
