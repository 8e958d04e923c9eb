// smime_report_test.cpp — tenantmailctl smime check's report: names,
// dates, the 30-day warning, the chain against a given CA, load refusals.
#include "tenantmailctl/smime_report.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/unit/smime_test_pki.h"

namespace tenantmail::ctl {
namespace {

const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));

class SmimeReportTest : public ::testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/tm-smime-report-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        dir_ = pattern;
        write("ca.pem", testing::TestPki::pem(pki_.ca()));
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::string write(const std::string& name, const std::string& content) {
        const std::string path = dir_ + "/" + name;
        std::ofstream(path) << content;
        ::chmod(path.c_str(), 0600);
        return path;
    }

    testing::TestPki pki_;
    EvpPkeyPtr key_ = testing::make_ec_key();
    std::string dir_;
};

TEST_F(SmimeReportTest, ReportsNamesDatesChainAndTheThirtyDayWarning) {
    Tenant tenant;
    tenant.id = "acme";
    testing::SignerSpec soon{{"a@example.org"}, now - 3600, now + 86400 * 10};
    tenant.smime.push_back({"a@example.org", write("a.pem", pki_.signer_file(key_.get(), soon))});
    const auto checks = check_smime(tenant, dir_ + "/ca.pem", now);
    ASSERT_EQ(checks.size(), 1u);
    EXPECT_TRUE(checks[0].ok()) << checks[0].load_error << checks[0].chain_error;
    EXPECT_TRUE(checks[0].expires_soon);
    EXPECT_EQ(checks[0].addresses, std::vector<std::string>{"a@example.org"});
    EXPECT_NE(checks[0].issuer.find("tenantmail test CA"), std::string::npos);
    const std::string text = render_smime_text("acme", checks);
    EXPECT_NE(text.find("warning: expires within 30 days"), std::string::npos) << text;
    EXPECT_EQ(smime_json("acme", checks)["certificates"][0]["chain_ok"], true);
}

TEST_F(SmimeReportTest, ChainToAnotherCaAndLoadRefusalsAreFailures) {
    testing::TestPki other;
    Tenant tenant;
    tenant.id = "acme";
    tenant.smime.push_back({"a@example.org", write("a.pem", other.signer_file(key_.get(), {{"a@example.org"}}))});
    tenant.smime.push_back({"b@example.org", write("b.pem", pki_.signer_file(key_.get(), {{"c@example.org"}}))});
    const auto checks = check_smime(tenant, dir_ + "/ca.pem", now);
    ASSERT_EQ(checks.size(), 2u);
    EXPECT_TRUE(checks[0].load_error.empty());
    EXPECT_FALSE(checks[0].chain_ok);
    EXPECT_FALSE(checks[0].chain_error.empty());
    EXPECT_NE(checks[1].load_error.find("does not name b@example.org"), std::string::npos) << checks[1].load_error;
    EXPECT_FALSE(checks[1].ok());
}

}  // namespace
}  // namespace tenantmail::ctl
