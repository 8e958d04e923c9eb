// tenants_file_fuzzer.cpp — tenants.conf as an admin (or a broken deploy
// script) writes it: the INI lexer (ini_file) and the registry (tenants).
// Invariants: lexed entries have a key, trimmed values and line numbers in
// file order; every error has a "file:line: reason" shape; a loaded
// registry finds each tenant by its id, its domains and its logins.
#include <string>

#include "common/ini_file.h"
#include "common/tenants.h"
#include "common/text.h"
#include "fuzz/fuzz_check.h"

namespace {

using namespace tenantmail;

constexpr std::string_view kFile = "tenants.conf";

// Domains match case-insensitively, with or without the trailing dot.
std::string as_typed_differently(std::string_view domain) {
    std::string out;
    for (const char c : domain) out += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
    return out + ".";
}

void check_lexed(const IniFile& ini) {
    std::size_t previous_line = 0;
    for (const IniEntry& entry : ini.entries) {
        FUZZ_CHECK(!entry.key.empty());
        FUZZ_CHECK(trim(entry.value) == entry.value);
        FUZZ_CHECK(entry.line >= 1 && entry.line > previous_line);
        previous_line = entry.line;
    }
}

void check_registry(const TenantRegistry& registry) {
    for (const Tenant& tenant : registry.tenants()) {
        FUZZ_CHECK(registry.find(tenant.id) == &tenant);
        FUZZ_CHECK(!tenant.domains.empty());
        for (const std::string& domain : tenant.domains) {
            FUZZ_CHECK(registry.domain_owner(domain) == &tenant);
            FUZZ_CHECK(registry.may_send_as(tenant, domain));
            FUZZ_CHECK(registry.domain_owner(as_typed_differently(domain)) == &tenant);
        }
        for (const SaslUser& user : tenant.sasl_users) {
            const auto match = registry.by_sasl_user(user.login);
            FUZZ_CHECK(match.has_value() && match->tenant == &tenant);
            FUZZ_CHECK(match->traffic_class == user.traffic_class);
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = fuzz::as_text(data, size);
    for (const bool top_level_keys : {false, true}) {
        const auto ini = parse_ini(text, kFile, IniOptions{top_level_keys});
        if (ini) check_lexed(*ini);
        else FUZZ_CHECK(ini.error().starts_with(std::string(kFile) + ":"));
    }
    const auto registry = TenantRegistry::parse(text, kFile);
    if (registry) check_registry(*registry);
    else FUZZ_CHECK(registry.error().starts_with(std::string(kFile) + ":"));
    return 0;
}
