// recipient.cpp — the key form of a recipient address (see recipient.h).
// One pass over the bytes; no allocation once out has the capacity, since
// policyd calls this for every request.
#include "common/recipient.h"

#include "common/text.h"

namespace tenantmail {

namespace {

// "@a,@b:user@dom" -> "user@dom". The route ends at the first ':' outside an
// address literal (`@[IPv6:2001:db8::1]:user@dom`); without one, the input
// is no source route and is kept whole.
std::string_view strip_source_route(std::string_view address) {
    if (address.empty() || address.front() != '@') return address;
    bool literal = false;
    for (std::size_t i = 0; i < address.size(); ++i) {
        const char c = address[i];
        if (c == '[') literal = true;
        else if (c == ']') literal = false;
        else if (c == ':' && !literal) return address.substr(i + 1);
    }
    return address;
}

// The '@' between local part and domain: the last one outside a quoted
// string (`"a@b"@dom`). With unbalanced quotes, simply the last '@'.
std::size_t domain_separator(std::string_view address) {
    std::size_t at = std::string_view::npos;
    bool quoted = false;
    for (std::size_t i = 0; i < address.size(); ++i) {
        const char c = address[i];
        if (quoted) {
            if (c == '\\') ++i;  // quoted-pair: the next byte is literal
            else if (c == '"') quoted = false;
        } else if (c == '"') {
            quoted = true;
        } else if (c == '@') {
            at = i;
        }
    }
    return quoted ? address.rfind('@') : at;
}

// Quotes removed, quoted-pairs resolved, lower-cased: `"A\"b".c` -> `a"b.c`.
void append_local_part(std::string& out, std::string_view local) {
    bool quoted = false;
    for (std::size_t i = 0; i < local.size(); ++i) {
        const char c = local[i];
        if (c == '"') {
            quoted = !quoted;
        } else if (quoted && c == '\\' && i + 1 < local.size()) {
            out += ascii_lower(local[++i]);
        } else {
            out += ascii_lower(c);
        }
    }
}

void append_domain(std::string& out, std::string_view domain) {
    if (domain.empty() || domain.front() != '[') {
        while (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
    }
    for (const char c : domain) out += ascii_lower(c);
}

}  // namespace

void normalise_recipient_into(std::string& out, std::string_view address) {
    out.clear();
    const std::string_view path = strip_source_route(address);
    const std::size_t at = domain_separator(path);
    if (at == std::string_view::npos) {
        append_local_part(out, path);
        return;
    }
    append_local_part(out, path.substr(0, at));
    out += '@';
    append_domain(out, path.substr(at + 1));
}

std::string normalise_recipient(std::string_view address) {
    std::string out;
    out.reserve(address.size());
    normalise_recipient_into(out, address);
    return out;
}

}  // namespace tenantmail
