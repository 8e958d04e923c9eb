// config.h — the daemon configuration: command line plus tenantmail.conf, read
// with Boost.Program_options. Each program declares its own options and adds
// the common ones (add_common_options); load_config merges the two sources
// (command line wins) and validates every value, without exceptions escaping.
// Errors from the file read "file:line: reason", from the command line
// "command line: reason". Every option and default is listed in conf/tenantmail.conf.
#pragma once

#include <boost/any.hpp>
#include <boost/program_options.hpp>
#include <array>
#include <chrono>
#include <string_view>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace tenantmail {

inline constexpr const char* kDefaultConfigFile = "/etc/tenantmail/tenantmail.conf";

// Sections of tenantmail.conf that belong to one program each are the table
// in common/options/sections.h: a program skips the sections of the others;
// `tenantmailctl check-config` knows them all.

// Renamed options: the old name stays accepted, in the file and on the
// command line, with a warning naming the new one. Giving both is an error.
struct OptionAlias {
    std::string_view old_name;
    std::string_view new_name;
};
inline constexpr std::array<OptionAlias, 5> kOptionAliases = {{
    {"milter.on_error", "milter.error_action"},
    {"policyd.max_connections", "policyd.connection_limit"},
    {"webhookd.max_batch", "webhookd.batch_limit"},
    {"webhookd.retry_initial", "webhookd.retry_min_delay"},
    {"webhookd.retry_max", "webhookd.retry_max_delay"},
}};
// The entry whose old_name is name; nullptr when name is no old name.
const OptionAlias* find_option_alias(std::string_view name);
// "warning: WHERE: OLD is an old name of NEW; use NEW".
std::string option_alias_warning(std::string_view where, const OptionAlias& alias);

// For validate() overloads: the one value given, refusing a second.
const std::string& single_value(boost::any& out, const std::vector<std::string>& values);

// Option value types that validate themselves, so a bad value is reported
// against the line (or argument) that holds it. Declare options with them:
//   ("milter.timeout", po::value<DurationOption>()->default_value({std::chrono::seconds(5)}, "5s"), "...")
struct RedisEndpoint {
    std::string host;
    std::uint16_t port = 0;
    bool operator==(const RedisEndpoint&) const = default;
};
struct DurationOption {
    std::chrono::milliseconds value{0};  // > 0: a zero timeout or interval is a mistake
};
struct PortOption {
    std::uint16_t value = 0;  // 1..65535
};
struct LogLevelOption {
    std::string value;  // error, warning, info or debug
};
struct FileModeOption {
    unsigned value = 0660;  // octal, at most 0777: the mode of a unix listening socket
};
struct RedisEndpointsOption {
    std::vector<RedisEndpoint> value;  // "host:port [v6]:port ..."; "" is none
};

// Found by Boost through argument-dependent lookup; they throw
// boost::program_options errors, which load_config turns into Result errors.
void validate(boost::any& out, const std::vector<std::string>& values, DurationOption*, int);
void validate(boost::any& out, const std::vector<std::string>& values, PortOption*, int);
void validate(boost::any& out, const std::vector<std::string>& values, LogLevelOption*, int);
void validate(boost::any& out, const std::vector<std::string>& values, FileModeOption*, int);
void validate(boost::any& out, const std::vector<std::string>& values, RedisEndpointsOption*, int);

// help (-h), config (-c), check-config, tenants_file, bounce_secret_file,
// tracking_secret_file,
// log_level, redis.host, redis.port, redis.socket, redis.timeout,
// redis.password_file. default_config exists so tests need not touch /etc.
void add_common_options(boost::program_options::options_description& desc,
                        const std::string& default_config = kDefaultConfigFile);

struct LoadedConfig {
    boost::program_options::variables_map options;
    std::string file;  // the config file read, or "" when the default path was absent
    std::vector<std::string> warnings;  // one line each, e.g. an old option name (kOptionAliases)
};

// Parses the command line, then the config file named by --config. The file
// named explicitly must exist; the default one may be absent (defaults apply).
// "config", "check-config" and "help" are refused inside the file.
// The file is lexed by ini_file (same syntax as tenants.conf) and its entries
// are stored through Boost, so types, defaults and notifiers are Boost's.
Result<LoadedConfig> load_config(int argc, const char* const* argv,
                                 const boost::program_options::options_description& desc);

// load_config for a daemon's main(), with what each does first: adds
// --version; --help prints desc, --version "PROGRAM VERSION"; a bad command
// line or file, and each warning, is said on stderr. Without a configuration, exit_status is
// what main returns: 0 after --help or --version, 2 after an error.
std::optional<LoadedConfig> load_program_config(const char* program, int argc, const char* const* argv,
                                                boost::program_options::options_description& desc,
                                                int& exit_status);

// The common options, typed, for code that should not know option names.
struct RedisSettings {
    std::string host;
    std::uint16_t port = 6379;
    std::string socket;  // when set, host and port are not used
    std::chrono::milliseconds timeout{100};
    std::string password_file;  // "" when Redis needs no AUTH
    // Sentinel mode when not empty: the master named master_name is asked
    // of these (redis_sentinel.h); host, port and socket are not used.
    std::vector<RedisEndpoint> sentinels;
    std::string master_name;
    std::string sentinel_password_file;  // "" when the sentinels need no AUTH
    // Cluster mode when not empty: the slot map is read from the first of
    // these that answers (redis_cluster.h); host, port, socket and sentinels
    // are not used.
    std::vector<RedisEndpoint> cluster_nodes;
};
struct CommonSettings {
    bool check_config = false;
    std::string tenants_file;
    std::string bounce_secret_file;
    std::string tracking_secret_file;
    std::string log_level;
    bool metrics_tenant_labels = true;
    RedisSettings redis;
};
// Only valid on a map filled through add_common_options and load_config.
CommonSettings common_settings(const boost::program_options::variables_map& options);

}  // namespace tenantmail
