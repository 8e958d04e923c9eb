// dns_fake_resolver.h — a DnsResolver answering from a table, for the unit
// tests of the DNS checks: like an authoritative server (a CNAME comes back
// alone) or, with chase_cnames, like a recursive resolver (the whole chain in
// one answer). Names it holds nothing for are NXDOMAIN.
#pragma once

#include <string>
#include <vector>

#include "common/dns_lookup.h"

namespace tenantmail::testing {

class FakeResolver : public DnsResolver {
public:
    FakeResolver& txt(const std::string& name, const std::string& value) { return add(name, DnsType::txt, value); }
    FakeResolver& cname(const std::string& name, const std::string& target) {
        return add(name, DnsType::cname, target);
    }
    FakeResolver& a(const std::string& name, const std::string& address) { return add(name, DnsType::a, address); }
    FakeResolver& mx(const std::string& name, std::uint16_t preference, const std::string& host) {
        add(name, DnsType::mx, host);
        rrs_.back().preference = preference;
        return *this;
    }
    FakeResolver& servfail(const std::string& name) {
        servfail_.push_back(name);
        return *this;
    }

    bool chase_cnames = false;
    bool unreachable = false;
    int queries = 0;

    Result<DnsResponse> query(std::string_view name, DnsType type) override {
        ++queries;
        if (unreachable) return make_error("no answer from resolver fake");
        DnsResponse response;
        for (const std::string& failing : servfail_) {
            if (failing == name) {
                response.rcode = DnsRcode::servfail;
                return response;
            }
        }
        std::string current(name);
        for (int hops = 0; hops < 20; ++hops) {
            bool known = false;
            bool answered = false;
            const DnsRr* cname = nullptr;
            for (const DnsRr& rr : rrs_) {
                if (rr.owner != current) continue;
                known = true;
                if (rr.type == type) {
                    response.answer.push_back(rr);
                    answered = true;
                } else if (rr.type == DnsType::cname) {
                    cname = &rr;
                }
            }
            if (!known) {
                response.rcode = DnsRcode::nxdomain;
                return response;
            }
            if (answered || cname == nullptr) return response;
            response.answer.push_back(*cname);
            if (!chase_cnames) return response;
            current = cname->data;
        }
        return response;
    }

private:
    FakeResolver& add(const std::string& name, DnsType type, const std::string& data) {
        DnsRr rr;
        rr.owner = name;
        rr.type = type;
        rr.data = data;
        rrs_.push_back(rr);
        return *this;
    }
    std::vector<DnsRr> rrs_;
    std::vector<std::string> servfail_;
};

}  // namespace tenantmail::testing
