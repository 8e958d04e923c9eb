// dns_resolver.h — the real DnsResolver: ldns (Debian libldns) as a stub
// resolver, asking either one server given as HOST[:PORT] (the admin's
// choice, or the test's authoritative server) or those in /etc/resolv.conf.
// Recursion desired; no DNSSEC; TCP when a UDP answer is truncated.
// Every query is bounded by the timeout (retries included); a server that
// does not answer in time is an Error, not an empty answer.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/dns_lookup.h"
#include "common/result.h"

namespace tenantmail::ctl {

struct ResolverAddress {
    std::string host;  // IPv4 or IPv6 literal
    std::uint16_t port = 53;
};
// "192.0.2.53", "192.0.2.53:5353", "::1", "[::1]:5353".
Result<ResolverAddress> parse_resolver_address(std::string_view text);

class LdnsResolver final : public DnsResolver {
public:
    // server "" means the nameservers of /etc/resolv.conf.
    static Result<std::unique_ptr<LdnsResolver>> create(const std::string& server, std::chrono::milliseconds timeout);
    ~LdnsResolver() override;
    LdnsResolver(const LdnsResolver&) = delete;
    LdnsResolver& operator=(const LdnsResolver&) = delete;

    Result<DnsResponse> query(std::string_view name, DnsType type) override;
    // "127.0.0.1:5353" or "192.0.2.53 (from /etc/resolv.conf)", for messages.
    const std::string& description() const { return description_; }

private:
    struct Impl;
    LdnsResolver(std::unique_ptr<Impl> impl, std::string description, std::chrono::milliseconds timeout);
    std::unique_ptr<Impl> impl_;
    std::string description_;
    std::chrono::milliseconds timeout_;
};

}  // namespace tenantmail::ctl
