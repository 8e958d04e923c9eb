// feedback_report.cpp — reading ARF fields (see feedback_report.h).
#include "bounce/feedback_report.h"

#include "bounce/delivery_status.h"
#include "bounce/field_block.h"
#include "common/text.h"

namespace tenantmail::bounce {

namespace {

// Original-Mail-From / Original-Rcpt-To carry an addr-spec, usually in <>;
// strip_type() removes the <> (there is no "type;" prefix to drop, and an
// address has no ';').
std::string address_value(std::string_view value) { return strip_type(value); }

void apply_field(FeedbackReport& report, const Field& field) {
    const std::string_view name = field.name;
    if (iequals(name, "Feedback-Type")) {
        const std::string_view value = field.value;
        if (report.feedback_type.empty()) report.feedback_type = to_lower(value.substr(0, value.find_first_of(" \t(;")));
    } else if (iequals(name, "User-Agent")) {
        report.user_agent = field.value;
    } else if (iequals(name, "Version")) {
        report.version = field.value;
    } else if (iequals(name, "Original-Mail-From")) {
        report.original_mail_from = address_value(field.value);
    } else if (iequals(name, "Original-Rcpt-To")) {
        if (std::string address = address_value(field.value); !address.empty()) {
            report.original_rcpt_to.push_back(std::move(address));
        }
    } else if (iequals(name, "Arrival-Date") || iequals(name, "Received-Date")) {
        report.arrival_date = field.value;
    } else if (iequals(name, "Source-IP")) {
        report.source_ip = field.value;
    } else if (iequals(name, "Reported-Domain")) {
        report.reported_domain = field.value;
    }
}

}  // namespace

Result<FeedbackReport> parse_feedback_report(std::string_view text) {
    const FieldGroups groups = parse_field_groups(text);
    FeedbackReport report;
    // RFC 5965 has one group; a stray empty line must not hide the rest.
    for (const FieldGroup& group : groups.groups) {
        for (const Field& field : group.fields) apply_field(report, field);
    }
    if (report.feedback_type.empty()) return make_error("feedback-report part has no Feedback-Type");
    return report;
}

bool is_complaint(const FeedbackReport& report) {
    return report.feedback_type != "not-spam" && report.feedback_type != "auth-failure";
}

}  // namespace tenantmail::bounce
