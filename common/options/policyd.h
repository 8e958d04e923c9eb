// options/policyd.h — the [policyd] options of tenantmail.conf (and their
// command-line forms), typed. Declared once here so --help, the config file
// reader and conf/tenantmail.conf agree. Reading them cannot fail once
// load_config has validated the map. Pure: no Asio, no hiredis.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <boost/program_options.hpp>

#include "common/config.h"
#include "common/listen_address.h"

namespace tenantmail::policyd {

inline constexpr std::string_view kPermitAction = "DUNNO";
inline constexpr std::string_view kDefaultRedisErrorAction =
    "DEFER_IF_PERMIT 4.3.0 rate limit service unavailable, try again later";

// The configured answers policyd/decision.h gives.
struct DecisionSettings {
    std::string unknown_tenant_action = std::string(kPermitAction);
    std::string redis_error_action = std::string(kDefaultRedisErrorAction);
};

// An action from the configuration: one line of printable ASCII starting
// with a word (DUNNO, DEFER_IF_PERMIT, REJECT, 450, ...). Empty string when
// valid, else the reason.
std::string check_action_text(std::string_view action);

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
    std::size_t connection_limit = 1000;
    unsigned socket_mode = 0660;
    std::string metrics_listen;  // "" for no metrics
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

// Only the policyd.* options: the [policyd] entry of common/options/sections.h.
void add_policyd_section_options(boost::program_options::options_description& desc);
// Everything tenantmail-policyd accepts: the common options, -f and [policyd].
void add_policyd_options(boost::program_options::options_description& desc, const std::string& default_config);
PolicySettings policy_settings(const LoadedConfig& config);

}  // namespace tenantmail::policyd
