// options/policyd.cpp — declaring and reading the [policyd] options.
#include "common/options/policyd.h"

#include "common/options/metrics.h"
#include "common/options/sections.h"

namespace tenantmail::policyd {
namespace {

namespace po = boost::program_options;

constexpr std::size_t kMaxActionLength = 500;

}  // namespace

std::string check_action_text(std::string_view action) {
    if (action.empty()) return "empty action";
    if (action.size() > kMaxActionLength) return "action longer than " + std::to_string(kMaxActionLength) + " characters";
    for (const char c : action) {
        if (c < 0x20 || c > 0x7e) return "action contains a control or non-ASCII character";
    }
    const char first = action.front();
    const bool word = (first >= 'A' && first <= 'Z') || (first >= 'a' && first <= 'z') || (first >= '0' && first <= '9');
    if (!word) return "action must start with a word such as DUNNO, DEFER_IF_PERMIT or REJECT";
    return {};
}

void validate(boost::any& out, const std::vector<std::string>& values, ListenOption*, int) {
    const std::string& text = single_value(out, values);
    auto address = parse_listen_address(text);
    if (!address) throw po::error(address.error());
    out = ListenOption{std::move(*address)};
}

void validate(boost::any& out, const std::vector<std::string>& values, ActionOption*, int) {
    const std::string& text = single_value(out, values);
    if (const std::string problem = check_action_text(text); !problem.empty()) {
        throw po::error("\"" + text + "\": " + problem);
    }
    out = ActionOption{text};
}

void validate(boost::any& out, const std::vector<std::string>& values, ConnectionLimitOption*, int) {
    const std::string& text = single_value(out, values);
    std::size_t count = 0;
    bool digits = !text.empty() && text.size() <= 6;
    for (const char c : text) {
        digits = digits && c >= '0' && c <= '9';
        if (digits) count = count * 10 + static_cast<std::size_t>(c - '0');
    }
    if (!digits || count == 0 || count > 100000) throw po::error("\"" + text + "\" is not a number from 1 to 100000");
    out = ConnectionLimitOption{count};
}

void add_policyd_section_options(po::options_description& desc) {
    using std::chrono::seconds;
    const std::string redis_error_action(kDefaultRedisErrorAction);
    // clang-format off
    desc.add_options()
        ("policyd.listen,l", po::value<ListenOption>()->default_value(
             {*parse_listen_address(kDefaultListen)}, kDefaultListen)->value_name("SOCKET"),
         "where to listen: inet:PORT@HOST, inet6:PORT@HOST or unix:/path")
        ("policyd.pidfile", po::value<std::string>()->default_value("")->value_name("FILE"),
         "write the process id here")
        ("policyd.user,u", po::value<std::string>()->default_value("")->value_name("USER"),
         "switch to this user after opening the socket")
        ("policyd.unknown_tenant_action", po::value<ActionOption>()->default_value({"DUNNO"}, "DUNNO")
             ->value_name("ACTION"),
         "answer at RCPT for clients that are no tenant")
        ("policyd.redis_error_action", po::value<ActionOption>()->default_value(
             {redis_error_action}, redis_error_action)->value_name("ACTION"),
         "answer when Redis is unreachable or slower than redis.timeout (DUNNO: fail open)")
        ("policyd.idle_timeout", po::value<DurationOption>()->default_value({seconds(600)}, "600s")
             ->value_name("TIME"),
         "close a client connection idle this long")
        ("policyd.request_timeout", po::value<DurationOption>()->default_value({seconds(10)}, "10s")
             ->value_name("TIME"),
         "close a client connection whose request takes longer to arrive, or that leaves answers unread this long")
        ("policyd.connection_limit", po::value<ConnectionLimitOption>()->default_value({1000}, "1000")->value_name("N"),
         "most client connections at once; a new one takes the slot of the one waiting longest for its client")
        ("policyd.socket_mode", po::value<FileModeOption>()->default_value({0660}, "0660")->value_name("MODE"),
         "file mode of a unix listening socket (who may connect)");
    // clang-format on
    add_metrics_listen_option(desc, "policyd");
}

void add_policyd_options(po::options_description& desc, const std::string& default_config) {
    add_common_options(desc, default_config);
    desc.add_options()("foreground,f", po::bool_switch(), "stay in the foreground and log to stderr");
    add_section_options("policyd", desc);
}

PolicySettings policy_settings(const LoadedConfig& config) {
    const po::variables_map& vm = config.options;
    PolicySettings settings;
    settings.common = common_settings(vm);
    settings.listen = vm["policyd.listen"].as<ListenOption>().value;
    settings.pidfile = vm["policyd.pidfile"].as<std::string>();
    settings.user = vm["policyd.user"].as<std::string>();
    settings.foreground = vm.count("foreground") != 0 && vm["foreground"].as<bool>();
    settings.decision.unknown_tenant_action = vm["policyd.unknown_tenant_action"].as<ActionOption>().value;
    settings.decision.redis_error_action = vm["policyd.redis_error_action"].as<ActionOption>().value;
    settings.idle_timeout = vm["policyd.idle_timeout"].as<DurationOption>().value;
    settings.request_timeout = vm["policyd.request_timeout"].as<DurationOption>().value;
    settings.connection_limit = vm["policyd.connection_limit"].as<ConnectionLimitOption>().value;
    settings.socket_mode = vm["policyd.socket_mode"].as<FileModeOption>().value;
    settings.metrics_listen = metrics_listen(vm, "policyd");
    return settings;
}

}  // namespace tenantmail::policyd
