// options/dns.h — the [dns] section of tenantmail.conf: the platform-side
// names that tenants' DNS records point at (mail host, SPF include, bounce
// MX, zone of platform-hosted DKIM keys, DMARC report address, tracking
// host) and how
// `tenantmailctl dns check` asks DNS (resolver, timeout). Only tenantmailctl
// reads them; defaults and meaning are documented in conf/tenantmail.conf.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "common/config.h"

namespace tenantmail::ctl {

struct DnsSettings {
    std::string platform_mail_host;           // CNAME target of tenants' bounce domains; carries MX and SPF
    std::string spf_include;                  // the platform's SPF record, include:<this>
    std::string bounce_mx;                    // where bounces are delivered (MX exchange)
    std::string dkim_key_zone;                // platform-hosted keys live at <selector>.<tenant>.<zone>
    std::string dmarc_rua;                    // rua= of the suggested DMARC record; "" for none
    std::string tracking_target;              // CNAME target of tenants' tracking domains; "" unset
    std::string resolver;                     // HOST or HOST:PORT; "" for /etc/resolv.conf
    std::chrono::milliseconds timeout{5000};  // per query, retries included

    // Names of the [dns] options record generation needs that are unset
    // (tracking_target is not one: only tenants with tracking_domain need it).
    std::vector<std::string> missing() const;
};

// A host name option: letters, digits, '-', '_' labels, at least two;
// stored lower case without a trailing dot.
struct DnsNameOption {
    std::string value;
};
// "mailto:a@b.example[,mailto:...]" or empty.
struct DmarcUriOption {
    std::string value;
};
void validate(boost::any& out, const std::vector<std::string>& values, DnsNameOption*, int);
void validate(boost::any& out, const std::vector<std::string>& values, DmarcUriOption*, int);

// The dns.* options: the [dns] entry of common/options/sections.h.
void add_dns_options(boost::program_options::options_description& desc);
DnsSettings dns_settings(const boost::program_options::variables_map& options);

}  // namespace tenantmail::ctl
