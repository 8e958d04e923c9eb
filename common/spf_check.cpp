#include "common/spf_check.h"

#include <algorithm>

#include "common/spf_record.h"

namespace tenantmail {
namespace {

// Records fetched per check, however the includes fan out: well past what
// the 10-lookup limit allows, so reaching it already means "over the limit".
constexpr std::size_t kMaxRecordsFetched = 40;

class SpfWalker {
public:
    SpfWalker(DnsResolver& resolver, std::string_view required, SpfCheck& check)
        : resolver_(resolver), required_(normalise_dns_name(required)), check_(check) {}

    // The SPF records at domain; Error only when the resolver is unreachable.
    Result<std::vector<std::string>> fetch(const std::string& domain, DnsLookup& found) {
        ++fetched_;
        auto txt = lookup(resolver_, domain, DnsType::txt);
        if (!txt) return Error{txt.error()};
        found = std::move(*txt);
        std::vector<std::string> records;
        for (const DnsRr& rr : found.records) {
            if (is_spf_record(rr.data)) records.push_back(rr.data);
        }
        return records;
    }

    // Counts and follows the terms of one parsed record. path holds the
    // domains from the top down to this one, to catch include loops.
    Result<void> walk(const std::string& domain, const SpfRecord& record, std::vector<std::string>& path) {
        const bool redirect_applies = record.all() == nullptr;  // RFC 7208 6.1
        for (const SpfTerm& term : record.terms) {
            if (term.kind == SpfTerm::Kind::mechanism && term.name == "all" && term.qualifier == '+') {
                problem(domain + ": \"" + term.text + "\" lets every host on the internet send as this domain");
            }
            if (!term.needs_dns_lookup()) continue;
            const bool follow = term.name == "include" || (term.name == "redirect" && redirect_applies);
            if (term.name == "redirect" && !redirect_applies) continue;  // ignored, and not counted
            ++check_.dns_lookups;
            if (!follow) continue;
            if (term.has_macro()) {
                note("\"" + term.text + "\" uses a macro; not followed");
                continue;
            }
            const std::string target = normalise_dns_name(term.domain);
            if (target == required_) check_.includes_required = true;
            if (std::find(path.begin(), path.end(), target) != path.end()) {
                problem("\"" + term.text + "\" in " + domain + " loops back to " + target);
                continue;
            }
            if (fetched_ >= kMaxRecordsFetched) {
                note("stopped following includes after " + std::to_string(kMaxRecordsFetched) + " records");
                continue;
            }
            DnsLookup found;
            auto records = fetch(target, found);
            if (!records) return Error{records.error()};
            if (records->size() != 1) {
                problem("\"" + term.text + "\" in " + domain + ": " +
                        (records->empty()
                             ? (found.status == DnsLookup::Status::found ? "no SPF record"
                                                                         : describe_absence(found, DnsType::txt))
                             : std::to_string(records->size()) + " SPF records") +
                        " at " + target + " (permerror)");
                continue;
            }
            auto parsed = parse_spf_record(records->front());
            if (!parsed) {
                problem("SPF record at " + target + ": " + parsed.error());
                continue;
            }
            path.push_back(target);
            if (auto walked = walk(target, *parsed, path); !walked) return walked;
            path.pop_back();
        }
        return {};
    }

    void note(std::string text) {
        if (std::find(check_.notes.begin(), check_.notes.end(), text) == check_.notes.end()) {
            check_.notes.push_back(std::move(text));
        }
    }

    void problem(std::string text) {
        if (std::find(check_.problems.begin(), check_.problems.end(), text) == check_.problems.end()) {
            check_.problems.push_back(std::move(text));
        }
    }

private:
    DnsResolver& resolver_;
    std::string required_;
    SpfCheck& check_;
    std::size_t fetched_ = 0;
};

}  // namespace

Result<SpfCheck> check_spf(DnsResolver& resolver, std::string_view domain, std::string_view required_include) {
    SpfCheck check;
    SpfWalker walker(resolver, required_include, check);
    const std::string top = normalise_dns_name(domain);
    DnsLookup found;
    auto records = walker.fetch(top, found);
    if (!records) return Error{records.error()};
    check.records = *records;
    check.cnames = found.cnames;
    if (records->empty()) {
        const std::string absence = describe_absence(found, DnsType::txt);
        walker.problem(absence.empty() ? "no SPF record (no TXT starting v=spf1)" : "no SPF record: " + absence);
        return check;
    }
    if (records->size() > 1) {
        walker.problem(std::to_string(records->size()) +
                       " SPF records; receivers treat that as permerror (RFC 7208 4.5): merge them into one");
        return check;
    }
    auto parsed = parse_spf_record(records->front());
    if (!parsed) {
        walker.problem("syntax: " + parsed.error());
        return check;
    }
    std::vector<std::string> path{top};
    if (auto walked = walker.walk(top, *parsed, path); !walked) return Error{walked.error()};
    if (!check.includes_required) {
        walker.problem("does not include " + normalise_dns_name(required_include) +
                       " (the platform is not authorised)");
    }
    if (check.dns_lookups > kSpfLookupLimit) {
        walker.problem(std::to_string(check.dns_lookups) + " DNS lookups, over RFC 7208's limit of " +
                       std::to_string(kSpfLookupLimit) + " (receivers answer permerror)");
    }
    return check;
}

}  // namespace tenantmail
