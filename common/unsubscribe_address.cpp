// unsubscribe_address.cpp — see unsubscribe_address.h.
#include "common/unsubscribe_address.h"

#include "common/text.h"

namespace tenantmail {
namespace {

bool is_base64url(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// LDH labels separated by dots: enough to refuse junk, not a full RFC 1035
// check (the tenant registry decides which domains count).
bool is_domain(std::string_view domain) {
    if (domain.empty() || domain.front() == '.' || domain.find("..") != std::string_view::npos) return false;
    for (const char c : domain) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                        c == '.';
        if (!ok) return false;
    }
    return true;
}

}  // namespace

std::string make_unsubscribe_address(std::string_view token, std::string_view bounce_domain) {
    std::string address(kUnsubscribeLocalPrefix);
    address += token;
    address += '@';
    address += to_lower(bounce_domain);
    return address;
}

bool is_unsubscribe_address(std::string_view address) {
    const std::string_view prefix = kUnsubscribeLocalPrefix;
    return address.size() > prefix.size() && iequals(address.substr(0, prefix.size()), prefix);
}

Result<UnsubscribeAddress> parse_unsubscribe_address(std::string_view address) {
    const std::size_t longest = kUnsubscribeLocalPrefix.size() + kMaxUnsubscribeTokenLength + 1 +
                                kMaxUnsubscribeDomainLength + 1;
    if (address.size() > longest) return make_error("address longer than any unsubscribe address");
    if (!is_unsubscribe_address(address)) return make_error("not an unsubscribe+ address");
    const std::size_t at = address.find('@');
    if (at == std::string_view::npos) return make_error("no domain");
    const std::string_view token = address.substr(kUnsubscribeLocalPrefix.size(), at - kUnsubscribeLocalPrefix.size());
    std::string_view domain = address.substr(at + 1);
    if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
    if (token.empty() || token.size() > kMaxUnsubscribeTokenLength) return make_error("token missing or too long");
    for (const char c : token) {
        if (!is_base64url(c)) return make_error("token holds a character outside base64url");
    }
    if (domain.size() > kMaxUnsubscribeDomainLength || !is_domain(domain)) return make_error("malformed domain");
    return UnsubscribeAddress{std::string(token), to_lower(domain)};
}

}  // namespace tenantmail
