// foreign_sender.h — mail from a client that is no tenant (mynetworks, the
// local sendmail, a SASL login in no tenant) is not signed, so it must not
// carry a tenant's identity: the bounce domains' SPF authorises this
// platform's addresses, and a From in a tenant's domain could then pass DMARC
// for that tenant without any signature.
//
// The checks look at the envelope sender and at every address of a From
// field, through the index of common/tenant_identities.h; a From that does
// not parse is scanned for "@domain" text instead, so malformed never means
// allowed. Pure: no I/O, no logging, and
// cheap enough for every non-tenant message (a few hash lookups per address).
#pragma once

#include <optional>
#include <string_view>

#include "common/tenant_identities.h"
#include "milter/smtp_reply.h"

namespace tenantmail::milter {

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
