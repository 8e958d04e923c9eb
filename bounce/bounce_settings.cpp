// bounce_settings.cpp — declaring and reading the [bounce] options.
#include "bounce/bounce_settings.h"

namespace tenantmail::bounce {
namespace {

namespace po = boost::program_options;

// Both counts share one validator; the range covers both (a stream of a
// billion entries or a 10 GB message are mistakes either way).
constexpr std::size_t kMaxCount = 1'000'000'000;

std::chrono::seconds to_seconds(std::chrono::milliseconds value) {
    return std::chrono::duration_cast<std::chrono::seconds>(value);
}

}  // namespace

void validate(boost::any& out, const std::vector<std::string>& values, BounceCountOption*, int) {
    po::validators::check_first_occurrence(out);
    const std::string& text = po::validators::get_single_string(values);
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
        ("bounce.max_token_age", po::value<DurationOption>()->default_value({hours(30 * 24)}, "30d")
             ->value_name("TIME"),
         "refuse bounce addresses older than this (delayed bounces and complaints come late)")
        ("bounce.unparsed_keep", po::value<BounceCountOption>()->default_value({1000}, "1000")->value_name("N"),
         "reports kept for inspection in tm:{TENANT}:unparsed when they cannot be read")
        ("bounce.message_size_limit", po::value<BounceCountOption>()->default_value({10240000}, "10240000")
             ->value_name("BYTES"),
         "read at most this much of a report; a longer one is parsed from its beginning");
    // clang-format on
}

void add_bounce_options(po::options_description& desc, const std::string& default_config) {
    add_common_options(desc, default_config);
    add_bounce_section_options(desc);
    desc.add_options()
        ("foreground,f", po::bool_switch(), "log to stderr instead of syslog (for running by hand)")
        ("version", "print the version and exit");
}

BounceSettings bounce_settings(const LoadedConfig& config) {
    const po::variables_map& vm = config.options;
    BounceSettings settings;
    settings.common = common_settings(vm);
    settings.foreground = vm["foreground"].as<bool>();
    settings.max_token_age = to_seconds(vm["bounce.max_token_age"].as<DurationOption>().value);
    settings.unparsed_keep = vm["bounce.unparsed_keep"].as<BounceCountOption>().value;
    settings.message_size_limit = vm["bounce.message_size_limit"].as<BounceCountOption>().value;
    return settings;
}

}  // namespace tenantmail::bounce
