// tracking_token_fuzzer.cpp — the token of a tracking link, as tenantmail-trackd
// will read it from a request path, and the mailto: unsubscribe address
// (unsubscribe+TOKEN@domain) tenantmail-bounce reads from the envelope:
// anything a client sends.
// Invariants: decoding is bounded (longer than max_token_length is refused);
// whatever decodes was made by this codec, so encoding it again decodes to the
// same link; and a link built from the input's bytes survives a round trip,
// also inside an unsubscribe address. An address that parses is bounded and
// holds only base64url in its token.
#include <string>

#include "common/tracking_token.h"
#include "common/unsubscribe_address.h"
#include "fuzz/fuzz_check.h"

namespace {

using namespace tenantmail;

const TrackingTokenCodec& codec() {
    static const TrackingTokenCodec instance = TrackingTokenCodec::from_secret(std::string(32, 's')).value();
    return instance;
}

bool same_link(const TrackingLink& a, const TrackingLink& b) {
    return a.kind == b.kind && a.tenant == b.tenant && a.queue_id == b.queue_id && a.recipient == b.recipient &&
           a.url == b.url && a.issued_at == b.issued_at;
}

// Splits the input at NUL bytes into the fields of a click link.
TrackingLink link_from(std::string_view text) {
    std::string fields[4];
    std::size_t field = 0;
    for (const char c : text) {
        if (c == '\0' && field < 3) ++field;
        else fields[field].push_back(c);
    }
    TrackingLink link;
    link.kind = TrackingLinkKind::click;
    link.tenant = fields[0];
    link.queue_id = fields[1];
    link.recipient = fields[2];
    link.url = fields[3];
    link.issued_at = TrackingTokenCodec::epoch + static_cast<std::int64_t>(text.size());
    return link;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = fuzz::as_text(data, size);

    const auto decoded = codec().decode(text);
    if (decoded) {
        FUZZ_CHECK(text.size() <= TrackingTokenCodec::max_token_length);
        const auto again = codec().encode(*decoded);
        FUZZ_CHECK(again.ok());
        const auto back = codec().decode(*again);
        FUZZ_CHECK(back.ok() && same_link(*back, *decoded));
    }

    if (const auto address = parse_unsubscribe_address(text)) {
        FUZZ_CHECK(!address->token.empty() && address->token.size() <= kMaxUnsubscribeTokenLength);
        FUZZ_CHECK(address->token.find_first_of("+/=@") == std::string::npos);
        FUZZ_CHECK(address->domain.size() <= kMaxUnsubscribeDomainLength);
    }

    const TrackingLink link = link_from(text);
    if (const auto token = codec().encode(link)) {
        FUZZ_CHECK(token->size() <= TrackingTokenCodec::max_token_length);
        const auto back = codec().decode(*token);
        FUZZ_CHECK(back.ok() && same_link(*back, link));
        if (token->size() <= kMaxUnsubscribeTokenLength) {
            const auto address = parse_unsubscribe_address(make_unsubscribe_address(*token, "mta.acme.example"));
            FUZZ_CHECK(address.ok() && address->token == *token);
        }
    }
    return 0;
}
