// trackd_request_decision_test.cpp — what trackd answers (trackd/
// request_decision.h): pixel, redirect, unsubscribe page and POST for good
// tokens on their tenant's tracking domain; 404 for everything forged,
// truncated, of the wrong kind, of another tenant or on an unknown Host;
// never a redirect the request chose.
#include "trackd/request_decision.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tenantmail::trackd {
namespace {

const TrackingTokenCodec& codec() {
    static const TrackingTokenCodec instance = TrackingTokenCodec::from_secret(std::string(32, 'k')).value();
    return instance;
}

const TenantRegistry& tenants() {
    static const TenantRegistry registry = TenantRegistry::parse(
                                               "[acme]\ndomains = acme.example\nfrom_rewrite = a@platform.example\ntracking_domain = click.acme.example\n"
                                               "[beta]\ndomains = beta.example\nfrom_rewrite = b@platform.example\ntracking_domain = t.beta.example\n"
                                               "[plain]\ndomains = plain.example\nfrom_rewrite = p@platform.example\n",
                                               "tenants.conf")
                                               .value();
    return registry;
}

TrackingLink link(TrackingLinkKind kind, std::string tenant = "acme") {
    TrackingLink l;
    l.kind = kind;
    l.tenant = std::move(tenant);
    l.queue_id = "4QXYZ123";
    l.recipient = "reader@example.net";
    if (kind == TrackingLinkKind::click) l.url = "https://www.acme.example/jobs?id=7&x=y";
    l.issued_at = 1767225600;
    return l;
}

std::string token(const TrackingLink& l) { return codec().encode(l).value(); }

Decision ask(std::string_view method, const std::string& target, std::string_view host = "click.acme.example",
             std::string_view content_type = "", std::string_view body = "") {
    return decide({method, target, host, content_type, body}, codec(), tenants());
}

TEST(TrackdDecision, OpenTokenOnItsTenantsHostIsThePixel) {
    const Decision d = ask("GET", "/o/" + token(link(TrackingLinkKind::open)));
    ASSERT_EQ(d.action, Action::pixel) << d.why;
    EXPECT_FALSE(d.head);
    EXPECT_EQ(d.link.tenant, "acme");
    EXPECT_EQ(d.link.recipient, "reader@example.net");
    EXPECT_EQ(ask("HEAD", "/o/" + token(link(TrackingLinkKind::open))).head, true);
}

TEST(TrackdDecision, HostIsCaseInsensitiveWithPortAndTrailingDot) {
    const std::string target = "/o/" + token(link(TrackingLinkKind::open));
    EXPECT_EQ(ask("GET", target, "Click.ACME.example:443").action, Action::pixel);
    EXPECT_EQ(ask("GET", target, "click.acme.example.").action, Action::pixel);
}

TEST(TrackdDecision, ClickRedirectsToTheTokensUrlOnly) {
    const Decision d = ask("GET", "/c/" + token(link(TrackingLinkKind::click)) + "?url=https://evil.example/");
    ASSERT_EQ(d.action, Action::redirect) << d.why;
    EXPECT_EQ(d.link.url, "https://www.acme.example/jobs?id=7&x=y");
    EXPECT_TRUE(ask("HEAD", "/c/" + token(link(TrackingLinkKind::click))).head);
}

TEST(TrackdDecision, ClickToANonHttpUrlIsNotFound) {
    for (const std::string url : {"javascript:alert(1)", "ftp://x.example/", "https:///nohost", "https://a.example/\r\nX: y",
                                  "//evil.example/"}) {
        TrackingLink l = link(TrackingLinkKind::click);
        l.url = url;
        EXPECT_EQ(ask("GET", "/c/" + token(l)).action, Action::not_found) << url;
    }
    TrackingLink upper = link(TrackingLinkKind::click);
    upper.url = "HTTP://www.acme.example/";
    EXPECT_EQ(ask("GET", "/c/" + token(upper)).action, Action::redirect);
}

TEST(TrackdDecision, ForgedTruncatedOrEmptyTokensAreNotFound) {
    std::string good = token(link(TrackingLinkKind::open));
    std::string flipped = good;
    flipped[flipped.size() / 2] = flipped[flipped.size() / 2] == 'A' ? 'B' : 'A';
    EXPECT_EQ(ask("GET", "/o/" + flipped).action, Action::not_found);
    EXPECT_EQ(ask("GET", "/o/" + good.substr(0, good.size() - 3)).action, Action::not_found);
    EXPECT_EQ(ask("GET", "/o/").action, Action::not_found);
    EXPECT_EQ(ask("GET", "/o/" + std::string(5000, 'A')).action, Action::not_found);
    const TrackingTokenCodec other = TrackingTokenCodec::from_secret(std::string(32, 'z')).value();
    EXPECT_EQ(ask("GET", "/o/" + other.encode(link(TrackingLinkKind::open)).value()).action, Action::not_found);
}

TEST(TrackdDecision, TokenOfAnotherKindThanItsPathIsNotFound) {
    EXPECT_EQ(ask("GET", "/c/" + token(link(TrackingLinkKind::open))).action, Action::not_found);
    EXPECT_EQ(ask("GET", "/o/" + token(link(TrackingLinkKind::click))).action, Action::not_found);
    EXPECT_EQ(ask("GET", "/u/" + token(link(TrackingLinkKind::click))).action, Action::not_found);
}

TEST(TrackdDecision, TokenOfAnotherTenantThanTheHostIsNotFound) {
    const std::string beta = "/o/" + token(link(TrackingLinkKind::open, "beta"));
    EXPECT_EQ(ask("GET", beta, "click.acme.example").action, Action::not_found);
    EXPECT_EQ(ask("GET", beta, "t.beta.example").action, Action::pixel);
}

TEST(TrackdDecision, UnknownOrMissingHostIsNotFound) {
    const std::string target = "/o/" + token(link(TrackingLinkKind::open));
    EXPECT_EQ(ask("GET", target, "127.0.0.1:8025").action, Action::not_found);
    EXPECT_EQ(ask("GET", target, "").action, Action::not_found);
    EXPECT_EQ(ask("GET", target, "acme.example").action, Action::not_found);
    EXPECT_EQ(ask("GET", target, "[::1]:8025").action, Action::not_found);
}

TEST(TrackdDecision, OtherPathsAreNotFound) {
    const std::string t = token(link(TrackingLinkKind::open));
    for (const std::string& target : std::vector<std::string>{"/", "/favicon.ico", "/x/" + t, "/o/" + t + "/more", "o/" + t,
                                                              "/oo/" + t, ""}) {
        EXPECT_EQ(ask("GET", target).action, Action::not_found) << target;
    }
}

TEST(TrackdDecision, UnsubscribeGetIsThePageAndPostUnsubscribes) {
    const std::string target = "/u/" + token(link(TrackingLinkKind::unsubscribe));
    const Decision page = ask("GET", target);
    EXPECT_EQ(page.action, Action::unsubscribe_page);
    EXPECT_EQ("/u/" + std::string(page.token), target);
    const Decision post = ask("POST", target, "click.acme.example", "application/x-www-form-urlencoded",
                              "List-Unsubscribe=One-Click");
    ASSERT_EQ(post.action, Action::unsubscribe) << post.why;
    EXPECT_EQ(post.link.recipient, "reader@example.net");
}

TEST(TrackdDecision, PostThatIsNotOneClickIsABadRequest) {
    const std::string target = "/u/" + token(link(TrackingLinkKind::unsubscribe));
    EXPECT_EQ(ask("POST", target, "click.acme.example", "application/x-www-form-urlencoded", "x=y").action,
              Action::bad_request);
}

TEST(TrackdDecision, UnsubscribeWithoutASingleRecipientIsNotFound) {
    TrackingLink l = link(TrackingLinkKind::unsubscribe);
    l.recipient.clear();
    EXPECT_EQ(ask("GET", "/u/" + token(l)).action, Action::not_found);
    EXPECT_EQ(ask("POST", "/u/" + token(l), "click.acme.example", "application/x-www-form-urlencoded",
                  "List-Unsubscribe=One-Click")
                  .action,
              Action::not_found);
}

TEST(TrackdDecision, OtherMethodsAreNotAllowed) {
    EXPECT_EQ(ask("POST", "/o/" + token(link(TrackingLinkKind::open))).action, Action::method_not_allowed);
    EXPECT_EQ(ask("PUT", "/u/" + token(link(TrackingLinkKind::unsubscribe))).action, Action::method_not_allowed);
    EXPECT_EQ(ask("get", "/o/" + token(link(TrackingLinkKind::open))).action, Action::method_not_allowed);
}

}  // namespace
}  // namespace tenantmail::trackd
