// delivery_status.h — RFC 3464 delivery status notifications (and RFC 6533
// global ones): the per-message fields, then one entry per recipient with
// Final-Recipient, Original-Recipient, Action, Status, Diagnostic-Code and
// Remote-MTA; and how one recipient's entry is classified (bounce, soft
// bounce, nothing to report). Pure. Field values are kept as sent (unfolded);
// callers make them safe for logs and JSON (report_text.h).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace tenantmail::bounce {

inline constexpr std::size_t kMaxDsnRecipients = 1000;

struct DsnRecipient {
    std::string final_recipient;     // address only ("rfc822;" and <> removed), "" when absent
    std::string original_recipient;  // likewise
    std::string action;              // lower case: failed, delayed, delivered, relayed, expanded
    // "5.1.1": the Status field's code or, when that is no valid code, the
    // enhanced code in Diagnostic-Code ("smtp; 550 5.1.1 ..."); else "".
    std::string status;
    std::string raw_status;          // the Status field as sent
    std::string diagnostic;          // Diagnostic-Code, e.g. "smtp; 550 5.1.1 user unknown"
    std::string remote_mta;          // host only ("dns;" removed)

    // What we sent to: Original-Recipient when given (the address before any
    // rewriting at the far end), else Final-Recipient.
    const std::string& recipient() const { return original_recipient.empty() ? final_recipient : original_recipient; }
};

struct DeliveryStatus {
    std::string reporting_mta;
    std::string arrival_date;
    std::string envelope_sender;  // X-Postfix-Sender, when the reporting MTA adds it
    std::vector<DsnRecipient> recipients;
    bool truncated = false;       // more than kMaxDsnRecipients, or fields cut
};

// Fails when no recipient entry is found.
Result<DeliveryStatus> parse_delivery_status(std::string_view text);

// RFC 3463: class 2, 4 or 5, then subject and detail of 1-3 digits each.
// Accepts the code at the start of text ("5.1.1 (user unknown)"); returns
// "" when there is none.
std::string status_code_of(std::string_view text);

enum class DsnClass {
    bounce,        // Action failed (or none) with a 5.x.x status: permanent
    soft_bounce,   // Action delayed, or a 4.x.x status
    ignored,       // delivered, relayed, expanded (or a 2.x.x status): nothing went wrong
    unclassified,  // failed without a usable status, or an unknown action
};
DsnClass classify(const DsnRecipient& recipient);

// "rfc822; <User@Example.org>" -> "User@Example.org"; "dns; mx.example.org"
// -> "mx.example.org". Drops the type before the first ';' and one pair of
// angle brackets; the address itself is not changed.
std::string strip_type(std::string_view typed_value);

}  // namespace tenantmail::bounce
