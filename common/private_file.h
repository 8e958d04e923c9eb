// private_file.h — read a small secret (DKIM key, bounce secret, Redis
// password) from a file that only its owner may read or write. Opens once
// and checks the open descriptor (no stat-then-open race; O_NONBLOCK so a
// FIFO planted at the path cannot hang us); refuses non-regular files, group
// or other read/write permission and files over the size limit, naming the
// file. The caller wipes the returned bytes when they are key material.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.h"

namespace tenantmail {

struct PrivateFileRules {
    std::size_t max_size = 64 * 1024;
    bool check_permissions = true;
};

// what names the file in messages: "key", "bounce secret", ...
Result<std::string> read_private_file(const std::string& path, std::string_view what,
                                      const PrivateFileRules& rules = {});

}  // namespace tenantmail
