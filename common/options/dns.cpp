// options/dns.cpp — declaring and reading the [dns] options.
#include "common/options/dns.h"

#include <algorithm>

#include "common/text.h"

namespace tenantmail::ctl {
namespace {

namespace po = boost::program_options;

bool valid_label(std::string_view label) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    return std::all_of(label.begin(), label.end(), [](char c) {
        const char l = ascii_lower(c);
        return (l >= 'a' && l <= 'z') || (l >= '0' && l <= '9') || c == '-' || c == '_';
    });
}

}  // namespace

std::vector<std::string> DnsSettings::missing() const {
    std::vector<std::string> names;
    if (platform_mail_host.empty()) names.emplace_back("dns.platform_mail_host");
    if (spf_include.empty()) names.emplace_back("dns.spf_include");
    if (bounce_mx.empty()) names.emplace_back("dns.bounce_mx");
    if (dkim_key_zone.empty()) names.emplace_back("dns.dkim_key_zone");
    return names;
}

void validate(boost::any& out, const std::vector<std::string>& values, DnsNameOption*, int) {
    std::string name = to_lower(trim(single_value(out, values)));
    if (!name.empty() && name.back() == '.') name.pop_back();
    if (name.empty()) {  // unset
        out = DnsNameOption{};
        return;
    }
    std::size_t labels = 0;
    bool valid = name.size() <= 253;
    for (std::string_view rest = name; valid;) {
        const std::size_t dot = rest.find('.');
        valid = valid_label(rest.substr(0, dot));
        ++labels;
        if (dot == std::string_view::npos) break;
        rest.remove_prefix(dot + 1);
    }
    if (!valid || labels < 2) throw po::error("\"" + name + "\" is not a domain name with at least two labels");
    out = DnsNameOption{name};
}

void validate(boost::any& out, const std::vector<std::string>& values, DmarcUriOption*, int) {
    const std::string text(trim(single_value(out, values)));
    for (std::string_view rest = text; !rest.empty();) {
        const std::size_t comma = rest.find(',');
        const std::string_view uri = trim(rest.substr(0, comma));
        if (!uri.starts_with("mailto:") || uri.find('@') == std::string_view::npos ||
            std::any_of(uri.begin(), uri.end(), [](char c) { return is_space(c) || c == ';'; })) {
            throw po::error("\"" + std::string(uri) + "\" is not mailto:ADDRESS");
        }
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
    out = DmarcUriOption{text};
}

void add_dns_options(po::options_description& desc) {
    using std::chrono::seconds;
    // clang-format off
    desc.add_options()
        ("dns.platform_mail_host", po::value<DnsNameOption>()->default_value({}, "")->value_name("HOST"),
         "host tenants' bounce domains CNAME to; the platform publishes its MX and SPF")
        ("dns.spf_include", po::value<DnsNameOption>()->default_value({}, "")->value_name("DOMAIN"),
         "domain of the platform's SPF record, for include:")
        ("dns.bounce_mx", po::value<DnsNameOption>()->default_value({}, "")->value_name("HOST"),
         "mail exchanger that receives bounces for tenants' bounce domains")
        ("dns.dkim_key_zone", po::value<DnsNameOption>()->default_value({}, "")->value_name("ZONE"),
         "zone of platform-hosted DKIM keys: <selector>.<tenant>.ZONE")
        ("dns.dmarc_rua", po::value<DmarcUriOption>()->default_value({}, "")->value_name("URI"),
         "rua= of the suggested DMARC record (mailto:...); empty: none")
        ("dns.tracking_target", po::value<DnsNameOption>()->default_value({}, "")->value_name("HOST"),
         "host tenants' tracking domains CNAME to (tenantmail-trackd behind HTTPS)")
        ("dns.resolver", po::value<std::string>()->default_value("")->value_name("HOST[:PORT]"),
         "resolver dns check asks; empty: the ones in /etc/resolv.conf")
        ("dns.timeout", po::value<DurationOption>()->default_value({seconds(5)}, "5s")->value_name("TIME"),
         "limit for one DNS query, retries included");
    // clang-format on
}

DnsSettings dns_settings(const po::variables_map& options) {
    DnsSettings settings;
    settings.platform_mail_host = options["dns.platform_mail_host"].as<DnsNameOption>().value;
    settings.spf_include = options["dns.spf_include"].as<DnsNameOption>().value;
    settings.bounce_mx = options["dns.bounce_mx"].as<DnsNameOption>().value;
    settings.dkim_key_zone = options["dns.dkim_key_zone"].as<DnsNameOption>().value;
    settings.dmarc_rua = options["dns.dmarc_rua"].as<DmarcUriOption>().value;
    settings.tracking_target = options["dns.tracking_target"].as<DnsNameOption>().value;
    settings.resolver = options["dns.resolver"].as<std::string>();
    settings.timeout = options["dns.timeout"].as<DurationOption>().value;
    return settings;
}

}  // namespace tenantmail::ctl
