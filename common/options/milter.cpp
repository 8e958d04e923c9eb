// options/milter.cpp — declaring and reading the [milter] options.
#include "common/options/milter.h"

#include "common/options/metrics.h"

#include <algorithm>

#include "common/options/sections.h"

namespace tenantmail::milter {
namespace {

namespace po = boost::program_options;

bool parse_canon(const std::string& name, Canon& out) {
    if (name == "relaxed") out = Canon::relaxed;
    else if (name == "simple") out = Canon::simple;
    else return false;
    return true;
}

std::chrono::seconds to_seconds(std::chrono::milliseconds value) {
    return std::chrono::duration_cast<std::chrono::seconds>(value);
}

}  // namespace

void validate(boost::any& out, const std::vector<std::string>& values, CanonicalizationOption*, int) {
    const std::string& text = single_value(out, values);
    // "relaxed" alone means relaxed/simple, as the c= tag does (RFC 6376 3.5).
    const auto slash = text.find('/');
    CanonicalizationOption option;
    if (!parse_canon(text.substr(0, slash), option.header) ||
        !parse_canon(slash == std::string::npos ? "simple" : text.substr(slash + 1), option.body)) {
        throw po::error("\"" + text + "\" is not header/body with each simple or relaxed");
    }
    out = option;
}

void validate(boost::any& out, const std::vector<std::string>& values, ErrorActionOption*, int) {
    const std::string& text = single_value(out, values);
    if (text == "tempfail") out = ErrorActionOption{ErrorAction::tempfail};
    else if (text == "accept") out = ErrorActionOption{ErrorAction::accept};
    else throw po::error("\"" + text + "\" is not tempfail or accept");
}

void validate(boost::any& out, const std::vector<std::string>& values, ForeignSenderActionOption*, int) {
    const std::string& text = single_value(out, values);
    if (text == "reject") out = ForeignSenderActionOption{ForeignSenderAction::reject};
    else if (text == "accept") out = ForeignSenderActionOption{ForeignSenderAction::accept};
    else throw po::error("\"" + text + "\" is not reject or accept");
}

void validate(boost::any& out, const std::vector<std::string>& values, SocketOption*, int) {
    const std::string& text = single_value(out, values);
    const auto colon = text.find(':');
    const std::string type = text.substr(0, colon);
    const bool known = type == "inet" || type == "inet6" || type == "unix" || type == "local";
    if (colon == std::string::npos || colon + 1 == text.size() || !known) {
        throw po::error("\"" + text + "\" is not inet:PORT@HOST, inet6:PORT@HOST or unix:/path");
    }
    out = SocketOption{text};
}

void add_milter_options(po::options_description& desc, const std::string& default_config) {
    add_common_options(desc, default_config);
    desc.add_options()("foreground,f", po::bool_switch(), "stay in the foreground and log to stderr");
    add_section_options("milter", desc);
}

void add_milter_section_options(po::options_description& desc) {
    using std::chrono::seconds;
    desc.add_options()
        ("milter.socket,p", po::value<SocketOption>()->default_value({kDefaultSocket}, kDefaultSocket)
             ->value_name("SOCKET"), "where to listen: unix:/path, or (any local process can then connect) "
                                     "inet:PORT@HOST, inet6:PORT@HOST")
        ("milter.socket_mode", po::value<FileModeOption>()->default_value({0660}, "0660")->value_name("MODE"),
         "file mode of a unix listening socket (who may connect)")
        ("milter.pidfile", po::value<std::string>()->default_value("")->value_name("FILE"),
         "write the process id here")
        ("milter.user,u", po::value<std::string>()->default_value("")->value_name("USER"),
         "switch to this user after reading keys and opening the socket")
        ("milter.canonicalization",
         po::value<CanonicalizationOption>()->default_value({}, "relaxed/relaxed")->value_name("H/B"),
         "DKIM canonicalisation, header/body: simple or relaxed")
        ("milter.signature_ttl", po::value<DurationOption>()->value_name("TIME"),
         "add x= this long after t= (default: no x=)")
        ("milter.error_action", po::value<ErrorActionOption>()->default_value({}, "tempfail")->value_name("ACTION"),
         "when signing is due but fails: tempfail (451 4.3.0) or accept (deliver unsigned)")
        ("milter.require_tenant", po::value<bool>()->default_value(false, "no")->value_name("yes|no"),
         "refuse mail from clients that are no tenant")
        ("milter.foreign_sender_action",
         po::value<ForeignSenderActionOption>()->default_value({}, "reject")->value_name("ACTION"),
         "mail of no tenant whose envelope sender or From is in a tenant's domain or bounce domain: "
         "reject (550 5.7.1) or accept (pass untouched, logged)")
        ("milter.platform_tenant", po::value<std::string>()->default_value("")->value_name("TENANT"),
         "tenant whose domain and key sign mail whose From was rewritten")
        ("milter.smtp_timeout", po::value<DurationOption>()->default_value({seconds(300)}, "300s")->value_name("TIME"),
         "how long to wait for the MTA between milter commands")
        ("milter.record_messages", po::value<bool>()->default_value(true, "yes")->value_name("yes|no"),
         "keep a record of each tenant message in Redis (for delivery events and the message views)")
        ("milter.record_ttl", po::value<DurationOption>()->default_value({seconds(7 * 24 * 3600)}, "7d")
             ->value_name("TIME"), "how long a message record lives after its last change")
        ("milter.record_queue_limit", po::value<unsigned>()->default_value(10000)->value_name("N"),
         "records waiting for Redis at most; beyond it (Redis slow or down) new ones are dropped")
        ("milter.tracking_max_kb", po::value<unsigned>()->default_value(4096)->value_name("KB"),
         "largest message (body, in KiB) held in memory for open and click tracking; larger ones are signed "
         "and sent untracked, with a log line")
        ("milter.smime_max_kb", po::value<unsigned>()->default_value(10240)->value_name("KB"),
         "largest message (body, in KiB) held in memory for S/MIME signing; a larger one due to be signed "
         "is answered as a signing failure (error_action)");
    add_metrics_listen_option(desc, "milter");
}

MilterSettings milter_settings(const LoadedConfig& config) {
    const po::variables_map& vm = config.options;
    MilterSettings settings;
    settings.common = common_settings(vm);
    settings.socket = vm["milter.socket"].as<SocketOption>().value;
    settings.socket_mode = vm["milter.socket_mode"].as<FileModeOption>().value;
    settings.pidfile = vm["milter.pidfile"].as<std::string>();
    settings.user = vm["milter.user"].as<std::string>();
    settings.foreground = vm.count("foreground") != 0 && vm["foreground"].as<bool>();
    const auto& canon = vm["milter.canonicalization"].as<CanonicalizationOption>();
    settings.header_canon = canon.header;
    settings.body_canon = canon.body;
    if (vm.count("milter.signature_ttl")) {
        settings.signature_ttl = to_seconds(vm["milter.signature_ttl"].as<DurationOption>().value);
    }
    settings.error_action = vm["milter.error_action"].as<ErrorActionOption>().value;
    settings.require_tenant = vm["milter.require_tenant"].as<bool>();
    settings.foreign_sender_action = vm["milter.foreign_sender_action"].as<ForeignSenderActionOption>().value;
    settings.platform_tenant = vm["milter.platform_tenant"].as<std::string>();
    settings.smtp_timeout = to_seconds(vm["milter.smtp_timeout"].as<DurationOption>().value);
    settings.record_messages = vm["milter.record_messages"].as<bool>();
    // EXPIRE 0 would delete the record at once: "500ms" means at least 1s.
    settings.record_ttl = std::max(std::chrono::seconds(1), to_seconds(vm["milter.record_ttl"].as<DurationOption>().value));
    settings.record_queue_limit = vm["milter.record_queue_limit"].as<unsigned>();
    settings.metrics_listen = metrics_listen(vm, "milter");
    settings.tracking_max_octets = std::size_t{vm["milter.tracking_max_kb"].as<unsigned>()} * 1024;
    settings.smime_max_octets = std::size_t{vm["milter.smime_max_kb"].as<unsigned>()} * 1024;
    return settings;
}

}  // namespace tenantmail::milter
