// private_file.h — read a small secret (DKIM key, bounce secret, Redis
// password) from a file that only its owner may read. Opens once and checks
// the open descriptor (no stat-then-open race); refuses group/other access,
// non-regular files and files over the size limit, naming the file.
#pragma once

#include <cstddef>
#include <string>

#include "common/result.h"

namespace tenantmail {

// what: how the file is named in messages, e.g. "key" or "bounce secret".
Result<std::string> read_private_file(const std::string& path, std::string_view what,
                                      size_t max_size = 64 * 1024);

}  // namespace tenantmail
