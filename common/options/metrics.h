// options/metrics.h — the metrics options every daemon's section has:
// SECTION.metrics_listen (a loopback HOST:PORT; empty, the default: no
// metrics), checked at its file:line. Pure: no prometheus-cpp here
// (common/metrics.h serves what these name).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <boost/program_options.hpp>

#include "common/result.h"

namespace tenantmail {

// "127.0.0.1:9750", "[::1]:9750" (a loopback address, a port 1-65535);
// an error naming what is wrong otherwise.
Result<void> check_metrics_listen(std::string_view listen);

struct MetricsListenOption {
    std::string value;  // "" or a checked address
};
void validate(boost::any& out, const std::vector<std::string>& values, MetricsListenOption*, int);

// Declares SECTION.metrics_listen.
void add_metrics_listen_option(boost::program_options::options_description& desc, const std::string& section);
std::string metrics_listen(const boost::program_options::variables_map& options, const std::string& section);

}  // namespace tenantmail
