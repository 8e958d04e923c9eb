#include "tenantmailctl/dns_resolver.h"

#include <algorithm>
#include <cstdlib>

#include "common/c_handle.h"
#include "common/network.h"

// Last, and after stdbool.h: without __bool_true_false_are_defined,
// ldns/common.h defines bool, true and false as macros, which breaks C++
// headers included after it.
#include <stdbool.h>  // NOLINT(modernize-deprecated-headers)

#include <ldns/ldns.h>

namespace tenantmail::ctl {
namespace {

using ResolverPtr = CHandle<ldns_resolver, ldns_resolver_deep_free>;
using RdfPtr = CHandle<ldns_rdf, ldns_rdf_deep_free>;
using PktPtr = CHandle<ldns_pkt, ldns_pkt_free>;
using LdnsText = CHandle<char, std::free>;

// Attempts per query; each gets half the time, so one lost UDP packet does
// not fail the check and the total stays within the timeout.
constexpr int kAttempts = 2;

ldns_rr_type to_ldns(DnsType type) {
    switch (type) {
        case DnsType::a:
            return LDNS_RR_TYPE_A;
        case DnsType::aaaa:
            return LDNS_RR_TYPE_AAAA;
        case DnsType::cname:
            return LDNS_RR_TYPE_CNAME;
        case DnsType::mx:
            return LDNS_RR_TYPE_MX;
        case DnsType::txt:
            return LDNS_RR_TYPE_TXT;
    }
    return LDNS_RR_TYPE_TXT;
}

DnsRcode from_ldns(ldns_pkt_rcode rcode) {
    switch (rcode) {
        case LDNS_RCODE_NOERROR:
            return DnsRcode::noerror;
        case LDNS_RCODE_NXDOMAIN:
            return DnsRcode::nxdomain;
        case LDNS_RCODE_SERVFAIL:
            return DnsRcode::servfail;
        case LDNS_RCODE_REFUSED:
            return DnsRcode::refused;
        default:
            return DnsRcode::other;
    }
}

std::string rdf_text(const ldns_rdf* rdf) {
    LdnsText text(ldns_rdf2str(rdf));
    return text ? std::string(text.get()) : std::string();
}

// TXT rdata: each rdf is one character-string, a length octet then bytes.
// Read raw so that quotes and semicolons come out as published, unescaped.
std::string txt_data(const ldns_rr* rr) {
    std::string out;
    for (std::size_t i = 0; i < ldns_rr_rd_count(rr); ++i) {
        const ldns_rdf* rdf = ldns_rr_rdf(rr, i);
        const std::size_t size = ldns_rdf_size(rdf);
        const std::uint8_t* data = ldns_rdf_data(rdf);
        if (size == 0) continue;
        const std::size_t length = std::min<std::size_t>(data[0], size - 1);
        out.append(reinterpret_cast<const char*>(data + 1), length);
    }
    return out;
}

bool convert(const ldns_rr* rr, DnsRr& out) {
    out.owner = normalise_dns_name(rdf_text(ldns_rr_owner(rr)));
    switch (ldns_rr_get_type(rr)) {
        case LDNS_RR_TYPE_TXT:
            out.type = DnsType::txt;
            out.data = txt_data(rr);
            return true;
        case LDNS_RR_TYPE_CNAME:
            if (ldns_rr_rd_count(rr) < 1) return false;
            out.type = DnsType::cname;
            out.data = normalise_dns_name(rdf_text(ldns_rr_rdf(rr, 0)));
            return true;
        case LDNS_RR_TYPE_MX:
            if (ldns_rr_rd_count(rr) < 2) return false;
            out.type = DnsType::mx;
            out.preference = ldns_rdf2native_int16(ldns_rr_rdf(rr, 0));
            out.data = normalise_dns_name(rdf_text(ldns_rr_rdf(rr, 1)));
            return true;
        case LDNS_RR_TYPE_A:
        case LDNS_RR_TYPE_AAAA:
            if (ldns_rr_rd_count(rr) < 1) return false;
            out.type = ldns_rr_get_type(rr) == LDNS_RR_TYPE_A ? DnsType::a : DnsType::aaaa;
            out.data = rdf_text(ldns_rr_rdf(rr, 0));
            return true;
        default:
            return false;  // RRSIG and friends: not ours to judge
    }
}

}  // namespace

Result<ResolverAddress> parse_resolver_address(std::string_view text) {
    ResolverAddress address;
    std::string_view host = text;
    std::string_view port;
    if (text.starts_with('[')) {
        const std::size_t close = text.find(']');
        if (close == std::string_view::npos) return make_error("resolver \"" + std::string(text) + "\": missing ']'");
        host = text.substr(1, close - 1);
        const std::string_view rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') {
                return make_error("resolver \"" + std::string(text) + "\": expected :PORT after ']'");
            }
            port = rest.substr(1);
        }
    } else if (std::count(text.begin(), text.end(), ':') == 1) {
        host = text.substr(0, text.find(':'));
        port = text.substr(text.find(':') + 1);
    }
    const auto ip = IpAddress::parse(host);
    if (!ip) {
        return make_error("resolver \"" + std::string(text) +
                          "\" is not an IP address with an optional port (192.0.2.53:53, [2001:db8::53]:53)");
    }
    address.host = std::string(host);
    if (!port.empty()) {
        unsigned long value = 0;
        for (const char c : port) {
            if (c < '0' || c > '9' || value > 65535) {
                return make_error("resolver \"" + std::string(text) + "\": bad port");
            }
            value = value * 10 + static_cast<unsigned long>(c - '0');
        }
        if (value == 0 || value > 65535) return make_error("resolver \"" + std::string(text) + "\": bad port");
        address.port = static_cast<std::uint16_t>(value);
    }
    return address;
}

struct LdnsResolver::Impl {
    ResolverPtr resolver;
};

LdnsResolver::LdnsResolver(std::unique_ptr<Impl> impl, std::string description, std::chrono::milliseconds timeout)
    : impl_(std::move(impl)), description_(std::move(description)), timeout_(timeout) {}

LdnsResolver::~LdnsResolver() = default;

Result<std::unique_ptr<LdnsResolver>> LdnsResolver::create(const std::string& server,
                                                           std::chrono::milliseconds timeout) {
    auto impl = std::make_unique<Impl>();
    std::string description;
    if (server.empty()) {
        ldns_resolver* raw = nullptr;
        const ldns_status status = ldns_resolver_new_frm_file(&raw, nullptr);
        impl->resolver.reset(raw);
        if (status != LDNS_STATUS_OK || !impl->resolver) {
            return make_error(std::string("cannot read the resolvers in /etc/resolv.conf: ") +
                              ldns_get_errorstr_by_id(status));
        }
        if (ldns_resolver_nameserver_count(impl->resolver.get()) == 0) {
            return make_error("no nameserver in /etc/resolv.conf; give one with --resolver HOST:PORT");
        }
        ldns_rdf** servers = ldns_resolver_nameservers(impl->resolver.get());
        for (std::size_t i = 0; i < ldns_resolver_nameserver_count(impl->resolver.get()); ++i) {
            description += (i == 0 ? "" : ", ") + rdf_text(servers[i]);
        }
        description += " (from /etc/resolv.conf)";
    } else {
        auto address = parse_resolver_address(server);
        if (!address) return Error{address.error()};
        impl->resolver.reset(ldns_resolver_new());
        if (!impl->resolver) return make_error("out of memory creating the resolver");
        const bool v6 = address->host.find(':') != std::string::npos;
        const RdfPtr ip(ldns_rdf_new_frm_str(v6 ? LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A, address->host.c_str()));
        if (!ip || ldns_resolver_push_nameserver(impl->resolver.get(), ip.get()) != LDNS_STATUS_OK) {
            return make_error("resolver \"" + server + "\": ldns does not accept the address");
        }
        ldns_resolver_set_port(impl->resolver.get(), address->port);
        description = v6 ? "[" + address->host + "]:" + std::to_string(address->port)
                         : address->host + ":" + std::to_string(address->port);
    }
    ldns_resolver* resolver = impl->resolver.get();
    const auto per_attempt = timeout / kAttempts;
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(per_attempt.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((per_attempt.count() % 1000) * 1000);
    ldns_resolver_set_timeout(resolver, tv);
    ldns_resolver_set_retry(resolver, static_cast<std::uint8_t>(kAttempts));
    ldns_resolver_set_retrans(resolver, 0);
    ldns_resolver_set_recursive(resolver, true);
    ldns_resolver_set_fallback(resolver, true);
    ldns_resolver_set_dnssec(resolver, false);
    // Search lists from resolv.conf would turn a missing name into a query
    // for name.search.domain; we always ask fully qualified names.
    ldns_resolver_set_defnames(resolver, false);
    ldns_resolver_set_dnsrch(resolver, false);
    return std::unique_ptr<LdnsResolver>(new LdnsResolver(std::move(impl), std::move(description), timeout));
}

Result<DnsResponse> LdnsResolver::query(std::string_view name, DnsType type) {
    const std::string absolute = std::string(name) + ".";
    const RdfPtr qname(ldns_dname_new_frm_str(absolute.c_str()));
    if (!qname) return make_error("\"" + std::string(name) + "\" is not a valid DNS name");
    ldns_pkt* raw = nullptr;
    const ldns_status status =
        ldns_resolver_send(&raw, impl_->resolver.get(), qname.get(), to_ldns(type), LDNS_RR_CLASS_IN, LDNS_RD);
    const PktPtr packet(raw);
    if (status != LDNS_STATUS_OK || !packet) {
        return make_error("no answer from resolver " + description_ + " within " + std::to_string(timeout_.count()) +
                          " ms (" + std::string(to_string(type)) + " " + std::string(name) +
                          "): " + ldns_get_errorstr_by_id(status));
    }
    DnsResponse response;
    response.rcode = from_ldns(ldns_pkt_get_rcode(packet.get()));
    const ldns_rr_list* answer = ldns_pkt_answer(packet.get());
    for (std::size_t i = 0; answer != nullptr && i < ldns_rr_list_rr_count(answer); ++i) {
        DnsRr rr;
        if (convert(ldns_rr_list_rr(answer, i), rr)) response.answer.push_back(std::move(rr));
    }
    return response;
}

}  // namespace tenantmail::ctl
