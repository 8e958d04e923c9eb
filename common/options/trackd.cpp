// options/trackd.cpp — see options/trackd.h. The listen, connection limit
// and network list values are the same types policyd and webhookd declare.
#include "common/options/trackd.h"

#include "common/duration.h"
#include "common/options/metrics.h"
#include "common/options/policyd.h"
#include "common/options/sections.h"
#include "common/options/webhookd.h"

namespace tenantmail::trackd {
namespace {

namespace po = boost::program_options;

std::vector<Network> default_trusted_proxies() {
    return {*Network::parse("127.0.0.1"), *Network::parse("::1")};
}

}  // namespace

void add_trackd_section_options(po::options_description& desc) {
    using std::chrono::hours;
    using std::chrono::seconds;
    // clang-format off
    desc.add_options()
        ("trackd.listen", po::value<policyd::ListenOption>()->default_value(
             {*policyd::parse_listen_address(kDefaultListen)}, kDefaultListen)->value_name("SOCKET"),
         "where to serve plain HTTP for the TLS proxy: inet:PORT@HOST or inet6:PORT@HOST")
        ("trackd.trusted_proxies", po::value<webhookd::NetworkListOption>()->default_value(
             {default_trusted_proxies()}, kDefaultTrustedProxies)->value_name("CIDRS"),
         "peers whose X-Forwarded-For is believed (the TLS proxy)")
        ("trackd.scanner_window", po::value<DurationOption>()->default_value({seconds(10)}, "10s")
             ->value_name("TIME"),
         "clicks this soon after sending are flagged as link scanners")
        ("trackd.open_repeat_window", po::value<DurationOption>()->default_value({hours(1)}, "1h")
             ->value_name("TIME"),
         "record one open per message and recipient in this time")
        ("trackd.request_timeout", po::value<DurationOption>()->default_value({seconds(10)}, "10s")
             ->value_name("TIME"),
         "a request must arrive whole, and an idle keep-alive connection is closed, within this")
        ("trackd.connection_limit", po::value<policyd::ConnectionLimitOption>()->default_value({1000}, "1000")
             ->value_name("N"),
         "most client connections at once; more are closed at once")
        ("trackd.pidfile", po::value<std::string>()->default_value("")->value_name("FILE"),
         "write the process id here")
        ("trackd.user", po::value<std::string>()->default_value("")->value_name("USER"),
         "switch to this user after opening the socket and reading the secret");
    // clang-format on
    add_metrics_listen_option(desc, "trackd");
}

void add_trackd_options(po::options_description& desc, const std::string& default_config) {
    add_common_options(desc, default_config);
    desc.add_options()("foreground,f", po::bool_switch(), "stay in the foreground and log to stderr");
    add_section_options("trackd", desc);
}

Result<TrackSettings> track_settings(const LoadedConfig& config) {
    const po::variables_map& vm = config.options;
    TrackSettings s;
    s.common = common_settings(vm);
    s.listen = vm["trackd.listen"].as<policyd::ListenOption>().value;
    s.trusted_proxies = vm["trackd.trusted_proxies"].as<webhookd::NetworkListOption>().value;
    s.scanner_window = vm["trackd.scanner_window"].as<DurationOption>().value;
    s.open_repeat_window = vm["trackd.open_repeat_window"].as<DurationOption>().value;
    s.request_timeout = vm["trackd.request_timeout"].as<DurationOption>().value;
    s.connection_limit = vm["trackd.connection_limit"].as<policyd::ConnectionLimitOption>().value;
    s.metrics_listen = metrics_listen(vm, "trackd");
    s.pidfile = vm["trackd.pidfile"].as<std::string>();
    s.user = vm["trackd.user"].as<std::string>();
    s.foreground = vm.count("foreground") != 0 && vm["foreground"].as<bool>();
    if (!s.listen.is_inet()) {
        return make_error("trackd.listen \"" + s.listen.to_string() +
                          "\": trackd serves HTTP over TCP only (inet:PORT@HOST or inet6:PORT@HOST)");
    }
    if (s.open_repeat_window < std::chrono::seconds(1)) {
        return make_error("trackd.open_repeat_window (" + format_duration(s.open_repeat_window) +
                          ") is shorter than 1s");
    }
    if (s.common.tracking_secret_file.empty()) return make_error("tracking_secret_file is empty");
    return s;
}

}  // namespace tenantmail::trackd
