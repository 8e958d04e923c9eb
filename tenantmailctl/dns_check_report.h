// dns_check_report.h — dns check results for the admin (one line per
// record: ✓ / ✗ / –, what was found, what was expected; ANSI colour only
// when asked, i.e. when stdout is a terminal; what DNS returned escaped with
// terminal_text) or for programs (JSON, escaped as JSON). Pure.
#pragma once

#include <string>
#include <vector>

#include "tenantmailctl/dns_check.h"

namespace tenantmail::ctl {

struct CheckReportHeader {
    std::string tenant;
    std::string resolver;  // as the resolver describes itself
};

std::string render_check_text(const CheckReportHeader& header, const std::vector<CheckLine>& lines, bool colour);
// notes: rotation messages and the like, carried as "notes": [...].
std::string render_check_json(const CheckReportHeader& header, const std::vector<CheckLine>& lines,
                              const std::vector<std::string>& notes);

// Whether to colour: stdout is a terminal, TERM is not "dumb", NO_COLOR unset.
bool want_colour();

}  // namespace tenantmail::ctl
