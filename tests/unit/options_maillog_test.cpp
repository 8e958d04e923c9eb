// options_maillog_test.cpp — the [maillog] options: defaults equal to the
// ones documented in conf/tenantmail.conf, the file and command-line forms,
// and values refused at their line.
#include "common/options/maillog.h"
#include "source_tree.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace tenantmail::maillog {
namespace {

namespace po = boost::program_options;

class MaillogSettingsTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (std::filesystem::temp_directory_path() / "tenantmail-maillog-XXXXXX").string();
        ASSERT_NE(mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
        add_maillog_options(desc_, (dir_ / "absent.conf").string());
    }
    void TearDown() override {
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }
    std::string write(const std::string& text) const {
        const std::string path = (dir_ / "tenantmail.conf").string();
        std::ofstream(path, std::ios::binary) << text;
        return path;
    }
    Result<LoadedConfig> load(std::vector<std::string> args) const {
        args.insert(args.begin(), "tenantmail-maillog");
        std::vector<const char*> argv;
        for (const std::string& arg : args) argv.push_back(arg.c_str());
        return load_config(static_cast<int>(argv.size()), argv.data(), desc_);
    }

    std::filesystem::path dir_;
    po::options_description desc_;
};

TEST_F(MaillogSettingsTest, DefaultsAreTheDocumentedOnes) {
    auto loaded = load({});
    ASSERT_TRUE(loaded.ok()) << loaded.error();
    const MaillogSettings settings = maillog_settings(*loaded);
    EXPECT_EQ(settings.file, "/var/log/postfix.log");
    EXPECT_EQ(settings.state_file, "/var/lib/tenantmail/maillog.state");
    EXPECT_EQ(settings.poll_interval, std::chrono::milliseconds(500));
    EXPECT_EQ(settings.pidfile, "");
    EXPECT_EQ(settings.user, "");
    EXPECT_FALSE(settings.foreground);
    EXPECT_EQ(settings.common.redis.port, 6379);

    const auto example =
        tenantmail::testing::source_file("conf/tenantmail.conf");
    auto documented = load({"-c", example.string()});
    ASSERT_TRUE(documented.ok()) << documented.error();
    const MaillogSettings from_example = maillog_settings(*documented);
    EXPECT_EQ(from_example.file, settings.file);
    EXPECT_EQ(from_example.state_file, settings.state_file);
    EXPECT_EQ(from_example.poll_interval, settings.poll_interval);
    EXPECT_EQ(from_example.pidfile, settings.pidfile);
    EXPECT_EQ(from_example.user, settings.user);
}

TEST_F(MaillogSettingsTest, FileSectionAndCommandLineWhichWins) {
    const std::string conf = write(
        "[redis]\nport = 6380\n\n[maillog]\nfile = /var/log/mail.log\nstate_file = /tmp/s.state\n"
        "poll_interval = 2s\nuser = postfix\n\n[milter]\nsocket = inet:1@127.0.0.1\n");
    auto loaded = load({"-c", conf, "-f", "--maillog.poll_interval=100ms"});
    ASSERT_TRUE(loaded.ok()) << loaded.error();
    const MaillogSettings settings = maillog_settings(*loaded);
    EXPECT_EQ(settings.file, "/var/log/mail.log");
    EXPECT_EQ(settings.state_file, "/tmp/s.state");
    EXPECT_EQ(settings.poll_interval, std::chrono::milliseconds(100));
    EXPECT_EQ(settings.user, "postfix");
    EXPECT_TRUE(settings.foreground);
    EXPECT_EQ(settings.common.redis.port, 6380);
}

TEST_F(MaillogSettingsTest, BadValuesAreReportedAtTheirLine) {
    auto loaded = load({"-c", write("[maillog]\nfile = postfix.log\n")});
    ASSERT_FALSE(loaded.ok());
    EXPECT_NE(loaded.error().find("tenantmail.conf:2:"), std::string::npos) << loaded.error();
    EXPECT_NE(loaded.error().find("not an absolute path"), std::string::npos) << loaded.error();

    loaded = load({"-c", write("[maillog]\npoll_interval = 0\n")});
    ASSERT_FALSE(loaded.ok());
    EXPECT_NE(loaded.error().find(":2:"), std::string::npos) << loaded.error();

    loaded = load({"-c", write("[maillog]\nfollow = yes\n")});
    ASSERT_FALSE(loaded.ok());
    EXPECT_NE(loaded.error().find("unknown option \"maillog.follow\""), std::string::npos) << loaded.error();
}

}  // namespace
}  // namespace tenantmail::maillog
