// options/bounce.cpp — declaring and reading the [bounce] options.
#include "common/options/bounce.h"

#include "common/options/sections.h"

namespace tenantmail::bounce {
namespace {

namespace po = boost::program_options;

// Every count shares one validator; the range covers them all (a stream of a
// billion entries or a 10 GB message are mistakes either way).
constexpr std::size_t kMaxCount = 1'000'000'000;

std::chrono::seconds to_seconds(std::chrono::milliseconds value) {
    return std::chrono::duration_cast<std::chrono::seconds>(value);
}

}  // namespace

void validate(boost::any& out, const std::vector<std::string>& values, BounceCountOption*, int) {
    const std::string& text = single_value(out, values);
    std::size_t count = 0;
    bool digits = !text.empty() && text.size() <= 10;
    for (const char c : text) {
        digits = digits && c >= '0' && c <= '9';
        if (digits) count = count * 10 + static_cast<std::size_t>(c - '0');
    }
    if (!digits || count == 0 || count > kMaxCount) {
        throw po::error("\"" + text + "\" is not a whole number from 1 to " + std::to_string(kMaxCount));
    }
    out = BounceCountOption{count};
}

void add_bounce_section_options(po::options_description& desc) {
    using std::chrono::hours;
    // clang-format off
    desc.add_options()
        ("bounce.max_token_age", po::value<DurationOption>()->default_value({hours(7 * 24)}, "7d")
             ->value_name("TIME"),
         "refuse bounce addresses older than this; at most milter.record_ttl (the message record "
         "that lists who may be reported on must outlive the token)")
        ("bounce.unparsed_keep", po::value<BounceCountOption>()->default_value({1000}, "1000")->value_name("N"),
         "reports kept for inspection in tm:{TENANT}:unparsed when they cannot be read")
        ("bounce.unparsed_max_bytes", po::value<BounceCountOption>()->default_value({65536}, "65536")
             ->value_name("BYTES"),
         "bytes of each unreadable report kept in tm:{TENANT}:unparsed")
        ("bounce.message_size_limit", po::value<BounceCountOption>()->default_value({10240000}, "10240000")
             ->value_name("BYTES"),
         "read at most this much of a report; a longer one is parsed from its beginning")
        ("bounce.max_report_recipients", po::value<BounceCountOption>()->default_value({50}, "50")->value_name("N"),
         "recipients recorded from one report; the rest are logged, not recorded")
        ("bounce.max_reports_per_token", po::value<BounceCountOption>()->default_value({10}, "10")
             ->value_name("N"),
         "reports (read or not) accepted per bounce address over its lifetime; later ones are dropped")
        ("bounce.memory_limit_mb", po::value<BounceCountOption>()->default_value({512}, "512")->value_name("MB"),
         "address space of one run (RLIMIT_AS), so a hostile report cannot exhaust memory");
    // clang-format on
}

void add_bounce_options(po::options_description& desc, const std::string& default_config) {
    add_common_options(desc, default_config);
    add_section_options("bounce", desc);
    desc.add_options()
        ("foreground,f", po::bool_switch(), "log to stderr instead of syslog (for running by hand)")
        ("version", "print the version and exit");
}

BounceSettings bounce_settings(const LoadedConfig& config) {
    const po::variables_map& vm = config.options;
    BounceSettings settings;
    settings.common = common_settings(vm);
    settings.foreground = vm.count("foreground") != 0 && vm["foreground"].as<bool>();
    settings.max_token_age = to_seconds(vm["bounce.max_token_age"].as<DurationOption>().value);
    settings.unparsed_keep = vm["bounce.unparsed_keep"].as<BounceCountOption>().value;
    settings.message_size_limit = vm["bounce.message_size_limit"].as<BounceCountOption>().value;
    settings.unparsed_max_bytes = vm["bounce.unparsed_max_bytes"].as<BounceCountOption>().value;
    settings.max_report_recipients = vm["bounce.max_report_recipients"].as<BounceCountOption>().value;
    settings.max_reports_per_token = vm["bounce.max_reports_per_token"].as<BounceCountOption>().value;
    settings.memory_limit_mb = vm["bounce.memory_limit_mb"].as<BounceCountOption>().value;
    return settings;
}

Result<void> check_token_age(std::chrono::seconds max_token_age, std::chrono::seconds record_ttl) {
    if (max_token_age <= record_ttl) return {};
    return make_error("bounce.max_token_age (" + std::to_string(max_token_age.count()) +
                      "s) is longer than milter.record_ttl (" + std::to_string(record_ttl.count()) +
                      "s): reports that arrive after a message's record expired could only be logged; "
                      "lower max_token_age or raise record_ttl");
}

}  // namespace tenantmail::bounce
