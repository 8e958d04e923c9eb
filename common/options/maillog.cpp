// options/maillog.cpp — see options/maillog.h.
#include "common/options/maillog.h"

#include "common/options/metrics.h"

#include "common/options/sections.h"

namespace tenantmail::maillog {
namespace {

namespace po = boost::program_options;

}  // namespace

void validate(boost::any& out, const std::vector<std::string>& values, AbsolutePathOption*, int) {
    const std::string& text = single_value(out, values);
    if (text.empty() || text.front() != '/') throw po::error("\"" + text + "\" is not an absolute path");
    if (text.find('\n') != std::string::npos) throw po::error("a path cannot contain a newline");
    out = AbsolutePathOption{text};
}

void add_maillog_section_options(po::options_description& desc) {
    using std::chrono::milliseconds;
    // clang-format off
    desc.add_options()
        ("maillog.file", po::value<AbsolutePathOption>()->default_value({kDefaultLogFile}, kDefaultLogFile)
             ->value_name("FILE"),
         "Postfix's log to follow (maillog_file, or a syslog mail.log)")
        ("maillog.state_file", po::value<AbsolutePathOption>()->default_value({kDefaultStateFile}, kDefaultStateFile)
             ->value_name("FILE"),
         "where reading stopped, to resume after a restart")
        ("maillog.poll_interval", po::value<DurationOption>()->default_value({milliseconds(500)}, "500ms")
             ->value_name("TIME"),
         "how often to look for new lines at the end of the file")
        ("maillog.pidfile", po::value<std::string>()->default_value("")->value_name("FILE"),
         "write the process id here")
        ("maillog.user", po::value<std::string>()->default_value("")->value_name("USER"),
         "switch to this user at start (it must read the log and write the state file)");
    // clang-format on
    add_metrics_listen_option(desc, "maillog");
}

void add_maillog_options(po::options_description& desc, const std::string& default_config) {
    add_common_options(desc, default_config);
    desc.add_options()("foreground,f", po::bool_switch(), "stay in the foreground and log to stderr");
    add_section_options("maillog", desc);
}

MaillogSettings maillog_settings(const LoadedConfig& config) {
    const po::variables_map& vm = config.options;
    MaillogSettings settings;
    settings.common = common_settings(vm);
    settings.file = vm["maillog.file"].as<AbsolutePathOption>().value;
    settings.state_file = vm["maillog.state_file"].as<AbsolutePathOption>().value;
    settings.poll_interval = vm["maillog.poll_interval"].as<DurationOption>().value;
    settings.metrics_listen = metrics_listen(vm, "maillog");
    settings.pidfile = vm["maillog.pidfile"].as<std::string>();
    settings.user = vm["maillog.user"].as<std::string>();
    settings.foreground = vm.count("foreground") != 0 && vm["foreground"].as<bool>();
    return settings;
}

}  // namespace tenantmail::maillog
