// tenants_test.cpp — the tenants file: every field, every malformed line and
// cross-tenant conflict with its exact "file:line: reason", and the lookups
// (SASL login, client address, most-specific domain) the daemons make.
// Also parses the shipped conf/tenants.conf (source_tree.h).
#include "common/tenants.h"
#include "source_tree.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace tenantmail {
namespace {

using std::chrono::minutes;

// A minimal valid signing tenant; tests add or change lines around it.
const std::string kAcme =
    "[acme]\n"                                             // 1
    "domains = careers.uni.ac.uk\n"                        // 2
    "selector = mailtcex\n"                                // 3
    "key = /etc/tenantmail/keys/acme.pem\n"                // 4
    "bounce_domain = mta.careers.uni.ac.uk\n"              // 5
    "sasl_users = acme-bulk:bulk acme-tx:transactional\n"  // 6
    "networks = 192.0.2.0/28 2001:db8:1::/48\n";           // 7

const std::string kUni =
    "[uni]\n"
    "domains = uni.ac.uk\n"
    "selector = s1\n"
    "key = /etc/tenantmail/keys/uni.pem\n"
    "bounce_domain = bounces.uni.ac.uk\n"
    "sasl_users = uni-web\n";

TenantRegistry load_ok(const std::string& text) {
    auto registry = TenantRegistry::parse(text, "tenants.conf");
    EXPECT_TRUE(registry.ok()) << registry.error();
    return registry.ok() ? std::move(*registry) : TenantRegistry{};
}

std::string load_error(const std::string& text) {
    auto registry = TenantRegistry::parse(text, "tenants.conf");
    EXPECT_FALSE(registry.ok());
    return registry.ok() ? std::string() : registry.error();
}

// The acme tenant with one more line, which is line 8.
std::string acme_with(const std::string& line) { return kAcme + line + "\n"; }

TEST(Tenants, EmptyFileIsValidWithNoTenants) {
    const TenantRegistry registry = load_ok("");
    EXPECT_TRUE(registry.tenants().empty());
    EXPECT_EQ(registry.find("acme"), nullptr);
    EXPECT_FALSE(registry.by_sasl_user("x").has_value());
    EXPECT_FALSE(registry.by_client_address("192.0.2.1").has_value());
}

TEST(Tenants, CommentsOnlyFileIsValid) { EXPECT_TRUE(load_ok("# nothing yet\n; really\n\n").tenants().empty()); }

TEST(Tenants, ParsesEveryField) {
    const TenantRegistry registry = load_ok(
        "[acme]\n"
        "domains = Careers.Uni.AC.uk. other.example\n"
        "selector = mailtcex\n"
        "key = /k/acme.pem\n"
        "ed25519_selector = mailtced\n"
        "ed25519_key = /k/acme-ed.pem\n"
        "allow_rsa1024 = yes\n"
        "bounce_domain = MTA.careers.uni.ac.uk\n"
        "sasl_users = acme-bulk acme-tx:transactional\n"
        "networks = 192.0.2.0/28, 2001:db8:1::/48\n"
        "bulk_rate = 100/1m\n"
        "transactional_rate = 20/10s\n"
        "from_rewrite = uni-careers@Platform.Example\n"
        "webhook_url = https://hooks.example/t?a=1#x\n"
        "webhook_secret = /etc/tenantmail/webhooks/acme.secret\n");
    const Tenant* acme = registry.find("acme");
    ASSERT_NE(acme, nullptr);
    EXPECT_EQ(acme->line, 1u);
    EXPECT_EQ(acme->domains, (std::vector<std::string>{"careers.uni.ac.uk", "other.example"}));
    EXPECT_EQ(acme->selector, "mailtcex");
    EXPECT_EQ(acme->key_path, "/k/acme.pem");
    EXPECT_EQ(acme->ed25519_selector, "mailtced");
    EXPECT_EQ(acme->ed25519_key_path, "/k/acme-ed.pem");
    EXPECT_TRUE(acme->allow_rsa1024);
    EXPECT_TRUE(acme->signs());
    EXPECT_TRUE(acme->signs_ed25519());
    EXPECT_EQ(acme->bounce_domain, "mta.careers.uni.ac.uk");
    ASSERT_EQ(acme->sasl_users.size(), 2u);
    EXPECT_EQ(acme->sasl_users[0].login, "acme-bulk");
    EXPECT_EQ(acme->sasl_users[0].traffic_class, TrafficClass::bulk);
    EXPECT_EQ(acme->sasl_users[1].traffic_class, TrafficClass::transactional);
    ASSERT_EQ(acme->networks.size(), 2u);
    EXPECT_EQ(acme->networks[1].to_string(), "2001:db8:1::/48");
    EXPECT_EQ(to_string(acme->rates_of(TrafficClass::bulk).at(0)), "100/1m");
    EXPECT_EQ(to_string(acme->rates_of(TrafficClass::transactional).at(0)), "20/10s");
    EXPECT_EQ(acme->from_rewrite, "uni-careers@platform.example");
    EXPECT_EQ(acme->webhook_url, "https://hooks.example/t?a=1#x");
    EXPECT_EQ(acme->webhook_secret, "/etc/tenantmail/webhooks/acme.secret");
}

TEST(Tenants, DefaultsApplyToOptionalFields) {
    const TenantRegistry registry = load_ok(kAcme);
    const Tenant* acme = registry.find("acme");
    ASSERT_NE(acme, nullptr);
    EXPECT_FALSE(acme->allow_rsa1024);
    EXPECT_FALSE(acme->signs_ed25519());
    for (const TrafficClass traffic_class : {TrafficClass::bulk, TrafficClass::transactional}) {
        ASSERT_EQ(acme->rates_of(traffic_class).size(), 1u);
        EXPECT_EQ(to_string(acme->rates_of(traffic_class).front()), "500/3m");
        EXPECT_TRUE(acme->rates_of(traffic_class).front().primary);
        EXPECT_TRUE(acme->quotas_of(traffic_class).empty());
    }
    EXPECT_EQ(acme->time_zone.name(), "UTC");
    EXPECT_EQ(acme->quota_month_start, 1u);
    EXPECT_EQ(acme->from_rewrite, "");
    EXPECT_EQ(acme->webhook_url, "");
}

TEST(Tenants, CrlfFileParsesLikeLf) {
    std::string crlf;
    for (const char c : kAcme + kUni) {
        if (c == '\n') crlf += '\r';
        crlf += c;
    }
    EXPECT_EQ(load_ok(crlf).tenants().size(), 2u);
}

// --- lookups ---------------------------------------------------------------

TEST(Tenants, FindsTenantBySaslUserWithItsClass) {
    const TenantRegistry registry = load_ok(kAcme + kUni);
    const auto bulk = registry.by_sasl_user("acme-bulk");
    ASSERT_TRUE(bulk.has_value());
    EXPECT_EQ(bulk->tenant->id, "acme");
    EXPECT_EQ(bulk->traffic_class, TrafficClass::bulk);
    const auto tx = registry.by_sasl_user("acme-tx");
    ASSERT_TRUE(tx.has_value());
    EXPECT_EQ(tx->traffic_class, TrafficClass::transactional);
    const auto uni = registry.by_sasl_user("uni-web");
    ASSERT_TRUE(uni.has_value());
    EXPECT_EQ(uni->tenant->id, "uni");
    EXPECT_EQ(uni->traffic_class, TrafficClass::bulk);
}

TEST(Tenants, SaslLoginMatchIsExactAndCaseSensitive) {
    const TenantRegistry registry = load_ok(kAcme);
    EXPECT_FALSE(registry.by_sasl_user("ACME-BULK").has_value());
    EXPECT_FALSE(registry.by_sasl_user("acme-bulk ").has_value());
    EXPECT_FALSE(registry.by_sasl_user("acme").has_value());
    EXPECT_FALSE(registry.by_sasl_user("").has_value());
}

TEST(Tenants, SaslLoginMayBeAnEmailAddress) {
    const TenantRegistry registry = load_ok(
        "[shop]\ndomains = shop.example\nfrom_rewrite = shop@platform.example\nsasl_users = "
        "app@shop.example:transactional\n");
    const auto match = registry.by_sasl_user("app@shop.example");
    ASSERT_TRUE(match.has_value());
    EXPECT_EQ(match->traffic_class, TrafficClass::transactional);
}

TEST(Tenants, IdentifyPrefersTheLoginOverTheClientNetwork) {
    const TenantRegistry registry = load_ok(kAcme + kUni);
    // uni's login from inside acme's network is uni's mail, with its class.
    const auto by_login = registry.identify("uni-web", "192.0.2.14");
    ASSERT_TRUE(by_login.has_value());
    EXPECT_EQ(by_login->tenant->id, "uni");
    const auto tx = registry.identify("acme-tx", "198.51.100.1");
    ASSERT_TRUE(tx.has_value());
    EXPECT_EQ(tx->traffic_class, TrafficClass::transactional);
}

TEST(Tenants, IdentifyFallsBackToTheClientNetwork) {
    const TenantRegistry registry = load_ok(kAcme + kUni);
    const auto no_login = registry.identify("", "192.0.2.14");
    ASSERT_TRUE(no_login.has_value());
    EXPECT_EQ(no_login->tenant->id, "acme");
    EXPECT_EQ(no_login->traffic_class, TrafficClass::bulk);
    const auto unknown_login = registry.identify("someone-else", "192.0.2.14");
    ASSERT_TRUE(unknown_login.has_value());
    EXPECT_EQ(unknown_login->tenant->id, "acme");
    EXPECT_FALSE(registry.identify("someone-else", "198.51.100.1").has_value());
    EXPECT_FALSE(registry.identify("", "").has_value());
    EXPECT_FALSE(registry.identify("", "not an address").has_value());
}

TEST(Tenants, FindsTenantByIpv4ClientAddress) {
    const TenantRegistry registry = load_ok(kAcme + kUni);
    const auto match = registry.by_client_address("192.0.2.14");
    ASSERT_TRUE(match.has_value());
    EXPECT_EQ(match->tenant->id, "acme");
    EXPECT_EQ(match->traffic_class, TrafficClass::bulk);
    EXPECT_FALSE(registry.by_client_address("192.0.2.16").has_value());
}

TEST(Tenants, FindsTenantByIpv6ClientAddress) {
    const TenantRegistry registry = load_ok(kAcme);
    const auto match = registry.by_client_address("2001:db8:1:ffff::25");
    ASSERT_TRUE(match.has_value());
    EXPECT_EQ(match->tenant->id, "acme");
    EXPECT_FALSE(registry.by_client_address("2001:db8:2::25").has_value());
}

TEST(Tenants, FindsTenantByIpv4MappedClientAddress) {
    const TenantRegistry registry = load_ok(kAcme);
    const auto match = registry.by_client_address("::ffff:192.0.2.1");
    ASSERT_TRUE(match.has_value());
    EXPECT_EQ(match->tenant->id, "acme");
}

TEST(Tenants, UnparseableClientAddressMatchesNothing) {
    const TenantRegistry registry = load_ok(kAcme);
    EXPECT_FALSE(registry.by_client_address("unknown").has_value());
    EXPECT_FALSE(registry.by_client_address("").has_value());
    EXPECT_FALSE(registry.by_client_address("192.0.2.1/28").has_value());
}

TEST(Tenants, MaySendAsOwnDomainAndSubdomainsCaseInsensitively) {
    const TenantRegistry registry = load_ok(kAcme);
    const Tenant& acme = *registry.find("acme");
    EXPECT_TRUE(registry.may_send_as(acme, "careers.uni.ac.uk"));
    EXPECT_TRUE(registry.may_send_as(acme, "CAREERS.Uni.ac.UK"));
    EXPECT_TRUE(registry.may_send_as(acme, "careers.uni.ac.uk."));
    EXPECT_TRUE(registry.may_send_as(acme, "news.careers.uni.ac.uk"));
    EXPECT_FALSE(registry.may_send_as(acme, "uni.ac.uk"));
    EXPECT_FALSE(registry.may_send_as(acme, "xcareers.uni.ac.uk"));
    EXPECT_FALSE(registry.may_send_as(acme, "careers.uni.ac.uk.evil.example"));
    EXPECT_FALSE(registry.may_send_as(acme, ""));
}

TEST(Tenants, MaySendAsRefusesMalformedDomainsThatEndInAnOwnedOne) {
    const TenantRegistry registry = load_ok(kAcme);
    const Tenant& acme = *registry.find("acme");
    EXPECT_FALSE(registry.may_send_as(acme, "x..careers.uni.ac.uk"));
    EXPECT_FALSE(registry.may_send_as(acme, ".careers.uni.ac.uk"));
    EXPECT_FALSE(registry.may_send_as(acme, "a b.careers.uni.ac.uk"));
}

TEST(Tenants, MostSpecificDomainWinsAcrossTenants) {
    const TenantRegistry registry = load_ok(kUni + kAcme);
    const Tenant& uni = *registry.find("uni");
    const Tenant& acme = *registry.find("acme");
    EXPECT_TRUE(registry.may_send_as(uni, "uni.ac.uk"));
    EXPECT_TRUE(registry.may_send_as(uni, "library.uni.ac.uk"));
    EXPECT_FALSE(registry.may_send_as(uni, "careers.uni.ac.uk"));
    EXPECT_FALSE(registry.may_send_as(uni, "jobs.careers.uni.ac.uk"));
    EXPECT_TRUE(registry.may_send_as(acme, "jobs.careers.uni.ac.uk"));
    EXPECT_FALSE(registry.may_send_as(acme, "library.uni.ac.uk"));
    EXPECT_EQ(registry.domain_owner("jobs.careers.uni.ac.uk"), &acme);
    EXPECT_EQ(registry.domain_owner("uni.ac.uk"), &uni);
    EXPECT_EQ(registry.domain_owner("example.org"), nullptr);
}

TEST(Tenants, RegistrySurvivesCopyAndMove) {
    TenantRegistry original = load_ok(kAcme + kUni);
    const TenantRegistry copy = original;
    const TenantRegistry moved = std::move(original);
    for (const TenantRegistry* registry : {&copy, &moved}) {
        const auto match = registry->by_sasl_user("uni-web");
        ASSERT_TRUE(match.has_value());
        EXPECT_EQ(match->tenant, registry->find("uni"));
        EXPECT_TRUE(registry->may_send_as(*registry->find("acme"), "careers.uni.ac.uk"));
    }
}

// --- malformed lines -------------------------------------------------------

TEST(Tenants, UnknownKeyIsAnErrorWithSuggestion) {
    EXPECT_EQ(load_error(acme_with("selectr = x")),
              "tenants.conf:8: tenant acme: unknown key \"selectr\" (did you mean \"selector\"?)");
    EXPECT_EQ(load_error(acme_with("colour = blue")), "tenants.conf:8: tenant acme: unknown key \"colour\"");
}

TEST(Tenants, DuplicateKeyIsAnError) {
    EXPECT_EQ(load_error(acme_with("selector = other")),
              "tenants.conf:8: tenant acme: selector given twice (first at line 3)");
}

TEST(Tenants, DuplicateSectionIsAnError) {
    EXPECT_EQ(load_error(kAcme + "[acme]\n"), "tenants.conf:8: tenant acme defined twice (first at line 1)");
}

TEST(Tenants, InvalidTenantNamesAreErrors) {
    EXPECT_EQ(load_error("[Acme]\n"),
              "tenants.conf:1: invalid tenant name \"Acme\" (lower-case letters, digits, '_', '-'; at most 63; "
              "starting with a letter or digit)");
    load_error("[-acme]\n");
    load_error("[_acme]\n");
    load_error("[ac me]\n");
    load_error("[acme.corp]\n");
    load_error("[" + std::string(64, 'a') + "]\n");
}

TEST(Tenants, LongestValidTenantNameIsAccepted) {
    const std::string id(63, 'a');
    EXPECT_NE(load_ok("[" + id + "]\ndomains = a.example\nfrom_rewrite = a@platform.example\n").find(id), nullptr);
}

TEST(Tenants, KeyBeforeAnySectionIsAnError) {
    EXPECT_EQ(load_error("domains = x.example\n" + kAcme), "tenants.conf:1: key \"domains\" outside any [section]");
}

TEST(Tenants, EmptyValueIsAnError) {
    EXPECT_EQ(load_error(acme_with("webhook_url =")),
              "tenants.conf:8: tenant acme: webhook_url has no value; remove the line to leave it unset");
}

TEST(Tenants, MissingDomainsIsAnError) {
    EXPECT_EQ(load_error("[shop]\nfrom_rewrite = a@platform.example\n"),
              "tenants.conf:1: tenant shop: domains is required");
}

TEST(Tenants, InvalidDomainsAreErrors) {
    const std::string head = "[shop]\nfrom_rewrite = a@platform.example\ndomains = ";
    EXPECT_EQ(load_error(head + "shop..example\n"),
              "tenants.conf:3: tenant shop: domains: invalid domain \"shop..example\"");
    EXPECT_EQ(load_error(head + "localhost\n"),
              "tenants.conf:3: tenant shop: domains: domain \"localhost\" has no dot");
    EXPECT_EQ(load_error(head + "192.0.2.1\n"),
              "tenants.conf:3: tenant shop: domains: \"192.0.2.1\" is not a domain name");
    EXPECT_EQ(load_error(head + "a.example A.example.\n"),
              "tenants.conf:3: tenant shop: domains: a.example listed twice");
    load_error(head + "-shop.example\n");
    load_error(head + "shop-.example\n");
    load_error(head + "shop_1.example\n");
    load_error(head + "*.shop.example\n");
    load_error(head + "user@shop.example\n");
    load_error(head + std::string(64, 'a') + ".example\n");
    load_error(head + ".example\n");
}

TEST(Tenants, SelectorWithoutKeyAndKeyWithoutSelectorAreErrors) {
    EXPECT_EQ(load_error("[a]\ndomains = a.example\nbounce_domain = b.a.example\nselector = s\n"),
              "tenants.conf:4: tenant a: selector and key go together; add the missing one");
    EXPECT_EQ(load_error("[a]\ndomains = a.example\nbounce_domain = b.a.example\nkey = /k.pem\n"),
              "tenants.conf:4: tenant a: selector and key go together; add the missing one");
}

TEST(Tenants, InvalidSelectorsAreErrors) {
    const std::string head = "[a]\ndomains = a.example\nkey = /k\nbounce_domain = b.a.example\nselector = ";
    EXPECT_EQ(
        load_error(head + "bad_sel\n"),
        "tenants.conf:5: tenant a: selector: invalid selector \"bad_sel\" (DNS labels: letters, digits, '-', '.')");
    load_error(head + "a..b\n");
    load_error(head + "-a\n");
    load_error(head + "a.\n");
    EXPECT_TRUE(TenantRegistry::parse(head + "2024-01.mail\n", "t").ok());
}

TEST(Tenants, RelativeKeyPathIsAnError) {
    const std::string text = "[a]\ndomains = a.example\nselector = s\nbounce_domain = b.a.example\nkey = keys/a.pem\n";
    EXPECT_EQ(load_error(text), "tenants.conf:5: tenant a: key: key path \"keys/a.pem\" is not absolute");
}

TEST(Tenants, Ed25519RulesAreEnforced) {
    EXPECT_EQ(load_error(acme_with("ed25519_selector = ed")),
              "tenants.conf:8: tenant acme: ed25519_selector and ed25519_key go together");
    EXPECT_EQ(load_error(acme_with("ed25519_key = /k/ed.pem")),
              "tenants.conf:8: tenant acme: ed25519_selector and ed25519_key go together");
    EXPECT_EQ(load_error(acme_with("ed25519_selector = MailTcEx\ned25519_key = /k/ed.pem")),
              "tenants.conf:8: tenant acme: ed25519_selector must differ from selector (the DNS records differ in k=)");
    EXPECT_EQ(
        load_error("[a]\ndomains = a.example\nfrom_rewrite = a@p.example\ned25519_selector = e\ned25519_key = /e\n"),
        "tenants.conf:5: tenant a: an Ed25519 signature needs an RSA one beside it (many receivers verify only "
        "RSA)");
}

TEST(Tenants, AllowRsa1024TakesYesOrNoOnly) {
    EXPECT_EQ(load_error(acme_with("allow_rsa1024 = maybe")),
              "tenants.conf:8: tenant acme: allow_rsa1024: expected yes or no, got \"maybe\"");
    EXPECT_FALSE(load_ok(acme_with("allow_rsa1024 = No")).find("acme")->allow_rsa1024);
    EXPECT_EQ(load_error("[a]\ndomains = a.example\nfrom_rewrite = a@p.example\nallow_rsa1024 = yes\n"),
              "tenants.conf:4: tenant a: allow_rsa1024 without an RSA key");
}

TEST(Tenants, SigningTenantNeedsBounceDomain) {
    EXPECT_EQ(load_error("[a]\ndomains = a.example\nselector = s\nkey = /k\n"),
              "tenants.conf:1: tenant a: bounce_domain is required for a tenant that signs");
    EXPECT_EQ(load_error("[a]\ndomains = a.example\nselector = s\nkey = /k\nbounce_domain = nodot\n"),
              "tenants.conf:5: tenant a: bounce_domain: domain \"nodot\" has no dot");
}

TEST(Tenants, TenantWithoutKeyNeedsFromRewrite) {
    EXPECT_EQ(load_error("[a]\ndomains = a.example\nsasl_users = a\n"),
              "tenants.conf:1: tenant a: neither a DKIM key (selector, key) nor from_rewrite; its mail could not be "
              "signed");
    const TenantRegistry registry = load_ok("[a]\ndomains = a.example\nfrom_rewrite = a@platform.example\n");
    const Tenant* a = registry.find("a");
    ASSERT_NE(a, nullptr);
    EXPECT_FALSE(a->signs());
    EXPECT_EQ(a->bounce_domain, "");
}

TEST(Tenants, FromRewriteMustBeAPlainAddress) {
    const std::string head = "[a]\ndomains = a.example\nfrom_rewrite = ";
    EXPECT_EQ(load_error(head + "platform.example\n"),
              "tenants.conf:3: tenant a: from_rewrite: \"platform.example\" is not an address (no '@')");
    EXPECT_EQ(load_error(head + "<a@platform.example>\n"),
              "tenants.conf:3: tenant a: from_rewrite: invalid local part in \"<a@platform.example>\" (plain "
              "user@domain only)");
    EXPECT_EQ(load_error(head + "a@platform\n"),
              "tenants.conf:3: tenant a: from_rewrite: in \"a@platform\": domain \"platform\" has no dot");
    load_error(head + "Name a@platform.example\n");
    load_error(head + "\"a b\"@platform.example\n");
    load_error(head + ".a@platform.example\n");
    load_error(head + "a..b@platform.example\n");
    load_error(head + "@platform.example\n");
    load_error(head + std::string(65, 'a') + "@platform.example\n");
    EXPECT_TRUE(TenantRegistry::parse(head + "a.b+c@platform.example\n", "t").ok());
}

TEST(Tenants, SaslUsersNeedKnownClassAndNoRepeats) {
    EXPECT_EQ(load_error(acme_with("[b]\ndomains = b.example\nfrom_rewrite = b@p.example\nsasl_users = b:urgent")),
              "tenants.conf:11: tenant b: sasl_users: unknown class \"urgent\" for \"b\" (bulk or transactional)");
    EXPECT_EQ(load_error("[b]\ndomains = b.example\nfrom_rewrite = b@p.example\nsasl_users = :bulk\n"),
              "tenants.conf:4: tenant b: sasl_users: empty login in \":bulk\"");
    EXPECT_EQ(load_error("[b]\ndomains = b.example\nfrom_rewrite = b@p.example\nsasl_users = b b:transactional\n"),
              "tenants.conf:4: tenant b: sasl_users: \"b\" listed twice");
    load_error("[b]\ndomains = b.example\nfrom_rewrite = b@p.example\nsasl_users = b:\n");
}

TEST(Tenants, BadNetworksAreErrors) {
    const std::string head = "[b]\ndomains = b.example\nfrom_rewrite = b@p.example\nnetworks = ";
    EXPECT_EQ(load_error(head + "198.51.100.1/24\n"),
              "tenants.conf:4: tenant b: networks: non-null host address bits in \"198.51.100.1/24\", did you mean "
              "\"198.51.100.0/24\"?");
    EXPECT_EQ(load_error(head + "mail.b.example\n"),
              "tenants.conf:4: tenant b: networks: not an IP address: \"mail.b.example\"");
}

TEST(Tenants, BadRatesAreErrors) {
    EXPECT_EQ(load_error(acme_with("bulk_rate = 0/3m")),
              "tenants.conf:8: tenant acme: bulk_rate: invalid rate limit \"0/3m\": count must be at least 1 (to "
              "stop a tenant, remove it)");
    EXPECT_EQ(load_error(acme_with("transactional_rate = 500/")),
              "tenants.conf:8: tenant acme: transactional_rate: invalid rate limit \"500/\": missing window after '/'");
}

TEST(Tenants, RoutesArePerClassAndOptional) {
    const TenantRegistry registry = load_ok(acme_with("bulk_route = smtp-pool-a:[127.0.0.1]:2525"));
    const Tenant* acme = registry.find("acme");
    ASSERT_NE(acme, nullptr);
    EXPECT_EQ(acme->route_of(TrafficClass::bulk), "smtp-pool-a:[127.0.0.1]:2525");
    EXPECT_EQ(acme->route_of(TrafficClass::transactional), "");
    EXPECT_EQ(load_error(acme_with("transactional_route = relay:[a] OK")),
              "tenants.conf:8: tenant acme: transactional_route: the nexthop may hold no white space, control "
              "characters, ',' or ';'");
}

TEST(Tenants, AcceptedOnlyCountingIsPerClassAndOffByDefault) {
    const TenantRegistry defaults = load_ok(acme_with(""));
    EXPECT_FALSE(defaults.find("acme")->counts_accepted_only(TrafficClass::bulk));
    EXPECT_FALSE(defaults.find("acme")->counts_accepted_only(TrafficClass::transactional));
    const TenantRegistry bulk = load_ok(acme_with("accepted_only = bulk"));
    EXPECT_TRUE(bulk.find("acme")->counts_accepted_only(TrafficClass::bulk));
    EXPECT_FALSE(bulk.find("acme")->counts_accepted_only(TrafficClass::transactional));
    const TenantRegistry all = load_ok(acme_with("accepted_only = all"));
    EXPECT_TRUE(all.find("acme")->counts_accepted_only(TrafficClass::transactional));
    EXPECT_EQ(load_error(acme_with("accepted_only = yes")),
              "tenants.conf:8: tenant acme: accepted_only: unknown traffic class \"yes\" (classes, all or none)");
}

TEST(Tenants, PauseThresholdsHaveDefaultsAndPerTenantValues) {
    const TenantRegistry defaults = load_ok(acme_with(""));
    EXPECT_EQ(defaults.find("acme")->pause, PausePolicy{});
    EXPECT_EQ(defaults.find("acme")->pause.complaint_rate_ppm, 3'000u);
    const TenantRegistry registry = load_ok(acme_with(
        "pause_period = 2d\npause_min_delivered = 50\npause_bounce_rate = 8%\npause_complaint_rate = off"));
    const PausePolicy& pause = registry.find("acme")->pause;
    EXPECT_EQ(pause.period, std::chrono::hours(48));
    EXPECT_EQ(pause.min_outcomes, 50u);
    EXPECT_EQ(pause.bounce_rate_ppm, 80'000u);
    EXPECT_EQ(pause.complaint_rate_ppm, 0u);
    EXPECT_EQ(load_error(acme_with("pause_complaint_rate = 0.3")),
              "tenants.conf:8: tenant acme: pause_complaint_rate: \"0.3\" is not a percentage like 5% or 0.3% (or "
              "off)");
    EXPECT_EQ(load_error(acme_with("pause_period = 30m")),
              "tenants.conf:8: tenant acme: pause_period: \"30m\" is not a whole number of hours from 1h to 7d");
}

TEST(Tenants, WebhookMustBeHttpUrl) {
    EXPECT_EQ(load_error(acme_with("webhook_url = ftp://x.example/")),
              "tenants.conf:8: tenant acme: webhook_url: webhook_url \"ftp://x.example/\" is not an http(s) URL");
    EXPECT_EQ(load_error(acme_with("webhook_url = https://x.example/a b")),
              "tenants.conf:8: tenant acme: webhook_url: space inside webhook_url");
}

TEST(Tenants, WebhookUrlAndSecretGoTogether) {
    EXPECT_EQ(load_error(acme_with("webhook_url = https://x.example/hook")),
              "tenants.conf:8: tenant acme: webhook_url needs webhook_secret (the file its POSTs are signed with)");
    EXPECT_EQ(load_error(acme_with("webhook_secret = /etc/tenantmail/webhooks/acme.secret")),
              "tenants.conf:8: tenant acme: webhook_secret without webhook_url");
    EXPECT_EQ(load_error(acme_with("webhook_secret = acme.secret")),
              "tenants.conf:8: tenant acme: webhook_secret: key path \"acme.secret\" is not absolute");
}

TEST(Tenants, OversizedLineRejectsTheFile) {
    EXPECT_EQ(load_error(acme_with("webhook_url = https://x.example/" + std::string(5000, 'a'))),
              "tenants.conf:8: line longer than 4096 characters");
}

TEST(Tenants, BinaryGarbageRejectsTheFile) {
    std::string garbage = kAcme;
    for (int i = 0; i < 300; ++i) garbage.push_back(static_cast<char>((i * 131 + 7) % 256));
    EXPECT_EQ(load_error(garbage).rfind("tenants.conf:8: ", 0), 0u);
    EXPECT_EQ(load_error(std::string("[acme]\0\n", 8)), "tenants.conf:1: NUL byte in line; binary file?");
}

// --- conflicts between tenants ---------------------------------------------

TEST(Tenants, SameDomainInTwoTenantsIsAnErrorNamingBoth) {
    const std::string beta = "[beta]\ndomains = other.example CAREERS.uni.ac.uk.\nfrom_rewrite = b@p.example\n";
    EXPECT_EQ(load_error(kAcme + beta),
              "tenants.conf:9: tenant beta: domain careers.uni.ac.uk is already claimed by tenant acme (line 2)");
}

TEST(Tenants, SameSaslUserInTwoTenantsIsAnError) {
    const std::string beta = "[beta]\ndomains = b.example\nfrom_rewrite = b@p.example\nsasl_users = acme-tx\n";
    EXPECT_EQ(load_error(kAcme + beta),
              "tenants.conf:11: tenant beta: SASL user \"acme-tx\" already belongs to tenant acme (line 6)");
}

TEST(Tenants, OverlappingNetworksOfTwoTenantsAreAnError) {
    const std::string beta = "[beta]\ndomains = b.example\nfrom_rewrite = b@p.example\nnetworks = 192.0.2.8/29\n";
    EXPECT_EQ(load_error(kAcme + beta),
              "tenants.conf:11: tenant beta: network 192.0.2.8/29 overlaps 192.0.2.0/28 of tenant acme (line 7)");
    const std::string gamma = "[gamma]\ndomains = g.example\nfrom_rewrite = g@p.example\nnetworks = 2001:db8::/32\n";
    EXPECT_EQ(load_error(kAcme + gamma),
              "tenants.conf:11: tenant gamma: network 2001:db8::/32 overlaps 2001:db8:1::/48 of tenant acme (line 7)");
    const std::string mapped = "[m]\ndomains = m.example\nfrom_rewrite = m@p.example\nnetworks = ::ffff:192.0.2.4\n";
    EXPECT_EQ(load_error(kAcme + mapped),
              "tenants.conf:11: tenant m: network 192.0.2.4/32 overlaps 192.0.2.0/28 of tenant acme (line 7)");
}

TEST(Tenants, OverlappingNetworksWithinOneTenantAreAllowed) {
    EXPECT_TRUE(TenantRegistry::parse(acme_with("[b]\ndomains = b.example\nfrom_rewrite = b@p.example\n"
                                                "networks = 198.51.100.0/24 198.51.100.0/25"),
                                      "t")
                    .ok());
}

TEST(Tenants, AdjacentNetworksOfTwoTenantsAreFine) {
    const std::string beta = "[beta]\ndomains = b.example\nfrom_rewrite = b@p.example\nnetworks = 192.0.2.16/28\n";
    const TenantRegistry registry = load_ok(kAcme + beta);
    EXPECT_EQ(registry.by_client_address("192.0.2.16")->tenant->id, "beta");
    EXPECT_EQ(registry.by_client_address("192.0.2.15")->tenant->id, "acme");
}

TEST(Tenants, SubdomainOfAnotherTenantsDomainIsAllowed) { EXPECT_EQ(load_ok(kAcme + kUni).tenants().size(), 2u); }

// --- files -----------------------------------------------------------------

std::filesystem::path repo_root() { return tenantmail::testing::source_file(""); }

TEST(Tenants, ExampleConfigurationParses) {
    const std::string path = (repo_root() / "conf" / "tenants.conf").string();
    auto registry = TenantRegistry::load_file(path);
    ASSERT_TRUE(registry.ok()) << registry.error();
    ASSERT_NE(registry->find("acme"), nullptr);
    EXPECT_TRUE(registry->may_send_as(*registry->find("acme"), "careers.uni.ac.uk"));
    EXPECT_FALSE(registry->may_send_as(*registry->find("uni"), "careers.uni.ac.uk"));
    EXPECT_EQ(registry->by_sasl_user("acme-tx")->traffic_class, TrafficClass::transactional);
}

TEST(Tenants, MissingFileIsAnErrorNamingIt) {
    auto registry = TenantRegistry::load_file("/nonexistent/tenants.conf");
    ASSERT_FALSE(registry.ok());
    EXPECT_EQ(registry.error().rfind("/nonexistent/tenants.conf: cannot open: ", 0), 0u) << registry.error();
}

}  // namespace
}  // namespace tenantmail
