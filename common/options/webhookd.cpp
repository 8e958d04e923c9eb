// options/webhookd.cpp — see options/webhookd.h.
#include "common/options/webhookd.h"

#include "common/options/metrics.h"
#include "common/options/sections.h"

#include "common/duration.h"
#include "common/text.h"

namespace tenantmail::webhookd {
namespace {

namespace po = boost::program_options;
using std::chrono::milliseconds;

constexpr std::size_t kMaxBatch = 10000;

std::string show(milliseconds duration) { return format_duration(duration); }

}  // namespace

void validate(boost::any& out, const std::vector<std::string>& values, BatchSizeOption*, int) {
    const std::string& text = single_value(out, values);
    std::size_t count = 0;
    bool digits = !text.empty() && text.size() <= 5;
    for (const char c : text) {
        digits = digits && c >= '0' && c <= '9';
        if (digits) count = count * 10 + static_cast<std::size_t>(c - '0');
    }
    if (!digits || count == 0 || count > kMaxBatch) {
        throw po::error("\"" + text + "\" is not a number from 1 to " + std::to_string(kMaxBatch));
    }
    out = BatchSizeOption{count};
}

void validate(boost::any& out, const std::vector<std::string>& values, NetworkListOption*, int) {
    po::validators::check_first_occurrence(out);
    NetworkListOption list;
    for (const std::string_view item : split_list(po::validators::get_single_string(values, true))) {
        auto network = Network::parse(item);
        if (!network) throw po::error(network.error());
        list.value.push_back(*network);
    }
    out = std::move(list);
}

void add_webhookd_section_options(po::options_description& desc) {
    using std::chrono::hours;
    using std::chrono::seconds;
    const WebhookSettings d;
    // clang-format off
    desc.add_options()
        ("webhookd.group", po::value<std::string>()->default_value(kDefaultGroup)->value_name("NAME"),
         "Redis consumer group every dispatcher shares")
        ("webhookd.consumer", po::value<std::string>()->default_value("")->value_name("NAME"),
         "this dispatcher's name in the group; empty: hostname:pid")
        ("webhookd.batch_limit", po::value<BatchSizeOption>()->default_value({d.max_batch}, "100")->value_name("N"),
         "most events in one POST")
        ("webhookd.block", po::value<DurationOption>()->default_value({d.block}, "5s")->value_name("TIME"),
         "longest wait in Redis for new events")
        ("webhookd.cluster_poll_interval",
         po::value<DurationOption>()->default_value({d.cluster_poll_interval}, "100ms")->value_name("TIME"),
         "Redis Cluster mode: how often the streams of idle tenants are read")
        ("webhookd.claim_after", po::value<DurationOption>()->default_value({d.claim_after}, "60s")
             ->value_name("TIME"),
         "take over events another dispatcher has held silently this long")
        ("webhookd.retry_min_delay", po::value<DurationOption>()->default_value({d.retry_initial}, "10s")
             ->value_name("TIME"),
         "wait after the first failed POST; doubled after each further failure")
        ("webhookd.retry_max_delay", po::value<DurationOption>()->default_value({d.retry_max}, "1h")->value_name("TIME"),
         "longest wait between two attempts")
        ("webhookd.retry_for", po::value<DurationOption>()->default_value({d.retry_for}, "24h")->value_name("TIME"),
         "after this long since the oldest event, a failing batch becomes a dead letter")
        ("webhookd.http_timeout", po::value<DurationOption>()->default_value({d.http_timeout}, "15s")
             ->value_name("TIME"),
         "limit for one POST, connecting included")
        ("webhookd.connect_timeout", po::value<DurationOption>()->default_value({d.connect_timeout}, "5s")
             ->value_name("TIME"),
         "limit for connecting (and TLS) to a receiver")
        ("webhookd.allow_http", po::value<bool>()->default_value(false, "no")->value_name("yes|no"),
         "also POST to plain http:// URLs (events then cross the network unencrypted)")
        ("webhookd.allowed_networks", po::value<NetworkListOption>()->default_value({}, "")->value_name("CIDRS"),
         "receivers in these blocks are reached even in loopback, private, link-local and other "
         "special-purpose ranges, which are refused otherwise")
        ("webhookd.pidfile", po::value<std::string>()->default_value("")->value_name("FILE"),
         "write the process id here")
        ("webhookd.user", po::value<std::string>()->default_value("")->value_name("USER"),
         "switch to this user after reading the secrets");
    // clang-format on
    add_metrics_listen_option(desc, "webhookd");
}

void add_webhookd_options(po::options_description& desc, const std::string& default_config) {
    add_common_options(desc, default_config);
    desc.add_options()("foreground,f", po::bool_switch(), "stay in the foreground and log to stderr");
    add_section_options("webhookd", desc);
}

bool valid_redis_name(const std::string& name) {
    if (name.empty() || name.size() > 200) return false;
    for (const char c : name) {
        if (c <= 0x20 || c >= 0x7f) return false;
    }
    return true;
}

Result<void> check_webhook_settings(const WebhookSettings& s) {
    if (!valid_redis_name(s.group)) {
        return make_error("webhookd.group \"" + s.group + "\": use printable characters without spaces (at most 200)");
    }
    if (!s.consumer.empty() && !valid_redis_name(s.consumer)) {
        return make_error("webhookd.consumer \"" + s.consumer +
                          "\": use printable characters without spaces (at most 200)");
    }
    if (s.retry_initial > s.retry_max) {
        return make_error("webhookd.retry_min_delay (" + show(s.retry_initial) + ") is longer than webhookd.retry_max_delay (" +
                          show(s.retry_max) + ")");
    }
    if (s.connect_timeout > s.http_timeout) {
        return make_error("webhookd.connect_timeout (" + show(s.connect_timeout) +
                          ") is longer than webhookd.http_timeout (" + show(s.http_timeout) + ")");
    }
    // A dispatcher holds a batch without touching it in Redis for as long
    // as its POST runs; if that could exceed claim_after, a second
    // dispatcher would take the batch over and deliver it twice.
    if (s.claim_after <= s.http_timeout) {
        return make_error("webhookd.claim_after (" + show(s.claim_after) + ") must be longer than webhookd.http_timeout (" +
                          show(s.http_timeout) + "), or a live dispatcher's POST would be taken over");
    }
    // The blocked read is bounded by block + redis.timeout; an hour-long
    // block would only delay shutdown and reloads.
    if (s.block > std::chrono::minutes(5)) {
        return make_error("webhookd.block (" + show(s.block) + ") is longer than 5m");
    }
    if (s.retry_for < s.retry_initial) {
        return make_error("webhookd.retry_for (" + show(s.retry_for) + ") is shorter than webhookd.retry_min_delay (" +
                          show(s.retry_initial) + "): no batch would ever be retried");
    }
    return {};
}

Result<WebhookSettings> webhook_settings(const LoadedConfig& config) {
    const po::variables_map& vm = config.options;
    WebhookSettings s;
    s.common = common_settings(vm);
    s.group = vm["webhookd.group"].as<std::string>();
    s.consumer = vm["webhookd.consumer"].as<std::string>();
    s.max_batch = vm["webhookd.batch_limit"].as<BatchSizeOption>().value;
    s.block = vm["webhookd.block"].as<DurationOption>().value;
    s.cluster_poll_interval = vm["webhookd.cluster_poll_interval"].as<DurationOption>().value;
    s.metrics_listen = metrics_listen(vm, "webhookd");
    s.claim_after = vm["webhookd.claim_after"].as<DurationOption>().value;
    s.retry_initial = vm["webhookd.retry_min_delay"].as<DurationOption>().value;
    s.retry_max = vm["webhookd.retry_max_delay"].as<DurationOption>().value;
    s.retry_for = vm["webhookd.retry_for"].as<DurationOption>().value;
    s.http_timeout = vm["webhookd.http_timeout"].as<DurationOption>().value;
    s.connect_timeout = vm["webhookd.connect_timeout"].as<DurationOption>().value;
    s.destinations.allow_http = vm["webhookd.allow_http"].as<bool>();
    s.destinations.allowed_networks = vm["webhookd.allowed_networks"].as<NetworkListOption>().value;
    s.pidfile = vm["webhookd.pidfile"].as<std::string>();
    s.user = vm["webhookd.user"].as<std::string>();
    s.foreground = vm.count("foreground") != 0 && vm["foreground"].as<bool>();
    if (auto checked = check_webhook_settings(s); !checked) return Error{checked.error()};
    return s;
}

}  // namespace tenantmail::webhookd
