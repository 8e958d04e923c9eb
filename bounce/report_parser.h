// report_parser.h — one returned message in, one report out: a delivery
// status notification (RFC 3464 / RFC 6533) or an ARF feedback report
// (RFC 5965), with the report's own Message-ID and what the returned
// original tells (its Message-ID, its Return-Path — our bounce address —
// and its To). Pure apart from GMime's allocations; bounded by the limits of
// mime_report.h and field_block.h, so hostile input costs at most linear
// time and memory in its size.
// Fails, with a reason fit for the log and the unparsed stream, for
// anything that is not such a report.
#pragma once

#include <string>
#include <string_view>

#include "bounce/delivery_status.h"
#include "bounce/feedback_report.h"
#include "common/result.h"

namespace tenantmail::bounce {

enum class ReportKind { delivery_status, feedback };

struct ReturnedOriginal {
    bool present = false;
    std::string message_id;   // as in the header, with its <>
    std::string return_path;  // address only
    std::string to;           // first address of To, "" when absent or unparseable
};

struct Report {
    ReportKind kind = ReportKind::delivery_status;
    std::string message_id;  // the report's own, without <>; "" when absent
    DeliveryStatus delivery;  // kind == delivery_status
    FeedbackReport feedback;  // kind == feedback
    ReturnedOriginal original;

    // An address in the report that may be our bounce address of the
    // original: ARF Original-Mail-From, the original's Return-Path, or
    // Postfix's X-Postfix-Sender, in that order; "" when none.
    std::string original_sender() const;
};

Result<Report> parse_report(std::string_view message);

// Message-ID, Return-Path and To from a header block.
ReturnedOriginal read_returned_headers(std::string_view headers);

}  // namespace tenantmail::bounce
