// policy_settings.h — the [policyd] options of tenantmail.conf (and their
// command-line forms), typed. Declared once here so --help, the config file
// reader and conf/tenantmail.conf agree. Reading them cannot fail once
// load_config has validated the map.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "common/config.h"
#include "policyd/decision.h"
#include "policyd/listen_address.h"

namespace tenantmail::policyd {

// In the directory the Debian package makes for both daemons' sockets: inside
// Postfix's queue directory (reachable from a chrooted smtpd as
// unix:tenantmail/policy.sock), owned by tenantmail, group postfix, mode
// 2750, so only Postfix and the daemons' user can connect.
inline constexpr const char* kDefaultListen = "unix:/var/spool/postfix/tenantmail/policy.sock";

struct PolicySettings {
    CommonSettings common;
    ListenAddress listen;
    std::string pidfile;  // "" for none
    std::string user;     // drop to this user after binding; "" keeps the current one
    bool foreground = false;
    DecisionSettings decision;
    std::chrono::milliseconds idle_timeout{std::chrono::seconds(600)};
    std::chrono::milliseconds request_timeout{std::chrono::seconds(10)};
    std::size_t max_connections = 1000;
    unsigned socket_mode = 0660;
};

// Option values that validate themselves, so a bad one is reported at its
// file:line by load_config (Boost finds these validate() overloads by ADL).
struct ListenOption {
    ListenAddress value;
};
struct ActionOption {
    std::string value;
};
struct ConnectionLimitOption {
    std::size_t value = 1000;  // 1..100000
};
void validate(boost::any& out, const std::vector<std::string>& values, ListenOption*, int);
void validate(boost::any& out, const std::vector<std::string>& values, ActionOption*, int);
void validate(boost::any& out, const std::vector<std::string>& values, ConnectionLimitOption*, int);

// Only the policyd.* options: for tools that read every section of the file
// (tenantmailctl check-config) next to the other programs' options.
void add_policyd_section_options(boost::program_options::options_description& desc);
// Everything tenantmail-policyd accepts: the common options, -f and [policyd].
void add_policyd_options(boost::program_options::options_description& desc, const std::string& default_config);
PolicySettings policy_settings(const LoadedConfig& config);

}  // namespace tenantmail::policyd
