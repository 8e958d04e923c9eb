// options/trackd.h — the [trackd] options of tenantmail.conf (and their
// command-line forms), typed, with the checks that span several options.
// Declared once here so --help, the config file reader, tenantmailctl
// check-config and conf/tenantmail.conf agree. The tracking secret is the
// top-level tracking_secret_file the milter reads too (common/config.h).
// Pure: no I/O.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "common/config.h"
#include "common/listen_address.h"
#include "common/network.h"
#include "common/result.h"

namespace tenantmail::trackd {

// Loopback only: the administrator's TLS proxy (conf/nginx-trackd.conf) is
// what faces the internet.
inline constexpr const char* kDefaultListen = "inet:8025@127.0.0.1";
inline constexpr const char* kDefaultTrustedProxies = "127.0.0.1, ::1";

// Fixed bounds of one request (not options: no real request comes near them).
inline constexpr std::size_t kHeaderLimit = 8192;  // request line and header fields
inline constexpr std::size_t kBodyLimit = 8192;    // a One-Click POST is 26 bytes

struct TrackSettings {
    CommonSettings common;
    policyd::ListenAddress listen;
    std::vector<Network> trusted_proxies;
    std::chrono::milliseconds scanner_window{std::chrono::seconds(10)};
    std::chrono::milliseconds open_repeat_window{std::chrono::hours(1)};
    std::chrono::milliseconds request_timeout{std::chrono::seconds(10)};
    std::size_t connection_limit = 1000;
    std::string pidfile;  // "" for none
    std::string user;     // drop to this user after binding and reading the secret; "" keeps the current one
    bool foreground = false;
    std::string metrics_listen;  // "" for no metrics
};

// Only the trackd.* options: the [trackd] entry of common/options/sections.h.
void add_trackd_section_options(boost::program_options::options_description& desc);
// Everything tenantmail-trackd accepts: the common options, -f and [trackd].
void add_trackd_options(boost::program_options::options_description& desc, const std::string& default_config);

Result<TrackSettings> track_settings(const LoadedConfig& config);

}  // namespace tenantmail::trackd
