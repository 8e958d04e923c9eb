// feedback_report.h — RFC 5965 Abuse Reporting Format: the fields of a
// message/feedback-report part (Feedback-Type, User-Agent, Version,
// Original-Mail-From, Original-Rcpt-To, Arrival-Date, Source-IP,
// Reported-Domain), and which feedback types are a recipient's complaint.
// Pure. Values are kept as sent (unfolded); callers make them safe for logs.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace tenantmail::bounce {

struct FeedbackReport {
    std::string feedback_type;  // lower case: abuse, fraud, virus, other, not-spam, auth-failure, ...
    std::string user_agent;
    std::string version;
    std::string original_mail_from;             // address only, <> removed
    std::vector<std::string> original_rcpt_to;  // addresses, <> removed (the field may repeat)
    std::string arrival_date;
    std::string source_ip;
    std::string reported_domain;
};

// Fails when there is no Feedback-Type field.
Result<FeedbackReport> parse_feedback_report(std::string_view text);

// A recipient said "this is unwanted": every type but not-spam (the
// opposite) and auth-failure (RFC 6591: a DKIM/SPF failure report, not a
// person's complaint).
bool is_complaint(const FeedbackReport& report);

}  // namespace tenantmail::bounce
