#include "common/dns_lookup.h"

#include <algorithm>

#include "common/text.h"

namespace tenantmail {

std::string_view to_string(DnsType type) {
    switch (type) {
        case DnsType::a:
            return "A";
        case DnsType::aaaa:
            return "AAAA";
        case DnsType::cname:
            return "CNAME";
        case DnsType::mx:
            return "MX";
        case DnsType::txt:
            return "TXT";
    }
    return "?";
}

std::string_view to_string(DnsRcode rcode) {
    switch (rcode) {
        case DnsRcode::noerror:
            return "NOERROR";
        case DnsRcode::nxdomain:
            return "NXDOMAIN";
        case DnsRcode::servfail:
            return "SERVFAIL";
        case DnsRcode::refused:
            return "REFUSED";
        case DnsRcode::other:
            return "error";
    }
    return "?";
}

std::string normalise_dns_name(std::string_view name) {
    std::string out = to_lower(trim(name));
    while (!out.empty() && out.back() == '.') out.pop_back();
    return out;
}

Result<DnsLookup> lookup(DnsResolver& resolver, std::string_view name, DnsType type) {
    DnsLookup result;
    std::string current = normalise_dns_name(name);
    auto fail = [&](std::string why) {
        result.status = DnsLookup::Status::failed;
        result.failure = std::move(why);
        result.final_name = current;
        return result;
    };
    for (;;) {
        auto response = resolver.query(current, type);
        if (!response) return Error{response.error()};
        if (response->rcode != DnsRcode::noerror && response->rcode != DnsRcode::nxdomain) {
            return fail(std::string(to_string(response->rcode)) + " for " + current);
        }
        // Walk the chain as far as this answer carries it: a recursive
        // resolver sends the whole chain, an authoritative server only the
        // links inside its own zones.
        bool followed = false;
        for (;;) {
            for (const DnsRr& rr : response->answer) {
                if (rr.owner == current && rr.type == type) result.records.push_back(rr);
            }
            if (!result.records.empty()) {
                result.status = DnsLookup::Status::found;
                result.final_name = current;
                return result;
            }
            if (type == DnsType::cname) break;
            const auto cname = std::find_if(response->answer.begin(), response->answer.end(), [&](const DnsRr& rr) {
                return rr.owner == current && rr.type == DnsType::cname;
            });
            if (cname == response->answer.end()) break;
            const std::string target = cname->data;
            if (target == normalise_dns_name(name) ||
                std::find(result.cnames.begin(), result.cnames.end(), target) != result.cnames.end()) {
                return fail("CNAME loop at " + target);
            }
            if (result.cnames.size() == kMaxCnameChain) {
                return fail("CNAME chain longer than " + std::to_string(kMaxCnameChain));
            }
            result.cnames.push_back(target);
            current = target;
            followed = true;
        }
        // Followed into a name this answer does not cover: ask for it.
        if (followed) continue;
        result.final_name = current;
        result.status = response->rcode == DnsRcode::nxdomain ? DnsLookup::Status::nxdomain : DnsLookup::Status::nodata;
        return result;
    }
}

std::string describe_absence(const DnsLookup& lookup, DnsType type) {
    switch (lookup.status) {
        case DnsLookup::Status::found:
            return "";
        case DnsLookup::Status::nxdomain:
            return "no such name (NXDOMAIN)";
        case DnsLookup::Status::nodata:
            return "no " + std::string(to_string(type)) + " record";
        case DnsLookup::Status::failed:
            return "lookup failed: " + lookup.failure;
    }
    return "";
}

}  // namespace tenantmail
