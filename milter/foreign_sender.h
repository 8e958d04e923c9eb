// foreign_sender.h — mail from a client that is no tenant (mynetworks, the
// local sendmail, a SASL login in no tenant) is not signed, so it must not
// carry a tenant's identity: the bounce domains' SPF authorises this
// platform's addresses, and a From in a tenant's domain could then pass DMARC
// for that tenant without any signature.
//
// TenantIdentities indexes every tenant's domains and bounce domains once per
// signing table; claim() names the tenant a sender domain belongs to (the
// domain itself or any parent, longest match first, as the From policy
// decides). The checks look at the envelope sender and at every address of
// a From field; a From that does not parse is scanned for "@domain" text
// instead, so malformed never means allowed. Pure: no I/O, no logging, and
// cheap enough for every non-tenant message (a few hash lookups per address).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/tenants.h"
#include "milter/smtp_reply.h"

namespace tenantmail::milter {

struct IdentityClaim {
    std::string tenant;           // id of the tenant the domain belongs to
    std::string domain;           // its configured domain or bounce domain that matched
    bool bounce_domain = false;   // which of the two it is
};

class TenantIdentities {
public:
    TenantIdentities() = default;  // no tenants: nothing is claimed
    explicit TenantIdentities(const TenantRegistry& registry);

    // Case-insensitive; one trailing dot ignored. Empty labels do not stop the
    // walk to the parents: refusing "x..beta.example" is the safe reading.
    std::optional<IdentityClaim> claim(std::string_view domain) const;

private:
    std::unordered_map<std::string, IdentityClaim> by_domain_;
};

// The claim on the domain of an envelope sender (as in MAIL FROM, without
// the angle brackets); nullopt for the null sender and unclaimed domains.
std::optional<IdentityClaim> envelope_sender_claim(const TenantIdentities& identities, std::string_view mail_from);

// The first claim on an address of one From field value (every mailbox of a
// list or group counts).
std::optional<IdentityClaim> from_field_claim(const TenantIdentities& identities, std::string_view from_value);

// The answer for a claim under foreign_sender_action = reject: 550 5.7.1,
// naming the domain but not the tenant. what: "envelope sender" or "From".
SmtpReply foreign_sender_refusal(const IdentityClaim& claim, std::string_view what);

}  // namespace tenantmail::milter
