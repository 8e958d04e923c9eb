// state_file.h — reading and writing the follower's state file (format in
// follow_state.h). Written to FILE.tmp, fsynced and renamed over FILE, so a
// crash leaves the old state or the new one, never a torn file.
#pragma once

#include <optional>
#include <string>

#include "common/result.h"
#include "maillog/follow_state.h"

namespace tenantmail::maillog {

// nullopt when the file does not exist; an error when it cannot be read or
// is not a valid state file (the caller then reads the log from the start).
Result<std::optional<FollowState>> read_state_file(const std::string& path);
Result<void> write_state_file(const std::string& path, const FollowState& state);

}  // namespace tenantmail::maillog
