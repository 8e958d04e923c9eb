// options/bounce.h — the [bounce] options of tenantmail.conf (and their
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
#include "common/result.h"

namespace tenantmail::bounce {

struct BounceSettings {
    CommonSettings common;
    bool foreground = false;                          // log to stderr instead of syslog
    std::chrono::seconds max_token_age{7 * 86400};    // older bounce addresses are refused
    std::size_t unparsed_keep = 1000;                 // entries kept in tm:{T}:unparsed
    std::size_t unparsed_max_bytes = 64 * 1024;       // of each kept report
    std::size_t message_size_limit = 10240000;        // bytes read from stdin; the rest is skipped
    std::size_t max_report_recipients = 50;           // recipients recorded from one report
    std::size_t max_reports_per_token = 10;           // reports one bounce address may send
    std::size_t memory_limit_mb = 512;                // RLIMIT_AS of the process
};

// A whole number within [min, max], so "-1" or "10k" is reported at its
// file:line (Boost finds validate() by ADL).
struct BounceCountOption {
    std::size_t value = 0;
};
void validate(boost::any& out, const std::vector<std::string>& values, BounceCountOption*, int);

// Only the bounce.* options: the [bounce] entry of common/options/sections.h.
void add_bounce_section_options(boost::program_options::options_description& desc);
// The program's own: the common options, [bounce], -f and --version.
void add_bounce_options(boost::program_options::options_description& desc, const std::string& default_config);
BounceSettings bounce_settings(const LoadedConfig& config);

// A report is recorded only against the message's record, which lives
// milter.record_ttl: a bounce address that outlives it could only be
// logged. Fails, saying so, when max_token_age is longer (tenantmailctl
// check-config; the bounce program does not read the [milter] section).
Result<void> check_token_age(std::chrono::seconds max_token_age, std::chrono::seconds record_ttl);

}  // namespace tenantmail::bounce
