// config.cpp — loading the daemon configuration.
// Boost.Program_options knows option types and defaults but not line numbers,
// so the file is lexed by ini_file and each entry is handed to Boost on its
// own: whatever Boost throws for that entry is reported at its line.
// Boost's exceptions stop here; callers see Result.
#include "common/config.h"

#include "common/private_file.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <system_error>

#include "common/duration.h"
#include "common/redis_sentinel.h"
#include "common/ini_file.h"
#include "common/options/sections.h"

namespace tenantmail {
namespace po = boost::program_options;

const std::string& single_value(boost::any& out, const std::vector<std::string>& values) {
    po::validators::check_first_occurrence(out);
    return po::validators::get_single_string(values);
}

const OptionAlias* find_option_alias(std::string_view name) {
    for (const OptionAlias& alias : kOptionAliases) {
        if (alias.old_name == name) return &alias;
    }
    return nullptr;
}

std::string option_alias_warning(std::string_view where, const OptionAlias& alias) {
    return "warning: " + std::string(where) + ": " + std::string(alias.old_name) + " is an old name of " +
           std::string(alias.new_name) + "; use " + std::string(alias.new_name);
}

namespace {

std::string in_quotes(std::string_view text) { return "\"" + std::string(text) + "\""; }

// Options that only make sense as arguments: a config file naming another
// config file, or asking for help, is a mistake worth reporting.
bool command_line_only(const std::string& name) { return name == "config" || name == "check-config" || name == "help"; }

std::vector<std::string> option_names(const po::options_description& desc) {
    std::vector<std::string> names;
    for (const auto& option : desc.options()) names.push_back(option->long_name());
    return names;
}

// Stores one option into options; on failure returns the reason without a
// location, which the caller adds.
Result<void> store_one(const po::option& option, const po::options_description& desc, po::variables_map& options) {
    po::parsed_options one(&desc);
    one.options.push_back(option);
    try {
        po::store(one, options);
    } catch (const po::validation_error&) {
        // Boost's own text names the option as "--name" even for file
        // entries; the value is what the admin needs to see.
        const std::string value = option.value.empty() ? std::string() : option.value.front();
        return make_error("invalid value " + in_quotes(value));
    } catch (const std::exception& e) {  // our validators' po::error, bad_any_cast, ...
        return make_error(e.what());
    }
    return {};
}

po::command_line_style::style_t command_line_style() {
    // Guessing would let "--redis.t" mean "--redis.timeout" until another
    // option starting with "redis.t" appears; configs should say what they mean.
    return static_cast<po::command_line_style::style_t>(po::command_line_style::default_style &
                                                        ~po::command_line_style::allow_guessing);
}

// --old-name[=VALUE] becomes --new-name[=VALUE] when desc declares the new
// name (kOptionAliases), with a warning.
std::vector<std::string> resolve_command_line_aliases(int argc, const char* const* argv,
                                                      const po::options_description& desc,
                                                      std::vector<std::string>& warnings) {
    std::vector<std::string> arguments;
    for (int i = 1; i < argc; ++i) {
        std::string argument = argv[i];
        if (argument.starts_with("--")) {
            const std::size_t equals = argument.find('=');
            const std::string name = argument.substr(2, equals == std::string::npos ? std::string::npos : equals - 2);
            const OptionAlias* alias = find_option_alias(name);
            if (alias != nullptr && desc.find_nothrow(std::string(alias->new_name), false) != nullptr) {
                warnings.push_back(option_alias_warning("command line", *alias));
                argument = "--" + std::string(alias->new_name) +
                           (equals == std::string::npos ? std::string() : argument.substr(equals));
            }
        }
        arguments.push_back(std::move(argument));
    }
    return arguments;
}

Result<void> store_command_line(int argc, const char* const* argv, const po::options_description& desc,
                                LoadedConfig& loaded) {
    po::variables_map& options = loaded.options;
    po::parsed_options parsed(&desc);
    try {
        const std::vector<std::string> arguments = resolve_command_line_aliases(argc, argv, desc, loaded.warnings);
        parsed = po::command_line_parser(arguments).options(desc).style(command_line_style()).run();
    } catch (const std::exception& e) {
        return make_error(std::string("command line: ") + e.what());
    }
    std::map<std::string, bool> seen;
    for (const po::option& option : parsed.options) {
        if (option.string_key.empty()) {  // a positional argument; no program takes any
            const std::string token = option.original_tokens.empty() ? "" : option.original_tokens.front();
            return make_error("command line: unexpected argument " + in_quotes(token));
        }
        const po::option_description* description = desc.find_nothrow(option.string_key, false);
        const bool composing = description != nullptr && description->semantic()->is_composing();
        if (seen[option.string_key] && !composing) {
            return make_error("command line: --" + option.string_key + " given twice");
        }
        seen[option.string_key] = true;
        if (auto stored = store_one(option, desc, options); !stored) {
            return make_error("command line: --" + option.string_key + ": " + stored.error());
        }
    }
    return {};
}

class FileStorer {
public:
    FileStorer(const std::string& path, const po::options_description& desc, LoadedConfig& loaded)
        : path_(path), desc_(desc), options_(loaded.options), warnings_(loaded.warnings), names_(option_names(desc)) {}

    Result<void> store() {
        IniOptions ini_options;
        ini_options.allow_keys_outside_sections = true;  // tenants_file = ... at the top
        auto ini = read_ini_file(path_, ini_options);
        if (!ini) return Error{ini.error()};
        for (const IniEntry& entry : ini->entries) {
            if (auto stored = store_entry(entry); !stored) return stored;
        }
        return {};
    }

private:
    // One file serves every program: a section owned by another program
    // (one this program declares no option of) is that program's to check.
    bool belongs_to_other_program(const std::string& section) const {
        if (find_option_section(section) == nullptr) return false;
        const std::string prefix = section + ".";
        return std::none_of(names_.begin(), names_.end(),
                            [&](const std::string& known) { return known.rfind(prefix, 0) == 0; });
    }

    Error fail(const IniEntry& entry, std::string_view reason) const {
        return make_error(ini_error(path_, entry.line, reason));
    }

    Result<void> store_entry(const IniEntry& entry) {
        // [redis] timeout = 100ms is the option redis.timeout, as Boost maps it.
        const std::string written = entry.section.empty() ? entry.key : entry.section + "." + entry.key;
        const std::string name = resolve_alias(written, entry);
        const po::option_description* description = desc_.find_nothrow(name, false);
        if (description == nullptr && belongs_to_other_program(entry.section)) return {};
        if (description == nullptr) {
            const std::vector<std::string_view> known(names_.begin(), names_.end());
            return fail(entry, "unknown option " + in_quotes(name) + did_you_mean(name, known));
        }
        if (command_line_only(name)) return fail(entry, "option " + in_quotes(name) + " is only for the command line");
        const auto [first, added] = first_given_.emplace(name, Given{entry.line, written});
        if (!added && first->second.written != written) {
            return fail(entry, written + " and " + first->second.written + " are the same option, " + name +
                                   " (first given at line " + std::to_string(first->second.line) + ")");
        }
        if (!added && !description->semantic()->is_composing()) {
            return fail(entry, written + " given twice (first at line " + std::to_string(first->second.line) + ")");
        }
        po::option option(name, {entry.value});
        option.original_tokens = {entry.key, entry.value};
        // Validated on its own first: when the command line already set this
        // option, Boost skips the file's value without parsing it, and a
        // broken file must not pass --check-config just because of that.
        po::variables_map scratch;
        if (auto valid = store_one(option, desc_, scratch); !valid) return fail(entry, written + ": " + valid.error());
        if (auto stored = store_one(option, desc_, options_); !stored) return fail(entry, written + ": " + stored.error());
        return {};
    }

    // An old name this program knows under its new one is stored as the new
    // one, with a warning; any other name is returned as written.
    std::string resolve_alias(const std::string& written, const IniEntry& entry) {
        const OptionAlias* alias = find_option_alias(written);
        if (alias == nullptr || desc_.find_nothrow(std::string(alias->new_name), false) == nullptr) return written;
        warnings_.push_back(option_alias_warning(path_ + ":" + std::to_string(entry.line), *alias));
        return std::string(alias->new_name);
    }

    struct Given {
        std::size_t line;
        std::string written;  // the name as written, old or new
    };

    const std::string& path_;
    const po::options_description& desc_;
    po::variables_map& options_;
    std::vector<std::string>& warnings_;
    std::vector<std::string> names_;
    std::map<std::string, Given> first_given_;
};

}  // namespace

void validate(boost::any& out, const std::vector<std::string>& values, DurationOption*, int) {
    const std::string& text = single_value(out, values);
    auto parsed = parse_duration(text);
    if (!parsed) throw po::error(parsed.error());
    if (parsed->count() == 0) throw po::error("duration must be more than 0");
    out = DurationOption{*parsed};
}

void validate(boost::any& out, const std::vector<std::string>& values, PortOption*, int) {
    const std::string& text = single_value(out, values);
    unsigned long port = 0;
    bool digits_only = !text.empty() && text.size() <= 5;
    for (const char c : text) {
        digits_only = digits_only && c >= '0' && c <= '9';
        if (digits_only) port = port * 10 + static_cast<unsigned long>(c - '0');
    }
    if (!digits_only || port == 0 || port > 65535) throw po::error("invalid port " + in_quotes(text) + " (1-65535)");
    out = PortOption{static_cast<std::uint16_t>(port)};
}

void validate(boost::any& out, const std::vector<std::string>& values, RedisEndpointsOption*, int) {
    const std::string& text = single_value(out, values);
    if (text.find_first_not_of(" ,\t") == std::string::npos) {
        out = RedisEndpointsOption{};
        return;
    }
    auto endpoints = parse_redis_endpoints(text);
    if (!endpoints) throw po::error("invalid address list " + in_quotes(text) + ": " + endpoints.error());
    out = RedisEndpointsOption{std::move(*endpoints)};
}

void validate(boost::any& out, const std::vector<std::string>& values, LogLevelOption*, int) {
    const std::string& text = single_value(out, values);
    if (text != "error" && text != "warning" && text != "info" && text != "debug") {
        throw po::error("invalid log level " + in_quotes(text) + " (error, warning, info or debug)");
    }
    out = LogLevelOption{text};
}

void validate(boost::any& out, const std::vector<std::string>& values, FileModeOption*, int) {
    const std::string& text = single_value(out, values);
    unsigned mode = 0;
    bool octal = !text.empty() && text.size() <= 4;
    for (const char c : text) {
        octal = octal && c >= '0' && c <= '7';
        if (octal) mode = mode * 8 + static_cast<unsigned>(c - '0');
    }
    if (!octal || mode > 0777) throw po::error(in_quotes(text) + " is not an octal file mode such as 0660");
    out = FileModeOption{mode};
}

void add_common_options(po::options_description& desc, const std::string& default_config) {
    using std::chrono::milliseconds;
    // One option per paragraph reads better than the packed chain.
    // clang-format off
    desc.add_options()
        ("help,h", "show the options and exit")
        ("config,c", po::value<std::string>()->default_value(default_config)->value_name("FILE"),
         "configuration file; when not given, a missing default file is not an error")
        ("check-config", po::bool_switch(), "validate the configuration and tenants, then exit")
        ("tenants_file", po::value<std::string>()->default_value("/etc/tenantmail/tenants.conf")->value_name("FILE"),
         "tenant definitions")
        ("bounce_secret_file",
         po::value<std::string>()->default_value("/etc/tenantmail/bounce.secret")->value_name("FILE"),
         "secret key for signed bounce addresses")
        ("tracking_secret_file",
         po::value<std::string>()->default_value("/etc/tenantmail/tracking.secret")->value_name("FILE"),
         "secret key for tracking and unsubscribe links; read only when a tenant has tracking_domain")
        ("log_level", po::value<LogLevelOption>()->default_value({"info"}, "info")->value_name("LEVEL"),
         "error, warning, info or debug")
        ("metrics_tenant_labels", po::value<bool>()->default_value(true, "yes")->value_name("yes|no"),
         "label the daemons' metrics by tenant; no: sum every tenant's under tenant=\"\"")
        ("redis.host", po::value<std::string>()->default_value("127.0.0.1")->value_name("HOST"), "Redis host")
        ("redis.port", po::value<PortOption>()->default_value({6379}, "6379")->value_name("PORT"), "Redis port")
        ("redis.socket", po::value<std::string>()->default_value("")->value_name("PATH"),
         "Redis unix socket; when set, host and port are not used")
        ("redis.timeout", po::value<DurationOption>()->default_value({milliseconds(100)}, "100ms")
                              ->value_name("DURATION"),
         "time limit for one Redis round trip, connecting included")
        ("redis.password_file", po::value<std::string>()->default_value("")->value_name("FILE"),
         "file holding the Redis AUTH password; empty: no AUTH")
        ("redis.sentinels", po::value<RedisEndpointsOption>()->default_value({}, "")->value_name("HOST:PORT ..."),
         "Redis Sentinel mode: the sentinels to ask for the master (host, port and socket are then not used)")
        ("redis.master_name", po::value<std::string>()->default_value("mymaster")->value_name("NAME"),
         "the master's name in the sentinels' configuration")
        ("redis.sentinel_password_file", po::value<std::string>()->default_value("")->value_name("FILE"),
         "file holding the sentinels' AUTH password; empty: no AUTH")
        ("redis.cluster_nodes", po::value<RedisEndpointsOption>()->default_value({}, "")->value_name("HOST:PORT ..."),
         "Redis Cluster mode: nodes to read the slot map from (host, port, socket and sentinels are then not used)");
    // clang-format on
}

namespace {

Result<LoadedConfig> load_config_unguarded(int argc, const char* const* argv, const po::options_description& desc) {
    LoadedConfig loaded;
    if (auto ok = store_command_line(argc, argv, desc, loaded); !ok) return Error{ok.error()};
    // Options are stored one at a time, so with an empty command line Boost
    // would never have run; an empty store fills in the defaults.
    po::store(po::parsed_options(&desc), loaded.options);
    if (loaded.options.count("help")) return loaded;  // help must work even with a broken file

    const auto config = loaded.options.find("config");
    if (config != loaded.options.end()) {
        const std::string path = config->second.as<std::string>();
        std::error_code ignored;
        const bool absent_default = config->second.defaulted() && !std::filesystem::exists(path, ignored);
        if (!absent_default) {
            FileStorer storer(path, desc, loaded);
            if (auto ok = storer.store(); !ok) return Error{ok.error()};
            loaded.file = path;
        }
    }
    try {
        po::notify(loaded.options);
    } catch (const std::exception& e) {
        return make_error(std::string("configuration: ") + e.what());
    }
    // A daemon started as root reads its keys before switching to its
    // `user`: files that user owns are its own (see private_file.h).
    for (const auto& [name, value] : loaded.options) {
        if (!name.ends_with(".user")) continue;
        if (const auto* user = boost::any_cast<std::string>(&value.value()); user != nullptr && !user->empty()) {
            trust_private_file_owner(*user);
        }
    }
    return loaded;
}

}  // namespace

Result<LoadedConfig> load_config(int argc, const char* const* argv, const po::options_description& desc) {
    // Everything below reports through Result; this catch is the guarantee
    // that nothing Boost throws in a case not foreseen escapes to main.
    try {
        return load_config_unguarded(argc, argv, desc);
    } catch (const std::exception& e) {
        return make_error(std::string("configuration: ") + e.what());
    }
}

std::optional<LoadedConfig> load_program_config(const char* program, int argc, const char* const* argv,
                                                po::options_description& desc, int& exit_status) {
    desc.add_options()("version", "print the version and exit");
    auto config = load_config(argc, argv, desc);
    exit_status = 0;
    if (!config) {
        std::fprintf(stderr, "%s: %s\n", program, config.error().c_str());
        exit_status = 2;
        return std::nullopt;
    }
    for (const std::string& warning : config->warnings) std::fprintf(stderr, "%s: %s\n", program, warning.c_str());
    if (config->options.count("help")) {
        std::cout << desc << '\n';
        return std::nullopt;
    }
    if (config->options.count("version")) {
        std::printf("%s %s\n", program, TM_VERSION);
        return std::nullopt;
    }
    return std::move(config).value();
}

CommonSettings common_settings(const po::variables_map& options) {
    CommonSettings settings;
    settings.check_config = options["check-config"].as<bool>();
    settings.tenants_file = options["tenants_file"].as<std::string>();
    settings.bounce_secret_file = options["bounce_secret_file"].as<std::string>();
    settings.tracking_secret_file = options["tracking_secret_file"].as<std::string>();
    settings.log_level = options["log_level"].as<LogLevelOption>().value;
    settings.metrics_tenant_labels = options["metrics_tenant_labels"].as<bool>();
    settings.redis.host = options["redis.host"].as<std::string>();
    settings.redis.port = options["redis.port"].as<PortOption>().value;
    settings.redis.socket = options["redis.socket"].as<std::string>();
    settings.redis.timeout = options["redis.timeout"].as<DurationOption>().value;
    settings.redis.password_file = options["redis.password_file"].as<std::string>();
    settings.redis.sentinels = options["redis.sentinels"].as<RedisEndpointsOption>().value;
    settings.redis.master_name = options["redis.master_name"].as<std::string>();
    settings.redis.sentinel_password_file = options["redis.sentinel_password_file"].as<std::string>();
    settings.redis.cluster_nodes = options["redis.cluster_nodes"].as<RedisEndpointsOption>().value;
    return settings;
}

}  // namespace tenantmail
