// options/maillog.h — the [maillog] options of tenantmail.conf (and their
// command-line forms), typed. Declared once here so --help, the config file
// reader, tenantmailctl check-config and conf/tenantmail.conf agree.
// Reading them cannot fail once load_config has validated the map.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "common/config.h"

namespace tenantmail::maillog {

inline constexpr const char* kDefaultLogFile = "/var/log/postfix.log";
inline constexpr const char* kDefaultStateFile = "/var/lib/tenantmail/maillog.state";

struct MaillogSettings {
    CommonSettings common;
    std::string file;        // Postfix's maillog_file (or a syslog mail.log)
    std::string state_file;  // where reading stopped
    std::chrono::milliseconds poll_interval{500};
    std::string pidfile;     // "" for none
    std::string user;        // drop to this user at start; "" keeps the current one
    bool foreground = false;
    std::string metrics_listen;  // "" for no metrics
};

// An absolute path: the daemon changes to / when it detaches.
struct AbsolutePathOption {
    std::string value;
};
void validate(boost::any& out, const std::vector<std::string>& values, AbsolutePathOption*, int);

// Only the maillog.* options: the [maillog] entry of common/options/sections.h.
void add_maillog_section_options(boost::program_options::options_description& desc);
// Everything tenantmail-maillog accepts: the common options, -f and [maillog].
void add_maillog_options(boost::program_options::options_description& desc, const std::string& default_config);
MaillogSettings maillog_settings(const LoadedConfig& config);

}  // namespace tenantmail::maillog
