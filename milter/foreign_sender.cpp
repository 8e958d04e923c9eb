#include "milter/foreign_sender.h"

#include "common/mailbox.h"
#include "common/text.h"

namespace tenantmail::milter {
namespace {

bool is_domain_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_';
}

// For a From that does not parse: every "@domain" in the text, as a receiver
// that reads it leniently might take it.
std::optional<IdentityClaim> lenient_claim(const TenantIdentities& identities, std::string_view value) {
    for (std::size_t at = value.find('@'); at != std::string_view::npos; at = value.find('@', at + 1)) {
        std::size_t end = at + 1;
        while (end < value.size() && is_domain_char(value[end])) ++end;
        if (auto claim = identities.claim(value.substr(at + 1, end - at - 1))) return claim;
    }
    return std::nullopt;
}

}  // namespace

std::optional<IdentityClaim> envelope_sender_claim(const TenantIdentities& identities, std::string_view mail_from) {
    // The last '@' ends a quoted local part and an obsolete source route alike.
    const std::size_t at = mail_from.rfind('@');
    if (at == std::string_view::npos) return std::nullopt;
    return identities.claim(trim(mail_from.substr(at + 1)));
}

std::optional<IdentityClaim> from_field_claim(const TenantIdentities& identities, std::string_view from_value) {
    auto mailboxes = parse_address_list(from_value);
    if (!mailboxes) return lenient_claim(identities, from_value);
    for (const Mailbox& mailbox : *mailboxes) {
        if (auto claim = identities.claim(mailbox.domain)) return claim;
    }
    return std::nullopt;
}

SmtpReply foreign_sender_refusal(const IdentityClaim& claim, std::string_view what) {
    return SmtpReply{"550", "5.7.1",
                     std::string(what) + " in " + claim.domain + " needs that tenant's authentication (SASL login "
                     "or tenant network); this client is no tenant"};
}

}  // namespace tenantmail::milter
