// dns_command.cpp — `tenantmailctl dns records TENANT` prints every DNS
// record a tenant's onboarding needs (table, zone or JSON);
// `tenantmailctl dns check TENANT` asks a real resolver whether they are in
// place, one ✓/✗ line per record, and completes a pending key rotation once
// the new key is published. Exit statuses: exit_status.h.
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "common/duration.h"
#include "common/text.h"
#include "tenantmailctl/cli_options.h"
#include "tenantmailctl/commands.h"
#include "tenantmailctl/ctl_config.h"
#include "tenantmailctl/dns_check.h"
#include "tenantmailctl/dns_check_report.h"
#include "tenantmailctl/dns_records.h"
#include "tenantmailctl/dns_render.h"
#include "tenantmailctl/dns_resolver.h"
#include "tenantmailctl/exit_status.h"
#include "tenantmailctl/key_rotation.h"
#include "tenantmailctl/tenant_context.h"

namespace tenantmail::ctl {
namespace {

namespace po = boost::program_options;

constexpr const char* kDnsUsage =
    "usage: tenantmailctl dns records TENANT [--format table|zone|json] [--delegation cname|direct|both]\n"
    "       tenantmailctl dns check TENANT [--json] [--resolver HOST:PORT] [--timeout 5s] [--no-activate]\n";

int fail(std::string_view command, int status, const std::string& message) {
    std::fprintf(stderr, "tenantmailctl dns %.*s: %s\n", static_cast<int>(command.size()), command.data(),
                 terminal_lines(message).c_str());
    return status;
}

std::string unsigned_tenant_note(const Tenant& tenant) {
    return "tenant " + tenant.id + " has no DKIM key: its mail goes out From " + tenant.from_rewrite +
           ", signed by the platform tenant, so it needs no DNS records of its own";
}

// A tenant without a key sends as the platform, but its tracking domain, if
// any, still needs its CNAME.
bool needs_no_records(const Tenant& tenant) { return !tenant.signs() && tenant.tracking_domain.empty(); }

// Both subcommands need the tenant, its keys and the [dns] names. False
// with error set (message and exit status) when something is missing.
bool load(const po::variables_map& vm, const std::string& tenant_id, TenantContext& context, TenantDns& dns,
          ContextError& error) {
    if (!load_tenant_context(vm, tenant_id, context, error)) return false;
    if (const auto missing = context.dns.missing(); !missing.empty()) {
        std::string names;
        for (const std::string& name : missing) names += (names.empty() ? "" : ", ") + name;
        error = {kExitConfig,
                 "set " + names + " in the [dns] section of " +
                     (context.config.file.empty() ? std::string(kDefaultConfigFile) : context.config.file) +
                     " (see conf/tenantmail.conf)"};
        return false;
    }
    return load_tenant_dns(context, dns, error);
}

int run_records(const Args& args) {
    po::options_description desc("tenantmailctl dns records TENANT: the DNS records a tenant needs");
    std::string tenant_id;
    std::string format;
    std::string delegation;
    // clang-format off
    desc.add_options()
        ("help,h", "show this help")
        ("tenant", po::value(&tenant_id)->required(), "tenant (section name in the tenants file)")
        ("format", po::value(&format)->default_value("table"), "table, zone or json")
        ("delegation", po::value(&delegation)->default_value("both"), "cname, direct or both");
    // clang-format on
    add_ctl_config_options(desc);
    po::positional_options_description positional;
    positional.add("tenant", 1);
    po::variables_map vm;
    if (const int status = parse_command_options(args, desc, vm, &positional); status >= 0) return status;
    if (format != "table" && format != "zone" && format != "json") {
        return fail("records", kExitUsage, "unknown --format '" + format + "' (table, zone or json)");
    }
    if (delegation != "cname" && delegation != "direct" && delegation != "both") {
        return fail("records", kExitUsage, "unknown --delegation '" + delegation + "' (cname, direct or both)");
    }

    TenantContext context;
    TenantDns dns;
    if (ContextError error; !load(vm, tenant_id, context, dns, error)) {
        return fail("records", error.status, error.message);
    }
    if (needs_no_records(*context.tenant)) {
        const std::string note = unsigned_tenant_note(*context.tenant);
        if (format == "json") {
            const nlohmann::json out = {{"tenant", tenant_id}, {"records", nlohmann::json::array()}, {"note", note}};
            std::printf("%s\n", out.dump(2).c_str());
        } else {
            std::printf("%s\n", note.c_str());
        }
        return kExitOk;
    }
    std::vector<DnsRecord> records = tenant_dns_records(dns, context.dns);
    if (delegation != "both") {
        std::erase_if(records, [&](const DnsRecord& record) {
            return record.delegation != Delegation::both && to_string(record.delegation) != delegation;
        });
    }
    const std::string text = format == "json"   ? render_records_json(dns, records)
                             : format == "zone" ? render_records_zone(dns, records)
                                                : render_records_table(dns, records);
    std::fwrite(text.data(), 1, text.size(), stdout);
    // Beside the table; on stderr for zone and JSON, which are pasted or parsed.
    if (const std::string note = tracking_target_note(dns, context.dns); !note.empty()) {
        std::fprintf(format == "table" ? stdout : stderr, "note: %s\n", note.c_str());
    }
    return std::fflush(stdout) == 0 ? kExitOk : kExitFailed;
}

// Programs reading --json get an answer on stdout even when nothing was checked.
void print_json_error(const std::string& tenant, const std::string& message, int status) {
    const nlohmann::json out = {{"tenant", tenant}, {"ok", false}, {"exit", status}, {"error", message}};
    std::printf("%s\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
}

int run_check(const Args& args) {
    po::options_description desc("tenantmailctl dns check TENANT: are the tenant's DNS records in place?");
    std::string tenant_id;
    std::string resolver_text;
    std::string timeout_text;
    bool json = false;
    bool no_activate = false;
    // clang-format off
    desc.add_options()
        ("help,h", "show this help")
        ("tenant", po::value(&tenant_id)->required(), "tenant (section name in the tenants file)")
        ("json", po::bool_switch(&json), "print JSON instead of one line per record")
        ("resolver", po::value(&resolver_text),
         "ask this resolver, HOST[:PORT] (default: dns.resolver, else /etc/resolv.conf)")
        ("timeout", po::value(&timeout_text), "limit per DNS query, e.g. 2s (default: dns.timeout)")
        ("no-activate", po::bool_switch(&no_activate), "report only: do not activate a published pending key");
    // clang-format on
    add_ctl_config_options(desc);
    po::positional_options_description positional;
    positional.add("tenant", 1);
    po::variables_map vm;
    if (const int status = parse_command_options(args, desc, vm, &positional); status >= 0) return status;

    TenantContext context;
    TenantDns dns;
    if (ContextError error; !load(vm, tenant_id, context, dns, error)) {
        if (json) print_json_error(tenant_id, error.message, error.status);
        return fail("check", error.status, error.message);
    }
    if (needs_no_records(*context.tenant)) {
        const std::string note = unsigned_tenant_note(*context.tenant);
        if (json) {
            std::fputs(render_check_json({tenant_id, "(none asked)"}, {}, {note}).c_str(), stdout);
        } else {
            std::printf("%s\n", note.c_str());
        }
        return kExitOk;
    }
    auto timeout = context.dns.timeout;
    if (vm.count("timeout")) {
        auto parsed = parse_duration(timeout_text);
        if (!parsed || parsed->count() == 0) {
            return fail("check", kExitUsage, "--timeout: invalid duration '" + timeout_text + "'");
        }
        timeout = *parsed;
    }
    const std::string server = vm.count("resolver") ? resolver_text : context.dns.resolver;
    if (!server.empty()) {
        if (auto address = parse_resolver_address(server); !address) {
            const int status = vm.count("resolver") ? kExitUsage : kExitConfig;
            if (json) print_json_error(tenant_id, address.error(), status);
            return fail("check", status,
                        vm.count("resolver") ? "--resolver: " + address.error() : "dns.resolver: " + address.error());
        }
    }
    auto resolver = LdnsResolver::create(server, timeout);
    if (!resolver) {
        // A resolver we cannot even set up is as good as unreachable.
        if (json) print_json_error(tenant_id, resolver.error(), kExitDnsUnreachable);
        return fail("check", kExitDnsUnreachable, resolver.error());
    }
    auto lines = check_tenant_dns(**resolver, dns, context.dns);
    if (!lines) {
        if (json) print_json_error(tenant_id, lines.error(), kExitDnsUnreachable);
        return fail("check", kExitDnsUnreachable, lines.error());
    }

    // A pending key whose record every signing domain now shows is live:
    // switch tenants.conf to it (the old one stays listed until retire).
    std::vector<std::string> notes;
    bool activation_failed = false;
    for (const PublishedKey& key : dns.keys) {
        if (key.role != KeyRole::pending || !selector_published(*lines, key.selector)) continue;
        const KeySlot slot = key.algorithm == "ed25519" ? KeySlot::ed25519 : KeySlot::rsa;
        if (no_activate) {
            notes.push_back("selector " + key.selector + " is published; activate it with tenantmailctl rotate " +
                            tenant_id + " --activate" + (slot == KeySlot::ed25519 ? " --ed25519" : ""));
            continue;
        }
        auto retired = activate_rotation(context.tenants_file, tenant_id, slot);
        if (!retired) {
            notes.push_back("selector " + key.selector +
                            " is published but could not be activated: " + retired.error());
            activation_failed = true;
            continue;
        }
        notes.push_back("activated selector " + key.selector + " in " + context.tenants_file + "; " +
                        reload_hint(context) + ". Keep selector " + retired->selector +
                        " published until tenantmailctl retire " + tenant_id);
    }

    const CheckReportHeader header{tenant_id, (*resolver)->description()};
    std::string text;
    if (json) {
        text = render_check_json(header, *lines, notes);
    } else {
        text = render_check_text(header, *lines, want_colour());
        for (const std::string& note : notes) text += terminal_lines(note) + "\n";
    }
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return all_green(*lines) && !activation_failed ? kExitOk : kExitFailed;
}

}  // namespace

int run_dns(const Args& args) {
    if (args.empty() || args.front() == "--help" || args.front() == "-h" || args.front() == "help") {
        std::fputs(kDnsUsage, args.empty() ? stderr : stdout);
        return args.empty() ? kExitUsage : kExitOk;
    }
    const Args rest(args.begin() + 1, args.end());
    if (args.front() == "records") return run_records(rest);
    if (args.front() == "check") return run_check(rest);
    std::fprintf(stderr, "tenantmailctl dns: unknown subcommand '%s'\n%s", args.front().c_str(), kDnsUsage);
    return kExitUsage;
}

}  // namespace tenantmail::ctl
