// rotate_command.cpp — `tenantmailctl rotate TENANT` starts a DKIM key
// rotation (new key under a new selector, "pending" in tenants.conf) and
// prints the record to publish; `dns check` activates it once DNS shows it,
// or `rotate TENANT --activate` does so once it has seen the record itself
// (`--force` without looking: receivers fail every signature until the
// record is there); `rotate --cancel` drops a pending key.
// `tenantmailctl retire TENANT` deletes the previous key after activation.
// How the state is kept: key_rotation.h, rotation_state.h.
#include <cstdio>
#include <string>

#include "common/dkim_key.h"
#include "common/duration.h"
#include "common/text.h"
#include "tenantmailctl/cli_options.h"
#include "tenantmailctl/commands.h"
#include "tenantmailctl/ctl_config.h"
#include "tenantmailctl/dns_check.h"
#include "tenantmailctl/dns_records.h"
#include "tenantmailctl/dns_render.h"
#include "tenantmailctl/dns_resolver.h"
#include "tenantmailctl/exit_status.h"
#include "tenantmailctl/key_rotation.h"
#include "tenantmailctl/tenant_context.h"
#include "tenantmailctl/tenant_keys.h"

namespace tenantmail::ctl {
namespace {

namespace po = boost::program_options;

int fail(const char* command, int status, const std::string& message) {
    std::fprintf(stderr, "tenantmailctl %s: %s\n", command, terminal_lines(message).c_str());
    return status;
}

struct ResolverChoice {
    std::string server;        // --resolver, else dns.resolver, else "" (resolv.conf)
    std::string timeout_text;  // --timeout, else "" (dns.timeout)
};

// The pending key of slot, if there is one.
const PublishedKey* pending_key(const TenantDns& dns, KeySlot slot) {
    for (const PublishedKey& key : dns.keys) {
        const bool ed25519 = key.algorithm == "ed25519";
        if (key.role == KeyRole::pending && ed25519 == (slot == KeySlot::ed25519)) return &key;
    }
    return nullptr;
}

// Signing with a key receivers cannot find breaks every signature until the
// record appears, so --activate first asks DNS, as dns check does, whether
// each signing domain publishes the pending key (the key on disk, through
// any CNAME). -1 to go on, else the exit status (refused, or no answer).
int check_pending_published(const TenantContext& context, KeySlot slot, const ResolverChoice& choice) {
    TenantDns dns;
    ContextError error;
    if (!load_tenant_dns(context, dns, error)) return fail("rotate", error.status, error.message);
    const PublishedKey* key = pending_key(dns, slot);
    if (key == nullptr) return -1;  // activate_rotation says there is nothing to activate
    auto timeout = context.dns.timeout;
    if (!choice.timeout_text.empty()) {
        auto parsed = parse_duration(choice.timeout_text);
        if (!parsed || parsed->count() == 0) {
            return fail("rotate", kExitUsage, "--timeout: invalid duration '" + choice.timeout_text + "'");
        }
        timeout = *parsed;
    }
    if (!choice.server.empty()) {
        if (auto address = parse_resolver_address(choice.server); !address) {
            return fail("rotate", kExitUsage, "resolver " + choice.server + ": " + address.error());
        }
    }
    auto resolver = LdnsResolver::create(choice.server, timeout);
    if (!resolver) return fail("rotate", kExitDnsUnreachable, resolver.error());
    auto lines = check_key_published(**resolver, dns, *key, context.dns);
    if (!lines) return fail("rotate", kExitDnsUnreachable, lines.error() + "; nothing activated");
    if (selector_published(*lines, key->selector)) return -1;
    std::string why;
    for (const CheckLine& line : *lines) {
        if (line.status != CheckStatus::pass) why += "\n  " + line.name + ": " + line.found;
    }
    return fail("rotate", kExitFailed,
                "refusing to activate selector " + key->selector + ": DNS (resolver " + (*resolver)->description() +
                    ") does not publish the key in " + key->path + why +
                    "\nPublish the record first (tenantmailctl dns check " + context.tenant->id +
                    " shows what is missing, and activates the key once it is there), or add --force to sign "
                    "with it anyway.");
}

// The DKIM records of one key, both ways of publishing it.
std::string key_records_table(const TenantContext& context, const PublishedKey& key) {
    TenantDns dns = tenant_dns(*context.tenant, {key});
    dns.bounce_domain.clear();  // only the key's records
    std::vector<DnsRecord> records;
    if (context.dns.missing().empty()) {
        records = tenant_dns_records(dns, context.dns);
    } else {
        for (const std::string& domain : dns.domains) {
            records.push_back(DnsRecord{Delegation::direct, RecordSide::tenant, dkim_record_name(key.selector, domain),
                                        "TXT", key.txt_value, "next DKIM key: publish now", true});
        }
    }
    std::erase_if(records, [&](const DnsRecord& record) { return !record.name.starts_with(key.selector + "."); });
    return render_records_table(dns, records, 100, false);
}

// Refuse key problems with their own exit status before touching anything.
int check_keys_load(const TenantContext& context) {
    TenantDns dns;
    ContextError error;
    if (!load_tenant_dns(context, dns, error)) return fail("rotate", error.status, error.message);
    return -1;
}

}  // namespace

int run_rotate(const Args& args) {
    po::options_description desc("tenantmailctl rotate TENANT: replace a tenant's DKIM key in steps");
    std::string tenant_id;
    std::string selector;
    std::string algorithm;
    bool ed25519 = false;
    bool activate = false;
    bool force = false;
    bool cancel = false;
    ResolverChoice resolver;
    // clang-format off
    desc.add_options()
        ("help,h", "show this help")
        ("tenant", po::value(&tenant_id)->required(), "tenant (section name in the tenants file)")
        ("selector", po::value(&selector), "selector of the new key (default: tmYYYYMMDD)")
        ("algorithm,a", po::value(&algorithm), "RSA size of the new key: rsa2048 or rsa4096 (default: as now)")
        ("ed25519", po::bool_switch(&ed25519), "rotate the Ed25519 key (ed25519_selector/ed25519_key)")
        ("activate", po::bool_switch(&activate),
         "sign with the pending key now, once DNS shows its record (checked as dns check does)")
        ("force", po::bool_switch(&force),
         "with --activate: do not look in DNS first (receivers fail the signatures until the record is there)")
        ("resolver", po::value(&resolver.server),
         "with --activate: ask this resolver, HOST[:PORT] (default: dns.resolver, else /etc/resolv.conf)")
        ("timeout", po::value(&resolver.timeout_text), "with --activate: limit per DNS query (default: dns.timeout)")
        ("cancel", po::bool_switch(&cancel), "drop the pending key and its file");
    // clang-format on
    add_ctl_config_options(desc);
    po::positional_options_description positional;
    positional.add("tenant", 1);
    po::variables_map vm;
    if (const int status = parse_command_options(args, desc, vm, &positional); status >= 0) return status;
    if (activate && cancel) return fail("rotate", kExitUsage, "--activate and --cancel exclude each other");
    if (force && !activate) return fail("rotate", kExitUsage, "--force only goes with --activate");
    const KeySlot slot = ed25519 ? KeySlot::ed25519 : KeySlot::rsa;

    TenantContext context;
    if (ContextError error; !load_tenant_context(vm, tenant_id, context, error)) {
        return fail("rotate", error.status, error.message);
    }
    const Tenant& tenant = *context.tenant;

    if (cancel) {
        auto dropped = cancel_rotation(context.tenants_file, tenant_id, slot);
        if (!dropped) return fail("rotate", kExitFailed, dropped.error());
        std::printf("dropped pending selector %s and deleted %s\n", dropped->mark.selector.c_str(),
                    dropped->mark.key_path.c_str());
        if (!dropped->warning.empty()) std::fprintf(stderr, "tenantmailctl rotate: %s\n", dropped->warning.c_str());
        return kExitOk;
    }
    if (activate) {
        if (const int status = check_keys_load(context); status >= 0) return status;
        if (resolver.server.empty()) resolver.server = context.dns.resolver;
        if (!force) {
            if (const int status = check_pending_published(context, slot, resolver); status >= 0) return status;
        }
        auto retiring = activate_rotation(context.tenants_file, tenant_id, slot);
        if (!retiring) return fail("rotate", kExitFailed, retiring.error());
        std::printf(
            "activated: tenant %s now signs with the pending key (%s updated)\n%s\n"
            "selector %s stays listed until: tenantmailctl retire %s%s\n",
            tenant_id.c_str(), context.tenants_file.c_str(), reload_hint(context).c_str(), retiring->selector.c_str(),
            tenant_id.c_str(), ed25519 ? " --ed25519" : "");
        if (force) {
            std::fprintf(stderr,
                         "tenantmailctl rotate: warning: signing with a key not checked in DNS (--force): "
                         "receivers fail its signatures until its record is published\n");
        }
        return kExitOk;
    }

    if (const int status = check_keys_load(context); status >= 0) return status;
    NewKeyOptions key_options;
    if (ed25519) {
        key_options.algorithm = KeyAlgorithm::ed25519;
        if (!algorithm.empty()) {
            return fail("rotate", kExitUsage, "--algorithm is for RSA keys; --ed25519 keys have no size");
        }
    } else {
        if (!tenant.key_path.empty()) {
            // Keep the size the tenant has unless told otherwise.
            KeyPolicy policy;
            policy.allow_rsa1024 = tenant.allow_rsa1024;
            if (auto key = DkimKey::load_file(tenant.key_path, policy); key && key->bits() >= 2048) {
                key_options.rsa_bits = key->bits();
            }
        }
        if (algorithm == "rsa2048") {
            key_options.rsa_bits = 2048;
        } else if (algorithm == "rsa4096") {
            key_options.rsa_bits = 4096;
        } else if (!algorithm.empty()) {
            return fail("rotate", kExitUsage, "unknown --algorithm '" + algorithm + "' (rsa2048 or rsa4096)");
        }
    }
    auto mark = start_rotation(context.tenants_file, tenant_id, slot, selector, key_options);
    if (!mark) return fail("rotate", kExitFailed, mark.error());
    auto key = load_published_key({slot, KeyRole::pending, mark->selector, mark->key_path}, tenant.allow_rsa1024);
    if (!key) return fail("rotate", kExitKey, key.error());
    std::printf(
        "new key:  %s\nselector: %s (pending; the milter still signs with the current key)\n\n%s\n"
        "Next: publish the record (either way), then run `tenantmailctl dns check %s`: it switches\n"
        "tenants.conf to the new key once DNS shows it (or `tenantmailctl rotate %s --activate%s`,\n"
        "which checks DNS first too).\n",
        mark->key_path.c_str(), mark->selector.c_str(), key_records_table(context, *key).c_str(), tenant_id.c_str(),
        tenant_id.c_str(), ed25519 ? " --ed25519" : "");
    return kExitOk;
}

int run_retire(const Args& args) {
    po::options_description desc("tenantmailctl retire TENANT: delete the key a rotation replaced");
    std::string tenant_id;
    bool ed25519 = false;
    // clang-format off
    desc.add_options()
        ("help,h", "show this help")
        ("tenant", po::value(&tenant_id)->required(), "tenant (section name in the tenants file)")
        ("ed25519", po::bool_switch(&ed25519), "retire the previous Ed25519 key");
    // clang-format on
    add_ctl_config_options(desc);
    po::positional_options_description positional;
    positional.add("tenant", 1);
    po::variables_map vm;
    if (const int status = parse_command_options(args, desc, vm, &positional); status >= 0) return status;

    TenantContext context;
    if (ContextError error; !load_tenant_context(vm, tenant_id, context, error)) {
        return fail("retire", error.status, error.message);
    }
    auto retired = retire_key(context.tenants_file, tenant_id, ed25519 ? KeySlot::ed25519 : KeySlot::rsa);
    if (!retired) return fail("retire", kExitFailed, retired.error());
    const RotationMark& mark = retired->mark;
    std::printf("retired selector %s (active until %s): deleted %s\nThese DNS records may now be removed:\n",
                mark.selector.c_str(), mark.date.c_str(), mark.key_path.c_str());
    for (const std::string& domain : context.tenant->domains) {
        std::printf("  %s\n", dkim_record_name(mark.selector, domain).c_str());
    }
    if (!context.dns.dkim_key_zone.empty()) {
        std::printf("  %s (platform-hosted copy)\n", platform_key_name(mark.selector, tenant_id, context.dns).c_str());
    }
    if (!retired->warning.empty()) {
        std::fprintf(stderr, "tenantmailctl retire: %s\n", retired->warning.c_str());
        return kExitFailed;
    }
    return kExitOk;
}

}  // namespace tenantmail::ctl
