// options_webhookd_test.cpp — the [webhookd] options: defaults equal to the
// ones documented in conf/tenantmail.conf, bad values at their file:line,
// and the checks between options (claim_after > http_timeout, ...).
#include "common/options/webhookd.h"
#include "source_tree.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace tenantmail::webhookd {
namespace {

namespace po = boost::program_options;
using std::chrono::hours;
using std::chrono::seconds;

class WebhookSettingsTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (std::filesystem::temp_directory_path() / "tenantmail-webhookd-XXXXXX").string();
        ASSERT_NE(mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
        add_webhookd_options(desc_, (dir_ / "absent.conf").string());
    }
    void TearDown() override {
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }

    Result<WebhookSettings> load(std::vector<std::string> args) const {
        args.insert(args.begin(), "tenantmail-webhookd");
        std::vector<const char*> argv;
        for (const std::string& arg : args) argv.push_back(arg.c_str());
        auto config = load_config(static_cast<int>(argv.size()), argv.data(), desc_);
        if (!config) return Error{config.error()};
        return webhook_settings(*config);
    }

    std::string file(const std::string& text) const {
        const std::string path = (dir_ / "t.conf").string();
        std::ofstream(path) << text;
        return path;
    }

    std::filesystem::path dir_;
    po::options_description desc_{"options"};
};

TEST_F(WebhookSettingsTest, DefaultsAreTheDocumentedOnes) {
    auto settings = load({});
    ASSERT_TRUE(settings.ok()) << settings.error();
    EXPECT_EQ(settings->group, "tenantmail-webhookd");
    EXPECT_EQ(settings->consumer, "");
    EXPECT_EQ(settings->max_batch, 100u);
    EXPECT_EQ(settings->block, seconds(5));
    EXPECT_EQ(settings->claim_after, seconds(60));
    EXPECT_EQ(settings->retry_initial, seconds(10));
    EXPECT_EQ(settings->retry_max, hours(1));
    EXPECT_EQ(settings->retry_for, hours(24));
    EXPECT_EQ(settings->http_timeout, seconds(15));
    EXPECT_EQ(settings->connect_timeout, seconds(5));
    EXPECT_FALSE(settings->destinations.allow_http);
    EXPECT_TRUE(settings->destinations.allowed_networks.empty());
    EXPECT_FALSE(settings->foreground);

    const auto example =
        tenantmail::testing::source_file("conf/tenantmail.conf");
    auto documented = load({"-c", example.string()});
    ASSERT_TRUE(documented.ok()) << documented.error();
    EXPECT_EQ(documented->group, settings->group);
    EXPECT_EQ(documented->max_batch, settings->max_batch);
    EXPECT_EQ(documented->block, settings->block);
    EXPECT_EQ(documented->claim_after, settings->claim_after);
    EXPECT_EQ(documented->retry_initial, settings->retry_initial);
    EXPECT_EQ(documented->retry_max, settings->retry_max);
    EXPECT_EQ(documented->retry_for, settings->retry_for);
    EXPECT_EQ(documented->http_timeout, settings->http_timeout);
    EXPECT_EQ(documented->connect_timeout, settings->connect_timeout);
    EXPECT_EQ(documented->destinations.allow_http, settings->destinations.allow_http);
    EXPECT_EQ(documented->destinations.allowed_networks, settings->destinations.allowed_networks);
}

TEST_F(WebhookSettingsTest, DestinationOptionsWidenThePolicy) {
    auto settings =
        load({"-c", file("[webhookd]\nallow_http = yes\nallowed_networks = 127.0.0.0/8, fd00::/8 10.1.2.3\n")});
    ASSERT_TRUE(settings.ok()) << settings.error();
    EXPECT_TRUE(settings->destinations.allow_http);
    ASSERT_EQ(settings->destinations.allowed_networks.size(), 3u);
    EXPECT_EQ(settings->destinations.allowed_networks[0].to_string(), "127.0.0.0/8");
    EXPECT_EQ(settings->destinations.allowed_networks[1].to_string(), "fd00::/8");
    EXPECT_EQ(settings->destinations.allowed_networks[2].to_string(), "10.1.2.3/32");
}

TEST_F(WebhookSettingsTest, BadAllowedNetworkIsReportedAtItsLine) {
    auto settings = load({"-c", file("[webhookd]\n\nallowed_networks = 10.0.0.1/8\n")});
    ASSERT_FALSE(settings.ok());
    EXPECT_NE(settings.error().find("t.conf:3: webhookd.allowed_networks: non-null host address bits"),
              std::string::npos)
        << settings.error();
    EXPECT_FALSE(load({"--webhookd.allowed_networks=localhost"}).ok());
}

TEST_F(WebhookSettingsTest, FileAndCommandLineSetTheSection) {
    auto settings = load({"-c", file("[webhookd]\nmax_batch = 7\nretry_for = 30s\nconsumer = box-1\n"),
                          "--webhookd.claim_after=20s", "-f"});
    ASSERT_TRUE(settings.ok()) << settings.error();
    EXPECT_EQ(settings->max_batch, 7u);
    EXPECT_EQ(settings->retry_for, seconds(30));
    EXPECT_EQ(settings->consumer, "box-1");
    EXPECT_EQ(settings->claim_after, seconds(20));
    EXPECT_TRUE(settings->foreground);
}

TEST_F(WebhookSettingsTest, BadBatchSizeIsReportedAtItsLine) {
    auto settings = load({"-c", file("[webhookd]\n\nmax_batch = 0\n")});
    ASSERT_FALSE(settings.ok());
    EXPECT_NE(settings.error().find("t.conf:3: webhookd.max_batch: \"0\" is not a number from 1 to 10000"),
              std::string::npos)
        << settings.error();
    EXPECT_FALSE(load({"--webhookd.max_batch=10001"}).ok());
    EXPECT_FALSE(load({"--webhookd.max_batch=ten"}).ok());
}

TEST_F(WebhookSettingsTest, ClaimAfterMustOutlastAPost) {
    auto settings = load({"--webhookd.claim_after=15s"});
    ASSERT_FALSE(settings.ok());
    EXPECT_EQ(settings.error(),
              "webhookd.claim_after (15s) must be longer than webhookd.http_timeout (15s), or a live dispatcher's "
              "POST would be taken over");
    EXPECT_TRUE(load({"--webhookd.claim_after=3s", "--webhookd.http_timeout=2s", "--webhookd.connect_timeout=1s"}).ok());
}

TEST_F(WebhookSettingsTest, ContradictoryRetryOptionsAreRefused) {
    auto settings = load({"--webhookd.retry_initial=2h"});
    ASSERT_FALSE(settings.ok());
    EXPECT_EQ(settings.error(), "webhookd.retry_min_delay (2h) is longer than webhookd.retry_max_delay (1h)");
    settings = load({"--webhookd.retry_for=5s"});
    ASSERT_FALSE(settings.ok());
    EXPECT_EQ(settings.error(),
              "webhookd.retry_for (5s) is shorter than webhookd.retry_min_delay (10s): no batch would ever be retried");
    settings = load({"--webhookd.connect_timeout=20s"});
    ASSERT_FALSE(settings.ok());
    EXPECT_EQ(settings.error(), "webhookd.connect_timeout (20s) is longer than webhookd.http_timeout (15s)");
    EXPECT_FALSE(load({"--webhookd.block=10m"}).ok());
}

TEST_F(WebhookSettingsTest, GroupAndConsumerNamesArePrintableWithoutSpaces) {
    auto settings = load({"--webhookd.consumer=my box"});
    ASSERT_FALSE(settings.ok());
    EXPECT_EQ(settings.error(), "webhookd.consumer \"my box\": use printable characters without spaces (at most 200)");
    EXPECT_FALSE(load({"--webhookd.group="}).ok());
    EXPECT_TRUE(valid_redis_name("host-1:4242"));
    EXPECT_FALSE(valid_redis_name(std::string(201, 'a')));
    EXPECT_FALSE(valid_redis_name("tab\there"));
}

}  // namespace
}  // namespace tenantmail::webhookd
