#include "common/spf_record.h"

#include <algorithm>
#include <array>

#include "common/network.h"
#include "common/text.h"

namespace tenantmail {
namespace {

constexpr std::array<std::string_view, 8> kMechanisms = {"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"};

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool valid_modifier_name(std::string_view name) {
    return !name.empty() && is_alpha(name.front()) && std::all_of(name.begin(), name.end(), [](char c) {
        return is_alpha(c) || is_digit(c) || c == '-' || c == '_' || c == '.';
    });
}

// domain-spec: visible characters; a macro-free one must look like a name
// with at least one dot (toplabel rule, loosely).
bool valid_domain_spec(std::string_view spec) {
    if (spec.empty()) return false;
    if (!std::all_of(spec.begin(), spec.end(), [](char c) { return c > 0x20 && c < 0x7f; })) return false;
    if (spec.find('%') != std::string_view::npos) return true;
    return spec.find('.') != std::string_view::npos && spec.front() != '.';
}

bool valid_cidr_length(std::string_view digits, int max) {
    if (digits.empty() || digits.size() > 3 || !std::all_of(digits.begin(), digits.end(), is_digit)) return false;
    if (digits.size() > 1 && digits.front() == '0') return false;
    return std::stoi(std::string(digits)) <= max;
}

// ip4:ADDR[/LEN] and ip6:ADDR[/LEN]; host bits may be set in SPF.
Result<void> check_ip(std::string_view name, std::string_view value) {
    const bool v4 = name == "ip4";
    const std::size_t slash = value.find('/');
    const auto address = IpAddress::parse(value.substr(0, slash));
    if (!address || address->is_v4() != v4 || (!v4 && value.substr(0, slash).find(':') == std::string_view::npos)) {
        return make_error(std::string(name) + ":" + std::string(value) + " is not an IPv" + (v4 ? "4" : "6") +
                          " address");
    }
    if (slash != std::string_view::npos && !valid_cidr_length(value.substr(slash + 1), v4 ? 32 : 128)) {
        return make_error("bad prefix length in " + std::string(name) + ":" + std::string(value));
    }
    return {};
}

// a and mx: [":" domain-spec] [ "/" ip4-cidr ] [ "//" ip6-cidr ]
Result<std::string> split_dual_cidr(std::string_view term, std::string_view rest) {
    const std::size_t slash = rest.find('/');
    std::string_view cidr = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
    const std::string_view domain = rest.substr(0, slash);
    if (!cidr.empty()) {
        const std::size_t dual = cidr.find("//");
        const std::string_view v4 =
            dual == 0 ? std::string_view() : cidr.substr(1, dual == std::string_view::npos ? cidr.npos : dual - 1);
        const std::string_view v6 = dual == std::string_view::npos ? std::string_view() : cidr.substr(dual + 2);
        if ((dual != 0 && !valid_cidr_length(v4, 32)) ||
            (dual != std::string_view::npos && !valid_cidr_length(v6, 128))) {
            return make_error("bad prefix length in \"" + std::string(term) + "\"");
        }
    }
    if (!domain.empty()) {
        if (domain.front() != ':' || !valid_domain_spec(domain.substr(1))) {
            return make_error("bad domain in \"" + std::string(term) + "\"");
        }
        return std::string(domain.substr(1));
    }
    return std::string();
}

Result<SpfTerm> parse_term(std::string_view text) {
    SpfTerm term;
    term.text = std::string(text);
    // A modifier is name=value where name has no ':' or '/' before the '='.
    const std::size_t equals = text.find('=');
    const std::size_t colon_or_slash = text.find_first_of(":/");
    if (equals != std::string_view::npos && (colon_or_slash == std::string_view::npos || equals < colon_or_slash)) {
        const std::string_view name = text.substr(0, equals);
        if (!valid_modifier_name(name)) return make_error("bad modifier \"" + term.text + "\"");
        term.kind = SpfTerm::Kind::modifier;
        term.name = to_lower(name);
        term.domain = std::string(text.substr(equals + 1));
        if ((term.name == "redirect" || term.name == "exp") && !valid_domain_spec(term.domain)) {
            return make_error("bad domain in \"" + term.text + "\"");
        }
        return term;
    }
    std::string_view rest = text;
    if (std::string_view("+-~?").find(rest.front()) != std::string_view::npos) {
        term.qualifier = rest.front();
        rest.remove_prefix(1);
    }
    const std::size_t end = rest.find_first_of(":/");
    term.name = to_lower(rest.substr(0, end));
    const std::string_view argument = end == std::string_view::npos ? std::string_view() : rest.substr(end);
    if (std::find(kMechanisms.begin(), kMechanisms.end(), term.name) == kMechanisms.end()) {
        return make_error("unknown mechanism \"" + term.text + "\"");
    }
    if (term.name == "all") {
        if (!argument.empty()) return make_error("\"" + term.text + "\": all takes no argument");
    } else if (term.name == "include" || term.name == "exists") {
        if (argument.size() < 2 || argument.front() != ':' || !valid_domain_spec(argument.substr(1))) {
            return make_error("\"" + term.text + "\": " + term.name + " needs :domain");
        }
        term.domain = std::string(argument.substr(1));
    } else if (term.name == "ip4" || term.name == "ip6") {
        if (argument.size() < 2 || argument.front() != ':') return make_error("\"" + term.text + "\" has no address");
        if (auto ok = check_ip(term.name, argument.substr(1)); !ok) return Error{ok.error()};
    } else if (term.name == "ptr") {
        if (!argument.empty()) {
            if (argument.front() != ':' || !valid_domain_spec(argument.substr(1))) {
                return make_error("bad domain in \"" + term.text + "\"");
            }
            term.domain = std::string(argument.substr(1));
        }
    } else {  // a, mx
        auto domain = split_dual_cidr(text, argument);
        if (!domain) return Error{domain.error()};
        term.domain = std::move(*domain);
    }
    return term;
}

}  // namespace

bool SpfTerm::needs_dns_lookup() const {
    if (kind == Kind::modifier) return name == "redirect";
    return name == "include" || name == "a" || name == "mx" || name == "ptr" || name == "exists";
}

const SpfTerm* SpfRecord::redirect() const {
    for (const SpfTerm& term : terms) {
        if (term.kind == SpfTerm::Kind::modifier && term.name == "redirect") return &term;
    }
    return nullptr;
}

const SpfTerm* SpfRecord::all() const {
    for (const SpfTerm& term : terms) {
        if (term.kind == SpfTerm::Kind::mechanism && term.name == "all") return &term;
    }
    return nullptr;
}

bool is_spf_record(std::string_view txt) {
    if (txt.size() < 6 || !iequals(txt.substr(0, 6), "v=spf1")) return false;
    return txt.size() == 6 || txt[6] == ' ';
}

Result<SpfRecord> parse_spf_record(std::string_view txt) {
    if (!is_spf_record(txt)) return make_error("does not start with v=spf1");
    SpfRecord record;
    bool seen_redirect = false;
    bool seen_exp = false;
    for (std::size_t i = 6; i < txt.size();) {
        if (txt[i] == ' ') {
            ++i;
            continue;
        }
        const std::size_t end = std::min(txt.find(' ', i), txt.size());
        auto term = parse_term(txt.substr(i, end - i));
        if (!term) return Error{term.error()};
        if (term->kind == SpfTerm::Kind::modifier) {
            bool& seen = term->name == "redirect" ? seen_redirect : seen_exp;
            if ((term->name == "redirect" || term->name == "exp") && seen) {
                return make_error(term->name + "= given twice");
            }
            if (term->name == "redirect" || term->name == "exp") seen = true;
        }
        record.terms.push_back(std::move(*term));
        i = end;
    }
    return record;
}

}  // namespace tenantmail
