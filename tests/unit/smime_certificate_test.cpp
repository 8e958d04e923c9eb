#include "common/smime/smime_certificate.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/unit/smime_test_pki.h"

namespace tenantmail {
namespace {

using testing::SignerSpec;
using testing::TestPki;

std::int64_t now() { return static_cast<std::int64_t>(std::time(nullptr)); }

class SmimeCertificateTest : public ::testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/tm-smime-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        dir_ = pattern;
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::string write(const std::string& name, const std::string& content, mode_t mode = 0600) {
        const std::string path = dir_ + "/" + name;
        std::ofstream(path) << content;
        ::chmod(path.c_str(), mode);
        return path;
    }

    TestPki pki_;
    EvpPkeyPtr key_ = testing::make_ec_key();
    std::string dir_;
};

TEST_F(SmimeCertificateTest, LoadsCertificateKeyAndChainForItsAddress) {
    const std::string path = write("ok.pem", pki_.signer_file(key_.get(), {{"noreply@careers.uni.ac.uk"}}));
    auto loaded = SmimeCertificate::load_file(path, "noreply@careers.uni.ac.uk", now());
    ASSERT_TRUE(loaded.ok()) << loaded.error();
    EXPECT_NE(loaded->certificate(), nullptr);
    EXPECT_NE(loaded->key(), nullptr);
    EXPECT_EQ(loaded->chain().size(), 1u);
    EXPECT_EQ(loaded->addresses(), std::vector<std::string>{"noreply@careers.uni.ac.uk"});
}

TEST_F(SmimeCertificateTest, AddressComparisonIgnoresCase) {
    const std::string path = write("ok.pem", pki_.signer_file(key_.get(), {{"NoReply@Careers.Uni.ac.uk"}}));
    EXPECT_TRUE(SmimeCertificate::load_file(path, "noreply@careers.uni.ac.uk", now()).ok());
}

TEST_F(SmimeCertificateTest, RefusesCertificateForAnotherAddressNamingItsNames) {
    const std::string path = write("other.pem", pki_.signer_file(key_.get(), {{"billing@careers.uni.ac.uk"}}));
    auto loaded = SmimeCertificate::load_file(path, "noreply@careers.uni.ac.uk", now());
    ASSERT_FALSE(loaded.ok());
    EXPECT_NE(loaded.error().find(path), std::string::npos) << loaded.error();
    EXPECT_NE(loaded.error().find("does not name noreply@careers.uni.ac.uk"), std::string::npos) << loaded.error();
    EXPECT_NE(loaded.error().find("billing@careers.uni.ac.uk"), std::string::npos) << loaded.error();
}

TEST_F(SmimeCertificateTest, DomainEntryNeedsTheDomainAsRfc822Name) {
    const std::string domain = write("domain.pem", pki_.signer_file(key_.get(), {{"careers.uni.ac.uk"}}));
    EXPECT_TRUE(SmimeCertificate::load_file(domain, "@careers.uni.ac.uk", now()).ok());
    const std::string mailbox = write("mailbox.pem", pki_.signer_file(key_.get(), {{"noreply@careers.uni.ac.uk"}}));
    EXPECT_FALSE(SmimeCertificate::load_file(mailbox, "@careers.uni.ac.uk", now()).ok());
}

TEST_F(SmimeCertificateTest, RefusesExpiredAndNotYetValidCertificates) {
    SignerSpec expired{{"a@example.org"}, now() - 86400 * 10, now() - 86400};
    auto loaded = SmimeCertificate::load_file(write("old.pem", pki_.signer_file(key_.get(), expired)), "a@example.org", now());
    ASSERT_FALSE(loaded.ok());
    EXPECT_NE(loaded.error().find("expired on"), std::string::npos) << loaded.error();

    SignerSpec future{{"a@example.org"}, now() + 86400, now() + 86400 * 10};
    loaded = SmimeCertificate::load_file(write("new.pem", pki_.signer_file(key_.get(), future)), "a@example.org", now());
    ASSERT_FALSE(loaded.ok());
    EXPECT_NE(loaded.error().find("not valid before"), std::string::npos) << loaded.error();
}

TEST_F(SmimeCertificateTest, RefusesKeyThatDoesNotMatchTheCertificate) {
    X509Ptr certificate = pki_.issue(key_.get(), {{"a@example.org"}});
    EvpPkeyPtr other = testing::make_ec_key();
    const std::string path = write("mismatch.pem", TestPki::pem(certificate.get()) + TestPki::pem(other.get()));
    auto loaded = SmimeCertificate::load_file(path, "a@example.org", now());
    ASSERT_FALSE(loaded.ok());
    EXPECT_NE(loaded.error().find("does not match the certificate"), std::string::npos) << loaded.error();
}

TEST_F(SmimeCertificateTest, RefusesFileWithoutKeyOrWithoutCertificate) {
    X509Ptr certificate = pki_.issue(key_.get(), {{"a@example.org"}});
    auto loaded = SmimeCertificate::load_file(write("nokey.pem", TestPki::pem(certificate.get())), "a@example.org", now());
    ASSERT_FALSE(loaded.ok());
    EXPECT_NE(loaded.error().find("no private key"), std::string::npos) << loaded.error();

    loaded = SmimeCertificate::load_file(write("nocert.pem", TestPki::pem(key_.get())), "a@example.org", now());
    ASSERT_FALSE(loaded.ok());
    EXPECT_NE(loaded.error().find("no certificate"), std::string::npos) << loaded.error();
}

TEST_F(SmimeCertificateTest, RefusesFileReadableByOthers) {
    const std::string path = write("open.pem", pki_.signer_file(key_.get(), {{"a@example.org"}}), 0644);
    auto loaded = SmimeCertificate::load_file(path, "a@example.org", now());
    ASSERT_FALSE(loaded.ok());
    EXPECT_NE(loaded.error().find(path), std::string::npos) << loaded.error();
}

TEST_F(SmimeCertificateTest, RefusesCertificateWhoseKeyUsageExcludesEmail) {
    SignerSpec tls{{"a@example.org"}};
    tls.extended_key_usage = "serverAuth";
    auto loaded = SmimeCertificate::load_file(write("tls.pem", pki_.signer_file(key_.get(), tls)), "a@example.org", now());
    ASSERT_FALSE(loaded.ok());
    EXPECT_NE(loaded.error().find("emailProtection"), std::string::npos) << loaded.error();
}

}  // namespace
}  // namespace tenantmail
