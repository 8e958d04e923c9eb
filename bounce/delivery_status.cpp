// delivery_status.cpp — reading RFC 3464 status fields (see delivery_status.h).
#include "bounce/delivery_status.h"

#include "bounce/field_block.h"
#include "common/text.h"

namespace tenantmail::bounce {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// 1-3 digits at text[position]; advances position past them.
bool digits(std::string_view text, std::size_t& position) {
    const std::size_t start = position;
    while (position < text.size() && is_digit(text[position]) && position - start < 4) ++position;
    return position > start && position - start <= 3;
}

// The enhanced code inside an SMTP reply such as "smtp; 550-5.1.1 The email
// account ...": the first valid code that starts a word.
std::string code_in_diagnostic(std::string_view diagnostic) {
    for (std::size_t i = 0; i < diagnostic.size(); ++i) {
        const char c = diagnostic[i];
        if (c != '2' && c != '4' && c != '5') continue;
        if (i > 0 && diagnostic[i - 1] != ' ' && diagnostic[i - 1] != '-' && diagnostic[i - 1] != ';' &&
            diagnostic[i - 1] != '\t') {
            continue;
        }
        if (std::string code = status_code_of(diagnostic.substr(i)); !code.empty()) return code;
    }
    return {};
}

bool is_recipient_field(std::string_view name) {
    return iequals(name, "Final-Recipient") || iequals(name, "Original-Recipient") || iequals(name, "Action") ||
           iequals(name, "Status") || iequals(name, "Diagnostic-Code") || iequals(name, "Remote-MTA");
}

// Reads one field into the recipient being built. Returns false when the
// field starts a new recipient (a second Final-Recipient in the same group:
// some MTAs forget the empty line between recipients).
bool apply_recipient_field(DsnRecipient& recipient, const Field& field) {
    const std::string_view name = field.name;
    if (iequals(name, "Final-Recipient")) {
        if (!recipient.final_recipient.empty()) return false;
        recipient.final_recipient = strip_type(field.value);
    } else if (iequals(name, "Original-Recipient")) {
        recipient.original_recipient = strip_type(field.value);
    } else if (iequals(name, "Action")) {
        // "failed (bad mailbox)": RFC 3464 allows a comment after the action.
        const std::string_view value = field.value;
        recipient.action = to_lower(value.substr(0, value.find_first_of(" \t(")));
    } else if (iequals(name, "Status")) {
        recipient.raw_status = field.value;
    } else if (iequals(name, "Diagnostic-Code")) {
        recipient.diagnostic = field.value;
    } else if (iequals(name, "Remote-MTA")) {
        recipient.remote_mta = strip_type(field.value);
    }
    return true;
}

void apply_message_field(DeliveryStatus& status, const Field& field) {
    if (iequals(field.name, "Reporting-MTA")) status.reporting_mta = strip_type(field.value);
    else if (iequals(field.name, "Arrival-Date")) status.arrival_date = field.value;
    else if (iequals(field.name, "X-Postfix-Sender")) status.envelope_sender = strip_type(field.value);
}

class RecipientCollector {
public:
    explicit RecipientCollector(DeliveryStatus& status) : status_(status) {}

    void group(const FieldGroup& group) {
        for (const Field& field : group.fields) {
            if (!is_recipient_field(field.name)) {
                apply_message_field(status_, field);
                continue;
            }
            if (!apply_recipient_field(current_, field)) {
                finish();
                apply_recipient_field(current_, field);
            }
            open_ = true;
        }
        finish();
    }

private:
    void finish() {
        if (!open_) return;
        open_ = false;
        DsnRecipient done = std::move(current_);
        current_ = DsnRecipient{};
        if (done.recipient().empty()) return;  // a group with no address cannot be attributed
        if (status_.recipients.size() >= kMaxDsnRecipients) {
            status_.truncated = true;
            return;
        }
        done.status = status_code_of(done.raw_status);
        if (done.status.empty()) done.status = code_in_diagnostic(done.diagnostic);
        status_.recipients.push_back(std::move(done));
    }

    DeliveryStatus& status_;
    DsnRecipient current_;
    bool open_ = false;
};

}  // namespace

std::string status_code_of(std::string_view text) {
    text = trim(text);
    if (text.empty() || (text[0] != '2' && text[0] != '4' && text[0] != '5')) return {};
    std::size_t position = 1;
    if (position >= text.size() || text[position] != '.') return {};
    ++position;
    if (!digits(text, position) || position >= text.size() || text[position] != '.') return {};
    ++position;
    if (!digits(text, position)) return {};
    // The code must end there: "5.1.1" or "5.1.1 (comment)", not "5.1.12a".
    if (position < text.size() && !is_space(text[position]) && text[position] != '(' && text[position] != ';' &&
        text[position] != ',') {
        return {};
    }
    return std::string(text.substr(0, position));
}

std::string strip_type(std::string_view typed_value) {
    std::string_view value = typed_value;
    if (const std::size_t semicolon = value.find(';'); semicolon != std::string_view::npos) {
        value = value.substr(semicolon + 1);
    }
    value = trim(value);
    if (value.size() >= 2 && value.front() == '<') {
        if (const std::size_t close = value.find('>'); close != std::string_view::npos) value = value.substr(1, close - 1);
    }
    return std::string(trim(value));
}

Result<DeliveryStatus> parse_delivery_status(std::string_view text) {
    const FieldGroups groups = parse_field_groups(text);
    DeliveryStatus status;
    status.truncated = groups.truncated;
    RecipientCollector collector(status);
    for (const FieldGroup& group : groups.groups) collector.group(group);
    if (status.recipients.empty()) {
        return make_error(groups.groups.empty() ? "delivery-status part has no fields"
                                                : "delivery-status part names no recipient");
    }
    return status;
}

DsnClass classify(const DsnRecipient& recipient) {
    const char status_class = recipient.status.empty() ? '\0' : recipient.status[0];
    const std::string& action = recipient.action;
    if (action == "delivered" || action == "relayed" || action == "expanded") return DsnClass::ignored;
    if (action == "delayed") return DsnClass::soft_bounce;
    if (action == "failed" || action.empty()) {
        if (status_class == '5') return DsnClass::bounce;
        if (status_class == '4') return DsnClass::soft_bounce;
        if (status_class == '2' && action.empty()) return DsnClass::ignored;
    }
    return DsnClass::unclassified;
}

}  // namespace tenantmail::bounce
