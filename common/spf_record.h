// spf_record.h — parse one SPF record (RFC 7208 section 4.6, 12) into terms.
// Syntax only: no DNS, no macro expansion (a domain-spec with a macro is
// kept as written and flagged). A record a receiver would answer with
// permerror (unknown mechanism, bad qualifier, duplicate redirect=) is an
// error naming the offending term. Pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace tenantmail {

struct SpfTerm {
    enum class Kind { mechanism, modifier };
    Kind kind = Kind::mechanism;
    char qualifier = '+';  // mechanisms: + - ~ ?
    std::string name;      // lower case: all include a mx ptr ip4 ip6 exists; or the modifier's name
    std::string domain;    // include/exists/a/mx/ptr target or redirect=/exp= value; "" when implicit
    std::string text;      // the term as written

    bool has_macro() const { return domain.find('%') != std::string::npos; }
    // True for the terms RFC 7208 4.6.4 counts against the 10-lookup limit.
    bool needs_dns_lookup() const;
};

struct SpfRecord {
    std::vector<SpfTerm> terms;  // in order, without v=spf1

    const SpfTerm* redirect() const;  // the redirect= modifier, or nullptr
    const SpfTerm* all() const;       // the first "all" mechanism, or nullptr
};

// "v=spf1" alone or followed by a space, in any case (RFC 7208 4.5).
bool is_spf_record(std::string_view txt);

Result<SpfRecord> parse_spf_record(std::string_view txt);

}  // namespace tenantmail
