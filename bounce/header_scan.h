// header_scan.h — a cheap pass over a report's raw bytes, before GMime sees
// them, that refuses too many or too long header lines anywhere in the MIME
// tree. GMime builds an object for every header it parses: 1.4 million
// header lines (10 MB) cost it 0.7 GB. Header blocks are where GMime would
// look for them: the top of the message, after every line that starts with
// "--" (a boundary, or what could be one), and after the header block of a
// message/* part (the embedded message's own headers). Pure; linear time,
// no allocation.
#pragma once

#include <cstddef>
#include <string_view>

#include "common/result.h"

namespace tenantmail::bounce {

struct HeaderLimits {
    std::size_t lines_per_block = 1000;     // a real header has at most a few hundred (Received chains)
    std::size_t lines_total = 10000;        // over every block of the message
    std::size_t field_bytes = 64 * 1024;    // one field, its folded lines together
};

// Fails, naming the limit, at the first one exceeded.
Result<void> check_header_bounds(std::string_view message, const HeaderLimits& limits = {});

// The top-level header block: everything before the first empty line.
std::string_view top_header_block(std::string_view message);

}  // namespace tenantmail::bounce
