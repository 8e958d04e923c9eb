// The [dns] section of tenantmail.conf, as tenantmailctl reads it.
#include "common/options/dns.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "tenantmailctl/all_options.h"
#include "source_tree.h"

namespace tenantmail::ctl {
namespace {

class DnsSettingsTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (std::filesystem::temp_directory_path() / "tenantmail-dns-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::string write(const std::string& text) {
        const std::string path = dir_ + "/tenantmail.conf";
        std::ofstream(path) << text;
        return path;
    }
    std::string dir_;
};

TEST_F(DnsSettingsTest, ExampleConfigurationDocumentsTheDefaults) {
    const auto example =
        tenantmail::testing::source_file("conf/tenantmail.conf");
    auto documented = load_all_options(example.string(), false);
    ASSERT_TRUE(documented) << documented.error();
    auto defaults = load_all_options(dir_ + "/absent.conf", true);
    ASSERT_TRUE(defaults) << defaults.error();
    const DnsSettings a = dns_settings(documented->options);
    const DnsSettings b = dns_settings(defaults->options);
    EXPECT_EQ(a.platform_mail_host, b.platform_mail_host);
    EXPECT_EQ(a.spf_include, b.spf_include);
    EXPECT_EQ(a.bounce_mx, b.bounce_mx);
    EXPECT_EQ(a.dkim_key_zone, b.dkim_key_zone);
    EXPECT_EQ(a.dmarc_rua, b.dmarc_rua);
    EXPECT_EQ(a.resolver, b.resolver);
    EXPECT_EQ(a.timeout, b.timeout);
    EXPECT_EQ(b.timeout, std::chrono::seconds(5));
}

TEST_F(DnsSettingsTest, ReadsAndNormalisesNames) {
    auto loaded = load_all_options(write("[dns]\nplatform_mail_host = Mail.Platform.Example.\n"
                                         "spf_include = _spf.platform.example\nbounce_mx = mx.platform.example\n"
                                         "dkim_key_zone = dkim.platform.example\n"
                                         "dmarc_rua = mailto:a@platform.example,mailto:b@platform.example\n"
                                         "resolver = 127.0.0.1:5353\ntimeout = 2s\n"),
                                   false);
    ASSERT_TRUE(loaded) << loaded.error();
    const DnsSettings settings = dns_settings(loaded->options);
    EXPECT_EQ(settings.platform_mail_host, "mail.platform.example");
    EXPECT_EQ(settings.spf_include, "_spf.platform.example");
    EXPECT_EQ(settings.dmarc_rua, "mailto:a@platform.example,mailto:b@platform.example");
    EXPECT_EQ(settings.timeout, std::chrono::seconds(2));
    EXPECT_TRUE(settings.missing().empty());
}

TEST_F(DnsSettingsTest, RefusesBadValuesAtTheirLine) {
    auto host = load_all_options(write("[dns]\nplatform_mail_host = not a host\n"), false);
    ASSERT_FALSE(host);
    EXPECT_NE(host.error().find("tenantmail.conf:2:"), std::string::npos) << host.error();
    auto single_label = load_all_options(write("[dns]\nbounce_mx = localhost\n"), false);
    EXPECT_FALSE(single_label);
    auto rua = load_all_options(write("[dns]\ndmarc_rua = dmarc@platform.example\n"), false);
    ASSERT_FALSE(rua);
    EXPECT_NE(rua.error().find("tenantmail.conf:2:"), std::string::npos) << rua.error();
    auto typo = load_all_options(write("[dns]\nspf_inclde = x.example\n"), false);
    ASSERT_FALSE(typo);
    EXPECT_NE(typo.error().find("did you mean"), std::string::npos) << typo.error();
}

}  // namespace
}  // namespace tenantmail::ctl
