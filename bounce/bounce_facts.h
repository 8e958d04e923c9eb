// bounce_facts.h — what a parsed report means for one tenant's message: one
// outcome per recipient (bounced, deferred or complained, with its event),
// and the recipients to add to the suppression list (hard bounces and
// complaints). Pure: the caller supplies tenant, queue id and time, and
// records the result (bounce_store.h, message_store.h).
//
// Event ids are deterministic for the fact, so a report that Postfix hands
// over twice (after a temporary failure) is recognised and not reported
// twice: the first 32 hex digits of SHA-256 over queue id, normalised
// recipient, event kind, status and the report's reference — its own
// Message-ID, or, when it has none, the SHA-256 of the whole message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bounce/report_parser.h"
#include "common/events.h"
#include "common/message_outcome.h"
#include "common/recipient.h"
#include "common/suppression.h"

namespace tenantmail::bounce {

struct ReportContext {
    std::string tenant;
    std::string queue_id;    // from the bounce token
    std::string report_ref;  // report_reference()
    std::int64_t now = 0;    // Unix seconds
    // The message's envelope recipients (normalised) as its record lists
    // them. A report may only speak of them: every recipient of a tenant's
    // mail sees its bounce address, so the token alone does not stop a
    // stranger from reporting someone else as bounced. Empty: nobody.
    std::vector<std::string> message_recipients;
    // The record's Message-ID ("" when it has none). A complaint whose
    // returned original carries another one is about another message.
    std::string message_id;
    // Recipients recorded from one report at most; the rest are logged.
    std::size_t max_recipients = 50;
};

struct Suppression {
    std::string recipient;  // normalised (normalise_recipient)
    SuppressionEntry entry;
};

struct RecipientFact {
    Outcome outcome;
    std::optional<Suppression> suppression;  // hard bounce or complaint
};

struct ReportFacts {
    std::vector<RecipientFact> facts;
    // For the log only: recipients the report says nothing bad about
    // ("user@example.org delivered"), and ones it could not be read for.
    std::vector<std::string> ignored;
    std::vector<std::string> unclassified;
    // Addresses the report names that are no recipients of the message
    // (see ReportContext::message_recipients): refused, logged.
    std::vector<std::string> strangers;
    // Recipients past ReportContext::max_recipients: logged, not recorded.
    std::vector<std::string> over_cap;
    // Set when the report is about another message than the token's (a
    // complaint naming another Message-ID): nothing recorded, logged.
    std::string refused;
    // Set when the report as a whole cannot be attributed (a complaint that
    // names no recipient): the caller keeps it as unparsed.
    std::string unusable;
};

ReportFacts facts_of(const Report& report, const ReportContext& context);

// "mid:<the report's Message-ID>" or "sha256:<hex of the raw message>".
std::string report_reference(const Report& report, std::string_view raw_message);
std::string raw_reference(std::string_view raw_message);

std::string fact_event_id(std::string_view queue_id, std::string_view recipient, EventKind kind,
                          std::string_view status, std::string_view report_ref);

// Longest diagnostic kept in an event or a suppression reason.
inline constexpr std::size_t kMaxDiagnosticBytes = 1000;

}  // namespace tenantmail::bounce
