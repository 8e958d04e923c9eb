// private_file.h — read a small secret (DKIM key, bounce secret, Redis
// password) from a file that only its owner may read or write. Opens once
// and checks the open descriptor (no stat-then-open race; O_NONBLOCK so a
// FIFO planted at the path cannot hang us); refuses non-regular files, group
// or other read/write permission, files owned by an account other than root,
// the process's own or a trusted daemon account, and files over the size
// limit, naming the file. The caller wipes the returned bytes when they are
// key material.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.h"

namespace tenantmail {

struct PrivateFileRules {
    std::size_t max_size = 64 * 1024;
    bool check_permissions = true;
};

// Owners accepted besides root and the effective user: the package's
// account "tenantmail" (so root's tenantmailctl reads what the daemons own)
// and each account added here (a daemon's `user` option, by load_config).
// Another account owning a key could swap it or read it: refused.
void trust_private_file_owner(const std::string& user);
bool is_trusted_private_file_owner(uid_t owner);

// what names the file in messages: "key", "bounce secret", ...
Result<std::string> read_private_file(const std::string& path, std::string_view what,
                                      const PrivateFileRules& rules = {});

}  // namespace tenantmail
