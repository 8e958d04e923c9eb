#include "common/dmarc_record.h"

#include <algorithm>

#include "common/tag_list.h"
#include "common/text.h"

namespace tenantmail {
namespace {

bool is_policy(std::string_view value) { return value == "none" || value == "quarantine" || value == "reject"; }

Result<int> parse_number(std::string_view name, std::string_view value, int max) {
    if (value.empty() || value.size() > 10 ||
        !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return make_error(std::string(name) + "=" + std::string(value) + " is not a number");
    }
    const long long number = std::stoll(std::string(value));
    if (number > max) {
        return make_error(std::string(name) + "=" + std::string(value) + " is over " + std::to_string(max));
    }
    return static_cast<int>(number);
}

Result<char> parse_alignment(std::string_view name, std::string_view value) {
    if (value == "r" || value == "s") return value.front();
    return make_error(std::string(name) + "=" + std::string(value) + " is not r or s");
}

// dmarc-uri = URI [ "!" 1*DIGIT [ "k" / "m" / "g" / "t" ] ], comma-separated.
Result<std::vector<std::string>> parse_uris(std::string_view name, std::string_view value) {
    std::vector<std::string> uris;
    for (std::string_view rest = value;;) {
        const std::size_t comma = rest.find(',');
        const std::string_view uri = trim(rest.substr(0, comma));
        const std::size_t colon = uri.find(':');
        if (uri.empty() || colon == std::string_view::npos || colon == 0 || colon + 1 == uri.size()) {
            return make_error(std::string(name) + "= holds \"" + std::string(uri) +
                              "\", not a URI such as mailto:dmarc@example.com");
        }
        if (iequals(uri.substr(0, colon), "mailto") && uri.find('@') == std::string_view::npos) {
            return make_error(std::string(name) + "= holds \"" + std::string(uri) + "\", a mailto: without an address");
        }
        uris.emplace_back(uri);
        if (comma == std::string_view::npos) break;
        rest = rest.substr(comma + 1);
    }
    return uris;
}

}  // namespace

bool looks_like_dmarc_record(std::string_view txt) {
    const std::string_view text = trim(txt);
    return text.size() >= 7 && iequals(text.substr(0, 7), "v=DMARC");
}

Result<DmarcRecord> parse_dmarc_record(std::string_view txt) {
    auto tags = parse_tag_list(txt);
    if (!tags) return Error{tags.error()};
    const Tag& first = tags->tags.front();
    if (first.name != "v" || first.value != "DMARC1") return make_error("the record must start with v=DMARC1");
    DmarcRecord record;
    const auto p = tags->value("p");
    if (!p) return make_error("no p= tag (none, quarantine or reject)");
    if (!is_policy(*p)) return make_error("p=" + *p + " is not none, quarantine or reject");
    record.policy = *p;
    if (auto sp = tags->value("sp")) {
        if (!is_policy(*sp)) return make_error("sp=" + *sp + " is not none, quarantine or reject");
        record.subdomain_policy = *sp;
    }
    if (auto pct = tags->value("pct")) {
        auto number = parse_number("pct", *pct, 100);
        if (!number) return Error{number.error()};
        record.percent = *number;
    }
    if (auto ri = tags->value("ri")) {
        if (auto number = parse_number("ri", *ri, 2147483647); !number) return Error{number.error()};
    }
    for (const auto& [name, out] : {std::pair{"adkim", &record.dkim_alignment}, {"aspf", &record.spf_alignment}}) {
        if (auto value = tags->value(name)) {
            auto alignment = parse_alignment(name, *value);
            if (!alignment) return Error{alignment.error()};
            *out = *alignment;
        }
    }
    for (const auto& [name, out] : {std::pair{"rua", &record.aggregate_uris}, {"ruf", &record.failure_uris}}) {
        if (auto value = tags->value(name)) {
            auto uris = parse_uris(name, *value);
            if (!uris) return Error{uris.error()};
            *out = std::move(*uris);
        }
    }
    if (auto fo = tags->value("fo")) {
        for (std::string_view rest = *fo;;) {
            const std::size_t colon = rest.find(':');
            const std::string_view option = trim(rest.substr(0, colon));
            if (option != "0" && option != "1" && option != "d" && option != "s") {
                return make_error("fo=" + *fo + " is not a ':' list of 0, 1, d and s");
            }
            if (colon == std::string_view::npos) break;
            rest = rest.substr(colon + 1);
        }
    }
    return record;
}

std::string suggested_dmarc_record(std::string_view rua) {
    std::string record = "v=DMARC1; p=none";
    if (!rua.empty()) record += "; rua=" + std::string(rua);
    return record;
}

}  // namespace tenantmail
