// field_block.h — the "Name: value" groups of an RFC 3464 delivery-status
// or RFC 5965 feedback-report body, and of a returned original's header
// block: folded lines joined, groups separated by empty lines.
// Tolerant on purpose: a line that is no field is skipped and counted, not
// fatal, because real reports are often a little broken and one bad line
// must not lose the recipients after it. Bounded: at most kMaxFields fields,
// values cut at kMaxFieldValueBytes. Pure; linear in the input.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tenantmail::bounce {

inline constexpr std::size_t kMaxFields = 5000;
inline constexpr std::size_t kMaxFieldValueBytes = 8 * 1024;

struct Field {
    std::string name;   // as written
    std::string value;  // unfolded (each line break and the white space around it: one space), trimmed
};

struct FieldGroup {
    std::vector<Field> fields;
    // The first field of that name (case-insensitive), or nullptr.
    const Field* find(std::string_view name) const;
};

struct FieldGroups {
    std::vector<FieldGroup> groups;  // never holds an empty group
    std::size_t skipped_lines = 0;   // lines that were neither a field nor a continuation
    bool truncated = false;          // kMaxFields reached or a value was cut
};

// Accepts CRLF, LF or a mix.
FieldGroups parse_field_groups(std::string_view text);

}  // namespace tenantmail::bounce
