// tenants_smime_test.cpp — the S/MIME keys of tenants.conf (smime,
// smime_classes): the ADDRESS:/path list, domain entries, defaults and
// refusals.
#include "common/tenants.h"

#include <gtest/gtest.h>

#include <string>

namespace tenantmail {
namespace {

const std::string kAcme =
    "[acme]\n"
    "domains = careers.uni.ac.uk\n"
    "selector = mailtcex\n"
    "key = /etc/tenantmail/keys/acme.pem\n"
    "bounce_domain = mta.careers.uni.ac.uk\n"
    "sasl_users = acme-bulk\n";

Result<TenantRegistry> parse(const std::string& text) { return TenantRegistry::parse(text, "tenants.conf"); }

std::string error_of(const std::string& text) {
    auto registry = parse(text);
    EXPECT_FALSE(registry.ok());
    return registry.ok() ? std::string() : registry.error();
}

TEST(TenantsSmime, OffWithoutCertificates) {
    auto registry = parse(kAcme);
    ASSERT_TRUE(registry.ok()) << registry.error();
    EXPECT_FALSE(registry->find("acme")->smime_signs(TrafficClass::transactional));
}

TEST(TenantsSmime, AddressAndDomainEntriesSignEveryClassByDefault) {
    auto registry = parse(kAcme + "smime = NoReply@Careers.uni.ac.uk:/etc/tenantmail/smime/noreply.pem, "
                                  "@jobs.careers.uni.ac.uk:/etc/tenantmail/smime/jobs.pem\n");
    ASSERT_TRUE(registry.ok()) << registry.error();
    const Tenant& acme = *registry->find("acme");
    ASSERT_EQ(acme.smime.size(), 2u);
    EXPECT_EQ(acme.smime[0].sender, "noreply@careers.uni.ac.uk");
    EXPECT_EQ(acme.smime[0].path, "/etc/tenantmail/smime/noreply.pem");
    EXPECT_EQ(acme.smime[1].sender, "@jobs.careers.uni.ac.uk");
    EXPECT_TRUE(acme.smime_signs(TrafficClass::bulk));
    EXPECT_TRUE(acme.smime_signs(TrafficClass::transactional));
}

TEST(TenantsSmime, ClassesNarrowIt) {
    auto registry = parse(kAcme + "smime = a@careers.uni.ac.uk:/k.pem\nsmime_classes = transactional\n");
    ASSERT_TRUE(registry.ok()) << registry.error();
    EXPECT_FALSE(registry->find("acme")->smime_signs(TrafficClass::bulk));
    EXPECT_TRUE(registry->find("acme")->smime_signs(TrafficClass::transactional));
}

TEST(TenantsSmime, RefusesMalformedEntriesWithLine) {
    EXPECT_NE(error_of(kAcme + "smime = a@careers.uni.ac.uk\n").find("tenants.conf:7:"), std::string::npos);
    EXPECT_NE(error_of(kAcme + "smime = a@careers.uni.ac.uk:relative.pem\n").find("not absolute"), std::string::npos);
    EXPECT_NE(error_of(kAcme + "smime = a@careers.uni.ac.uk:\n").find("no file"), std::string::npos);
    EXPECT_NE(error_of(kAcme + "smime = a@careers.uni.ac.uk:/x.pem a@careers.uni.ac.uk:/y.pem\n").find("listed twice"),
              std::string::npos);
}

TEST(TenantsSmime, RefusesSenderOutsideTheTenantsDomains) {
    EXPECT_NE(error_of(kAcme + "smime = a@example.org:/x.pem\n").find("a@example.org is not in the tenant's domains"),
              std::string::npos);
}

TEST(TenantsSmime, RefusesClassesWithoutCertificates) {
    EXPECT_NE(error_of(kAcme + "smime_classes = all\n").find("smime_classes without smime"), std::string::npos);
}

}  // namespace
}  // namespace tenantmail
