// options/metrics.cpp — see options/metrics.h.
#include "common/options/metrics.h"

#include <arpa/inet.h>

#include <charconv>

#include "common/config.h"

namespace tenantmail {

namespace po = boost::program_options;

Result<void> check_metrics_listen(std::string_view listen) {
    std::string host;
    std::string_view port;
    if (listen.starts_with('[')) {
        const std::size_t close = listen.find(']');
        if (close == std::string_view::npos || close + 1 >= listen.size() || listen[close + 1] != ':') {
            return make_error("metrics_listen \"" + std::string(listen) + "\" is not [ADDRESS]:PORT");
        }
        host = std::string(listen.substr(1, close - 1));
        port = listen.substr(close + 2);
    } else {
        const std::size_t colon = listen.rfind(':');
        if (colon == std::string_view::npos) {
            return make_error("metrics_listen \"" + std::string(listen) + "\" is not ADDRESS:PORT");
        }
        host = std::string(listen.substr(0, colon));
        port = listen.substr(colon + 1);
    }
    unsigned number = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (ec != std::errc() || end != port.data() + port.size() || number == 0 || number > 65535) {
        return make_error("metrics_listen \"" + std::string(listen) + "\" has no port 1-65535");
    }
    in_addr v4{};
    in6_addr v6{};
    if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) {
        if ((ntohl(v4.s_addr) >> 24) == 127) return {};
    } else if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
        if (IN6_IS_ADDR_LOOPBACK(&v6)) return {};
    } else {
        return make_error("metrics_listen \"" + std::string(listen) + "\": \"" + host + "\" is not an IP address");
    }
    return make_error("metrics_listen \"" + std::string(listen) +
                      "\" is not a loopback address: the metrics name every tenant's volume, so they are served on "
                      "127.0.0.0/8 or ::1 only (scrape from elsewhere through a proxy that authenticates)");
}

void validate(boost::any& out, const std::vector<std::string>& values, MetricsListenOption*, int) {
    const std::string& text = single_value(out, values);
    if (!text.empty()) {
        if (auto ok = check_metrics_listen(text); !ok) throw po::error(ok.error());
    }
    out = MetricsListenOption{text};
}

void add_metrics_listen_option(po::options_description& desc, const std::string& section) {
    desc.add_options()((section + ".metrics_listen").c_str(),
                       po::value<MetricsListenOption>()->default_value({}, "")->value_name("HOST:PORT"),
                       "serve Prometheus metrics here (a loopback address); empty: no metrics");
}

std::string metrics_listen(const po::variables_map& options, const std::string& section) {
    return options[section + ".metrics_listen"].as<MetricsListenOption>().value;
}

}  // namespace tenantmail
