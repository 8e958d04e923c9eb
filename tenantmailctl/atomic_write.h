// atomic_write.h — replace a config file so that a reader (a daemon
// reloading on SIGHUP) sees either the old text or the new, never a mix:
// write a temp file in the same directory with the old file's mode and
// owner, fsync, rename over, fsync the directory. On failure the old file
// is untouched and the temp file removed.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace tenantmail::ctl {

Result<std::string> read_text_file(const std::string& path);
Result<void> replace_file_atomically(const std::string& path, std::string_view contents);

}  // namespace tenantmail::ctl
