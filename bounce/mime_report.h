// mime_report.h — finds the machine-readable parts of a report message
// (RFC 6522 multipart/report) with GMime: the report-type, the decoded status
// part (message/delivery-status, message/global-delivery-status or
// message/feedback-report) and the header block of the returned original
// (text/rfc822-headers, message/global-headers, or the headers of a
// message/rfc822 or message/global part). Interprets none of them.
// Bounded: GMime itself stops nesting at a fixed depth, but builds an object
// for every part it sees (2 GB for 10 MB of empty parts), so GMime is given
// the message only up to its kMaxBoundaryLines-th line that starts with
// "--" — report parts come first, and a real report has a few dozen. This
// walk visits at most kMaxMimeParts parts and never descends into a returned
// message (a bounced bounce must not be read as the report). Decoded parts
// are cut at kMaxStatusPartBytes. Never fails: what is missing stays empty.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tenantmail::bounce {

inline constexpr std::size_t kMaxMimeParts = 1000;
inline constexpr std::size_t kMaxBoundaryLines = 2000;
inline constexpr std::size_t kMaxMimeDepth = 32;
inline constexpr std::size_t kMaxStatusPartBytes = 256 * 1024;

enum class StatusPartType { none, delivery_status, global_delivery_status, feedback_report };

struct ReportParts {
    bool is_report = false;       // a multipart/report holds the status part
    std::string report_type;      // its report-type parameter, lower case; "" when absent
    StatusPartType status_type = StatusPartType::none;
    std::string status_text;      // decoded body of the status part
    bool status_truncated = false;
    bool has_original = false;    // a returned original (headers or whole message) was found
    std::string original_headers; // its header block, unfolded lines as sent
    std::string message_id;       // the report's own Message-ID, without <>; "" when absent
    bool cut_at_boundary_limit = false;  // GMime saw only a prefix (kMaxBoundaryLines)
};

// The part of message GMime is given: up to (not including) its
// (kMaxBoundaryLines + 1)-th line starting with "--".
std::string_view mime_prefix(std::string_view message);

ReportParts extract_report_parts(std::string_view message);

}  // namespace tenantmail::bounce
