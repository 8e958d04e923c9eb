// track_request_fuzzer.cpp — what tenantmail-trackd decides for a request
// (trackd/request_decision.h) and the One-Click body parser
// (trackd/one_click.h), fed from anything a client sends. The input is
// split at newlines into method, target, Host, Content-Type and body (the
// rest); a target that starts with "/o/@", "/c/@" or "/u/@" gets a real
// token of that kind in place of the '@', so the fuzzer reaches past the
// token check.
// Invariants: the decision never redirects to a URL the token did not
// carry (and only to http/https); an accepted link's tenant owns the Host;
// the token view stays inside the target; a One-Click POST decision agrees
// with is_one_click_request on the same body.
#include <string>

#include "common/tenants.h"
#include "common/tracking_token.h"
#include "fuzz/fuzz_check.h"
#include "trackd/one_click.h"
#include "trackd/request_decision.h"

namespace {

using namespace tenantmail;
using namespace tenantmail::trackd;

const TrackingTokenCodec& codec() {
    static const TrackingTokenCodec instance = TrackingTokenCodec::from_secret(std::string(32, 'f')).value();
    return instance;
}

const TenantRegistry& tenants() {
    static const TenantRegistry registry =
        TenantRegistry::parse("[acme]\ndomains = acme.example\nfrom_rewrite = a@platform.example\n"
                              "tracking_domain = click.acme.example\n"
                              "[beta]\ndomains = beta.example\nfrom_rewrite = b@platform.example\n"
                              "tracking_domain = t.beta.example\n",
                              "tenants.conf")
            .value();
    return registry;
}

const std::string& real_token(char kind) {
    static const auto make = [](TrackingLinkKind k) {
        TrackingLink link;
        link.kind = k;
        link.tenant = "acme";
        link.queue_id = "4QFUZZ";
        link.recipient = "reader@example.net";
        link.url = k == TrackingLinkKind::click ? "https://www.acme.example/x" : "";
        link.issued_at = TrackingTokenCodec::epoch + 1000;
        return codec().encode(link).value();
    };
    static const std::string open = make(TrackingLinkKind::open);
    static const std::string click = make(TrackingLinkKind::click);
    static const std::string unsubscribe = make(TrackingLinkKind::unsubscribe);
    return kind == 'o' ? open : kind == 'c' ? click : unsubscribe;
}

std::string_view next_line(std::string_view& rest) {
    const auto newline = rest.find('\n');
    const std::string_view line = rest.substr(0, newline);
    rest = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
    return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view rest = fuzz::as_text(data, size);
    const std::string_view method = next_line(rest);
    std::string target(next_line(rest));
    const std::string_view host = next_line(rest);
    const std::string_view content_type = next_line(rest);
    const std::string_view body = rest;
    if (target.size() >= 4 && target[0] == '/' && target[2] == '/' && target[3] == '@' &&
        (target[1] == 'o' || target[1] == 'c' || target[1] == 'u')) {
        target.replace(3, 1, real_token(target[1]));
    }

    const Decision decision = decide({method, target, host, content_type, body}, codec(), tenants());
    FUZZ_CHECK(fuzz::is_within(decision.token, target));
    switch (decision.action) {
        case Action::redirect:
            FUZZ_CHECK(decision.link.url == "https://www.acme.example/x");
            FUZZ_CHECK(redirectable_url(decision.link.url));
            [[fallthrough]];
        case Action::pixel:
        case Action::unsubscribe_page:
        case Action::unsubscribe: {
            const Tenant* owner = tenants().by_tracking_domain(host_name(host));
            FUZZ_CHECK(owner != nullptr && owner->id == decision.link.tenant);
            break;
        }
        default: break;
    }
    if (decision.action == Action::unsubscribe) FUZZ_CHECK(is_one_click_request(content_type, body));
    (void)is_one_click_request(content_type, body);
    return 0;
}
