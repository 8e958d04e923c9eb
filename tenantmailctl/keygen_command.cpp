// keygen_command.cpp — `tenantmailctl keygen TENANT`: create the tenant's DKIM
// private key where tenants.conf says it lives (key = ... for RSA,
// ed25519_key = ... for Ed25519), mode 0600, and print the DNS TXT record to
// publish. Never replaces an existing key unless --force is given.
// --selector S names the key: for a tenant without one it adds the selector
// and key lines to tenants.conf (key in <tenants dir>/keys/); for a tenant
// whose selector differs it refuses, since that is a rotation (rotate).
#include <cstdio>
#include <string>

#include "common/dkim_key.h"
#include "common/tenants.h"
#include "tenantmailctl/cli_options.h"
#include "tenantmailctl/commands.h"
#include "tenantmailctl/ctl_config.h"
#include "tenantmailctl/key_rotation.h"

namespace tenantmail::ctl {

namespace po = boost::program_options;

int run_keygen(const Args& args) {
    po::options_description desc("tenantmailctl keygen TENANT: create a tenant's DKIM key");
    std::string tenant_id;
    std::string algorithm;
    std::string wanted_selector;
    bool force = false;
    desc.add_options()
        ("help,h", "show this help")
        ("tenant", po::value(&tenant_id)->required(), "tenant (section name in the tenants file)")
        ("algorithm,a", po::value(&algorithm)->default_value("rsa2048"), "rsa2048, rsa4096 or ed25519")
        ("selector,s", po::value(&wanted_selector), "selector; required when the tenant has no key yet")
        ("force", po::bool_switch(&force), "replace an existing key file");
    add_ctl_config_options(desc);
    po::positional_options_description positional;
    positional.add("tenant", 1);
    po::variables_map vm;
    if (const int status = parse_command_options(args, desc, vm, &positional); status >= 0) return status;

    KeyAlgorithm key_algorithm = KeyAlgorithm::rsa;
    int bits = 2048;
    if (algorithm == "rsa4096") bits = 4096;
    else if (algorithm == "ed25519") key_algorithm = KeyAlgorithm::ed25519;
    else if (algorithm != "rsa2048") {
        std::fprintf(stderr, "tenantmailctl keygen: unknown algorithm '%s' (rsa2048, rsa4096 or ed25519)\n",
                     algorithm.c_str());
        return 2;
    }

    auto registry = load_ctl_registry(vm);
    if (!registry) {
        std::fprintf(stderr, "tenantmailctl keygen: %s\n", registry.error().c_str());
        return 1;
    }
    const Tenant* tenant = registry->find(tenant_id);
    if (tenant == nullptr) {
        std::fprintf(stderr, "tenantmailctl keygen: no tenant '%s' in the tenants file\n", tenant_id.c_str());
        return 1;
    }
    const bool ed25519 = key_algorithm == KeyAlgorithm::ed25519;
    std::string path = ed25519 ? tenant->ed25519_key_path : tenant->key_path;
    std::string selector = ed25519 ? tenant->ed25519_selector : tenant->selector;
    const char* key_name = ed25519 ? "ed25519_key" : "key";
    const char* selector_name = ed25519 ? "ed25519_selector" : "selector";
    if (path.empty() && wanted_selector.empty()) {
        std::fprintf(stderr,
                     "tenantmailctl keygen: tenant %s has no %s; give --selector S (the key goes to the keys "
                     "directory beside the tenants file) or add %s and %s to its section first\n",
                     tenant_id.c_str(), key_name, selector_name, key_name);
        return 1;
    }
    if (!path.empty() && !wanted_selector.empty() && wanted_selector != selector) {
        std::fprintf(stderr,
                     "tenantmailctl keygen: tenant %s signs with selector %s (%s); to move to a new selector "
                     "use tenantmailctl rotate %s --selector %s%s\n",
                     tenant_id.c_str(), selector.c_str(), path.c_str(), tenant_id.c_str(), wanted_selector.c_str(),
                     ed25519 ? " --ed25519" : "");
        return 1;
    }

    auto key = DkimKey::generate(key_algorithm, bits);
    if (!key) {
        std::fprintf(stderr, "tenantmailctl keygen: %s\n", key.error().c_str());
        return 1;
    }
    if (path.empty()) {
        auto tenants_file = ctl_tenants_file(vm);
        if (!tenants_file) {
            std::fprintf(stderr, "tenantmailctl keygen: %s\n", tenants_file.error().c_str());
            return 1;
        }
        auto assigned = assign_tenant_key(*tenants_file, tenant_id, ed25519 ? KeySlot::ed25519 : KeySlot::rsa,
                                          wanted_selector, *key);
        if (!assigned) {
            std::fprintf(stderr, "tenantmailctl keygen: %s\n", assigned.error().c_str());
            return 1;
        }
        path = *assigned;
        selector = wanted_selector;
        std::printf("tenants:  %s: [%s] now has %s = %s and %s = %s\n", tenants_file->c_str(), tenant_id.c_str(),
                    selector_name, selector.c_str(), key_name, path.c_str());
    } else if (auto written = key->write_private_pem(path, force); !written) {
        std::fprintf(stderr, "tenantmailctl keygen: %s\n", written.error().c_str());
        return 1;
    }
    std::printf("key:      %s\nselector: %s\n", path.c_str(), selector.c_str());
    for (const std::string& domain : tenant->domains) {
        std::printf("record:   %s._domainkey.%s. IN TXT \"%s\"\n", selector.c_str(), domain.c_str(),
                    key->dns_txt_value().c_str());
    }
    return 0;
}

}  // namespace tenantmail::ctl
