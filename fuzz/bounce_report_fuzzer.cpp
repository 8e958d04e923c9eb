// bounce_report_fuzzer.cpp — a message as tenantmail-bounce reads it from
// Postfix's pipe: the whole report (report_parser, through GMime), and the
// same bytes straight into the status-part and field parsers it calls, which
// the MIME layer would otherwise keep most mutations away from.
// Invariants: the documented bounds (recipients, fields, value sizes, the
// status part) hold; a status code is "" or class.subject.detail.
#include <string>

#include "bounce/delivery_status.h"
#include "bounce/feedback_report.h"
#include "bounce/field_block.h"
#include "bounce/mime_report.h"
#include "bounce/report_parser.h"
#include "fuzz/fuzz_check.h"

namespace {

using namespace tenantmail;
using namespace tenantmail::bounce;

bool is_status_code(const std::string& code) {
    if (code.empty()) return true;
    if (code[0] != '2' && code[0] != '4' && code[0] != '5') return false;
    return status_code_of(code) == code;
}

void check_delivery_status(const DeliveryStatus& status) {
    FUZZ_CHECK(!status.recipients.empty());
    FUZZ_CHECK(status.recipients.size() <= kMaxDsnRecipients);
    for (const DsnRecipient& recipient : status.recipients) {
        FUZZ_CHECK(is_status_code(recipient.status));
        (void)classify(recipient);
    }
}

void check_field_groups(std::string_view text) {
    const FieldGroups groups = parse_field_groups(text);
    std::size_t fields = 0;
    for (const FieldGroup& group : groups.groups) {
        FUZZ_CHECK(!group.fields.empty());
        fields += group.fields.size();
        for (const Field& field : group.fields) FUZZ_CHECK(field.value.size() <= kMaxFieldValueBytes);
    }
    FUZZ_CHECK(fields <= kMaxFields);
}

void check_report(std::string_view message) {
    const auto report = parse_report(message);
    if (!report) {
        FUZZ_CHECK(!report.error().empty());
        return;
    }
    if (report->kind == ReportKind::delivery_status) check_delivery_status(report->delivery);
    else (void)is_complaint(report->feedback);
    (void)report->original_sender();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = fuzz::as_text(data, size);
    FUZZ_CHECK(mime_prefix(text).size() <= text.size() && text.starts_with(mime_prefix(text)));
    const ReportParts parts = extract_report_parts(text);
    FUZZ_CHECK(parts.status_text.size() <= kMaxStatusPartBytes);
    check_report(text);
    check_field_groups(text);
    if (const auto status = parse_delivery_status(text)) check_delivery_status(*status);
    if (const auto feedback = parse_feedback_report(text)) FUZZ_CHECK(!feedback->feedback_type.empty());
    (void)read_returned_headers(text);
    FUZZ_CHECK(is_status_code(status_code_of(text)));
    return 0;
}
