// bounce_settings.h — the [bounce] options of tenantmail.conf (and their
// command-line forms), typed. Declared once here so --help, the config file
// reader, tenantmailctl check-config and conf/tenantmail.conf agree. Reading
// them cannot fail once load_config has validated the map.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "common/config.h"

namespace tenantmail::bounce {

struct BounceSettings {
    CommonSettings common;
    bool foreground = false;                          // log to stderr instead of syslog
    std::chrono::seconds max_token_age{30 * 86400};   // older bounce addresses are refused
    std::size_t unparsed_keep = 1000;                 // entries kept in tm:{T}:unparsed
    std::size_t message_size_limit = 10240000;        // bytes read from stdin; the rest is skipped
};

// A whole number within [min, max], so "-1" or "10k" is reported at its
// file:line (Boost finds validate() by ADL).
struct BounceCountOption {
    std::size_t value = 0;
};
void validate(boost::any& out, const std::vector<std::string>& values, BounceCountOption*, int);

// Only the [bounce] section, for tenantmailctl check-config, which adds the
// common options itself.
void add_bounce_section_options(boost::program_options::options_description& desc);
// The program's own: the common options, [bounce], -f and --version.
void add_bounce_options(boost::program_options::options_description& desc, const std::string& default_config);
BounceSettings bounce_settings(const LoadedConfig& config);

}  // namespace tenantmail::bounce
