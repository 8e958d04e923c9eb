// report_parser.cpp — from MIME parts to a typed report (see report_parser.h).
#include "bounce/report_parser.h"

#include "bounce/field_block.h"
#include "bounce/mime_report.h"
#include "common/mailbox.h"
#include "common/text.h"

namespace tenantmail::bounce {
namespace {

std::string first_address(std::string_view field_value) {
    if (field_value.size() > max_address_field_bytes) return {};
    auto list = parse_address_list(field_value);
    if (!list || list->empty()) return {};
    return list->front().address();
}

Result<Report> delivery_report(const ReportParts& parts) {
    auto status = parse_delivery_status(parts.status_text);
    if (!status) return Error{status.error()};
    Report report;
    report.kind = ReportKind::delivery_status;
    report.delivery = std::move(status).value();
    return report;
}

Result<Report> feedback_report(const ReportParts& parts) {
    auto feedback = parse_feedback_report(parts.status_text);
    if (!feedback) return Error{feedback.error()};
    Report report;
    report.kind = ReportKind::feedback;
    report.feedback = std::move(feedback).value();
    return report;
}

// The report-type parameter and the status part must agree; a report whose
// type we do not handle (disposition-notification, tlsrpt, ...) is refused
// rather than read as something else.
Result<Report> typed_report(const ReportParts& parts) {
    const std::string& type = parts.report_type;
    const bool dsn_part = parts.status_type == StatusPartType::delivery_status ||
                          parts.status_type == StatusPartType::global_delivery_status;
    const bool arf_part = parts.status_type == StatusPartType::feedback_report;
    if (!type.empty() && type != "delivery-status" && type != "global-delivery-status" && type != "feedback-report") {
        return make_error("unsupported report-type \"" + type + "\"");
    }
    if (parts.status_type == StatusPartType::none) {
        if (!parts.is_report) return make_error("not a delivery status or feedback report (no multipart/report)");
        return make_error(type.empty() ? "multipart/report without report-type or status part"
                                       : "report-type " + type + " without its status part");
    }
    if (type == "feedback-report" && !arf_part) return make_error("report-type feedback-report without a feedback-report part");
    if ((type == "delivery-status" || type == "global-delivery-status") && !dsn_part) {
        return make_error("report-type " + type + " without a delivery-status part");
    }
    return arf_part ? feedback_report(parts) : delivery_report(parts);
}

}  // namespace

std::string Report::original_sender() const {
    if (kind == ReportKind::feedback && !feedback.original_mail_from.empty()) return feedback.original_mail_from;
    if (!original.return_path.empty()) return original.return_path;
    if (kind == ReportKind::delivery_status) return delivery.envelope_sender;
    return {};
}

ReturnedOriginal read_returned_headers(std::string_view headers) {
    ReturnedOriginal original;
    original.present = true;
    const FieldGroups groups = parse_field_groups(headers);
    if (groups.groups.empty()) return original;
    // Only the first group: text/rfc822-headers holds headers, but some
    // MTAs append part of the body after an empty line.
    const FieldGroup& header = groups.groups.front();
    if (const Field* id = header.find("Message-ID"); id != nullptr) original.message_id = id->value;
    if (const Field* path = header.find("Return-Path"); path != nullptr) original.return_path = strip_type(path->value);
    if (const Field* to = header.find("To"); to != nullptr) original.to = first_address(to->value);
    return original;
}

Result<Report> parse_report(std::string_view message) {
    if (trim(message).empty()) return make_error("empty message");
    const ReportParts parts = extract_report_parts(message);
    auto report = typed_report(parts);
    if (!report) return report;
    report->message_id = parts.message_id;
    if (parts.has_original) report->original = read_returned_headers(parts.original_headers);
    return report;
}

}  // namespace tenantmail::bounce
