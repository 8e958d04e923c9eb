// options_trackd_test.cpp — the [trackd] options: defaults as documented in
// conf/tenantmail.conf, values from a file, and the refusals.
#include "common/options/trackd.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace tenantmail::trackd {
namespace {

class TrackSettingsTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (std::filesystem::temp_directory_path() / "tenantmail-trackd-XXXXXX").string();
        ASSERT_NE(mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
        add_trackd_options(desc_, (dir_ / "absent.conf").string());
    }
    void TearDown() override {
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }
    Result<TrackSettings> load(const std::string& text) {
        const std::string path = (dir_ / "tenantmail.conf").string();
        std::ofstream(path) << text;
        const char* argv[] = {"tenantmail-trackd", "-c", path.c_str()};
        auto config = load_config(3, argv, desc_);
        if (!config) return Error{config.error()};
        return track_settings(*config);
    }

    std::filesystem::path dir_;
    boost::program_options::options_description desc_;
};

TEST_F(TrackSettingsTest, DefaultsListenOnLoopbackAndTrustLoopbackProxies) {
    auto s = load("");
    ASSERT_TRUE(s) << s.error();
    EXPECT_EQ(s->listen.to_string(), "inet:8025@127.0.0.1");
    ASSERT_EQ(s->trusted_proxies.size(), 2u);
    EXPECT_EQ(s->trusted_proxies[0].to_string(), "127.0.0.1/32");
    EXPECT_EQ(s->trusted_proxies[1].to_string(), "::1/128");
    EXPECT_EQ(s->scanner_window, std::chrono::seconds(10));
    EXPECT_EQ(s->open_repeat_window, std::chrono::hours(1));
    EXPECT_EQ(s->connection_limit, 1000u);
}

TEST_F(TrackSettingsTest, ValuesFromTheFile) {
    auto s = load("[trackd]\nlisten = inet:9000@127.0.0.1\ntrusted_proxies = 10.0.0.0/8\nscanner_window = 30s\n"
                  "open_repeat_window = 2h\nconnection_limit = 50\n");
    ASSERT_TRUE(s) << s.error();
    EXPECT_EQ(s->listen.port, 9000);
    ASSERT_EQ(s->trusted_proxies.size(), 1u);
    EXPECT_EQ(s->scanner_window, std::chrono::seconds(30));
    EXPECT_EQ(s->open_repeat_window, std::chrono::hours(2));
    EXPECT_EQ(s->connection_limit, 50u);
}

TEST_F(TrackSettingsTest, UnixSocketIsRefused) {
    auto s = load("[trackd]\nlisten = unix:/run/trackd.sock\n");
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().find("TCP only"), std::string::npos) << s.error();
}

TEST_F(TrackSettingsTest, BadProxyBlockIsReportedAtItsLine) {
    auto s = load("[trackd]\ntrusted_proxies = 10.0.0.1/8\n");
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().find(":2:"), std::string::npos) << s.error();
}

}  // namespace
}  // namespace tenantmail::trackd
