// all_options.h — tenantmail.conf as a whole: the options of every program
// that reads it, so tenantmailctl check-config catches a mistake in any
// section, not only in the ones a single daemon knows: the common options
// and every section of the table in common/options/sections.h. Old option
// names (kOptionAliases) are accepted with a warning in LoadedConfig::warnings.
#pragma once

#include <string>

#include "common/config.h"

namespace tenantmail::ctl {

// path: the config file; optional: a missing file means defaults.
Result<LoadedConfig> load_all_options(const std::string& path, bool optional);

}  // namespace tenantmail::ctl
