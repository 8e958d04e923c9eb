// bounce_facts.cpp — from a parsed report to outcomes and suppressions (see
// bounce_facts.h).
#include "bounce/bounce_facts.h"

#include <openssl/evp.h>

#include "bounce/report_text.h"
#include "common/text.h"

namespace tenantmail::bounce {
namespace {

constexpr std::size_t kMaxFieldBytes = 255;      // agents, hosts, addresses in details
constexpr std::size_t kMaxReasonBytes = 200;     // suppression reasons, shown in policyd's 5.1.1 reply
constexpr std::size_t kMaxAddressBytes = 254;    // RFC 5321 path limit

std::string sha256_hex(std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(length * 2);
    for (unsigned int i = 0; i < length; ++i) {
        out.push_back(hex[digest[i] >> 4]);
        out.push_back(hex[digest[i] & 0x0f]);
    }
    return out;
}

// Something Postfix could have delivered to: user@domain, no spaces or
// control characters, within the path limit.
bool plausible_address(std::string_view address) {
    const std::size_t at = address.rfind('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == address.size()) return false;
    if (address.size() > kMaxAddressBytes) return false;
    for (const char c : address) {
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '<' || c == '>') return false;
    }
    return true;
}

bool is_message_recipient(const ReportContext& context, std::string_view address) {
    const std::string normal = normalise_recipient(address);
    for (const std::string& known : context.message_recipients) {
        if (known == normal) return true;
    }
    return false;
}

// Original-Recipient is what we sent to; Final-Recipient what the far end
// made of it. With the message's recipients known, the one that is among
// them; "" when neither is.
std::string attributed_recipient(const DsnRecipient& rcpt, const ReportContext& context) {
    for (const std::string* candidate : {&rcpt.original_recipient, &rcpt.final_recipient}) {
        if (!candidate->empty() && is_message_recipient(context, *candidate)) return *candidate;
    }
    return {};
}

Outcome make_outcome(const ReportContext& context, const Report& report, const std::string& recipient,
                     EventKind kind, RecipientStatus status, std::string_view status_code) {
    Outcome outcome;
    outcome.queue_id = context.queue_id;
    // plausible_address() let no control character through; this only
    // replaces bytes that are no UTF-8, which JSON and logs cannot carry.
    outcome.recipient = normalise_recipient(clean_text(recipient, kMaxAddressBytes));
    outcome.status = status;
    Event& event = outcome.event;
    event.id = fact_event_id(context.queue_id, outcome.recipient, kind, status_code, context.report_ref);
    event.kind = kind;
    event.tenant = context.tenant;
    event.queue_id = context.queue_id;
    event.message_id = clean_text(report.original.message_id, 998);
    event.recipient = outcome.recipient;
    event.timestamp = context.now;
    return outcome;
}

void add_dsn_recipient(ReportFacts& out, const Report& report, const DsnRecipient& rcpt, const ReportContext& context) {
    const std::string recipient = clean_text(rcpt.recipient(), kMaxAddressBytes + 1);
    const DsnClass verdict = classify(rcpt);
    if (verdict == DsnClass::ignored) {
        out.ignored.push_back(recipient + " " + clean_text(rcpt.action, 32));
        return;
    }
    if (!plausible_address(rcpt.recipient())) {
        out.unclassified.push_back("\"" + recipient + "\": not an address");
        return;
    }
    const std::string address = attributed_recipient(rcpt, context);
    if (address.empty()) {
        out.strangers.push_back(recipient);
        return;
    }
    if (out.facts.size() >= context.max_recipients) {
        out.over_cap.push_back(recipient);
        return;
    }
    if (verdict == DsnClass::unclassified) {
        out.unclassified.push_back(recipient + ": action \"" + clean_text(rcpt.action, 32) + "\" with status \"" +
                                   clean_text(rcpt.raw_status, 32) + "\"");
        return;
    }
    const bool hard = verdict == DsnClass::bounce;
    // A delay notice without a usable code still says "temporary".
    const std::string status = rcpt.status.empty() ? "4.0.0" : rcpt.status;
    const std::string diagnostic = clean_text(rcpt.diagnostic, kMaxDiagnosticBytes);
    RecipientFact fact;
    fact.outcome = make_outcome(context, report, address, hard ? EventKind::bounce : EventKind::soft_bounce,
                                hard ? RecipientStatus::bounced : RecipientStatus::deferred, status);
    fact.outcome.reply = diagnostic.empty() ? status + " " + clean_text(rcpt.action, 32) : diagnostic;
    fact.outcome.event.details = {
        {"status", status},
        {"diagnostic", diagnostic},
        {"remote_mta", clean_text(rcpt.remote_mta, kMaxFieldBytes)},
        {"action", clean_text(rcpt.action, 32)},
        {"reporting_mta", clean_text(report.delivery.reporting_mta, kMaxFieldBytes)},
        {"source", "dsn"},
    };
    if (hard) {
        const std::string reason = "bounce " + status + (diagnostic.empty() ? "" : " " + diagnostic);
        fact.suppression = Suppression{fact.outcome.recipient, {clean_text(reason, kMaxReasonBytes), context.now}};
    }
    out.facts.push_back(std::move(fact));
}

ReportFacts dsn_facts(const Report& report, const ReportContext& context) {
    ReportFacts out;
    for (const DsnRecipient& rcpt : report.delivery.recipients) add_dsn_recipient(out, report, rcpt, context);
    if (out.facts.empty() && out.ignored.empty() && out.strangers.empty() && out.over_cap.empty()) {
        out.unusable = "no recipient of the delivery status could be classified";
        if (!out.unclassified.empty()) out.unusable += " (" + out.unclassified.front() + ")";
    }
    return out;
}

// Original-Rcpt-To names the complainant; many providers redact it, and
// then the returned original's To is the best witness left. With the
// message's recipients known, only those count.
std::vector<std::string> complainants(const Report& report, const ReportContext& context,
                                      std::vector<std::string>& strangers) {
    std::vector<std::string> found;
    for (const std::string& address : report.feedback.original_rcpt_to) {
        (is_message_recipient(context, address) ? found : strangers).push_back(address);
    }
    if (found.empty() && !report.original.to.empty()) {
        (is_message_recipient(context, report.original.to) ? found : strangers).push_back(report.original.to);
    }
    return found;
}

ReportFacts arf_facts(const Report& report, const ReportContext& context) {
    ReportFacts out;
    const FeedbackReport& arf = report.feedback;
    const std::string type = clean_text(arf.feedback_type, 32);
    if (!is_complaint(arf)) {
        out.ignored.push_back("feedback type " + type);
        return out;
    }
    const std::string& complained_about = report.original.message_id;
    if (!complained_about.empty() && !context.message_id.empty() &&
        trim(complained_about) != trim(context.message_id)) {
        out.refused = "the complaint is about Message-ID " + clean_text(complained_about, kMaxFieldBytes) +
                      ", the bounce address's message is " + clean_text(context.message_id, kMaxFieldBytes);
        return out;
    }
    std::vector<std::string> strangers;
    const std::vector<std::string> recipients = complainants(report, context, strangers);
    for (const std::string& stranger : strangers) out.strangers.push_back(clean_text(stranger, kMaxAddressBytes + 1));
    if (recipients.empty() && strangers.empty()) {
        out.unusable = "feedback report (" + type + ") names no recipient";
        return out;
    }
    const std::string agent = clean_text(arf.user_agent, kMaxFieldBytes);
    for (const std::string& address : recipients) {
        if (!plausible_address(address)) {
            out.unclassified.push_back("\"" + clean_text(address, kMaxAddressBytes + 1) + "\": not an address");
            continue;
        }
        if (out.facts.size() >= context.max_recipients) {
            out.over_cap.push_back(clean_text(address, kMaxAddressBytes + 1));
            continue;
        }
        RecipientFact fact;
        fact.outcome = make_outcome(context, report, address, EventKind::complaint, RecipientStatus::complained, type);
        fact.outcome.reply = "complaint (" + type + ")" + (agent.empty() ? "" : " from " + agent);
        fact.outcome.event.details = {
            {"feedback_type", type},
            {"user_agent", agent},
            {"source_ip", clean_text(arf.source_ip, 64)},
            {"reported_domain", clean_text(arf.reported_domain, kMaxFieldBytes)},
            {"arrival_date", clean_text(arf.arrival_date, 64)},
            {"source", "arf"},
        };
        fact.suppression =
            Suppression{fact.outcome.recipient, {clean_text(fact.outcome.reply, kMaxReasonBytes), context.now}};
        out.facts.push_back(std::move(fact));
    }
    if (out.facts.empty() && strangers.empty() && out.unusable.empty()) {
        out.unusable = "feedback report names no usable recipient";
    }
    return out;
}

}  // namespace

std::string fact_event_id(std::string_view queue_id, std::string_view recipient, EventKind kind,
                          std::string_view status, std::string_view report_ref) {
    // NUL separators: no field can run into the next and fake another fact.
    std::string data;
    for (const std::string_view part : {queue_id, recipient, event_kind_name(kind), status, report_ref}) {
        data.append(part);
        data.push_back('\0');
    }
    return sha256_hex(data).substr(0, 32);
}

std::string raw_reference(std::string_view raw_message) { return "sha256:" + sha256_hex(raw_message); }

std::string report_reference(const Report& report, std::string_view raw_message) {
    if (!report.message_id.empty()) return "mid:" + report.message_id;
    return raw_reference(raw_message);
}

ReportFacts facts_of(const Report& report, const ReportContext& context) {
    return report.kind == ReportKind::feedback ? arf_facts(report, context) : dsn_facts(report, context);
}

}  // namespace tenantmail::bounce
