// tenants_edit.h — change a tenant's section of tenants.conf as text, so
// everything the admin wrote (comments, order, alignment, CRLF) survives:
// set key = value lines, and keep tenantmailctl's own comment lines (the
// rotation notes, rotation_state.h). Pure: text in, text out; the caller
// validates the result with TenantRegistry::parse before writing it.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace tenantmail::ctl {

// Replaces the value of each key already in the section (keeping an inline
// comment after it) and adds the others after the section's last key line,
// aligned like it. Error when the section does not exist.
Result<std::string> set_tenant_values(std::string_view text, std::string_view tenant,
                                      const std::vector<std::pair<std::string, std::string>>& values);

// The section's comment lines that start with prefix, without line ends, with
// their line numbers (1-based).
std::vector<std::pair<std::size_t, std::string>> tenant_comment_lines(std::string_view text, std::string_view tenant,
                                                                      std::string_view prefix);

// Removes the section's comment lines starting with prefix and puts lines in
// their place (or after the section's last key line when there were none).
Result<std::string> replace_tenant_comment_lines(std::string_view text, std::string_view tenant,
                                                 std::string_view prefix, const std::vector<std::string>& lines);

}  // namespace tenantmail::ctl
