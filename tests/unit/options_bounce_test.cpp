// options_bounce_test.cpp — the [bounce] options (defaults, file values,
// bad values at their file:line), conf/tenantmail.conf read as the bounce
// processor reads it, and max_token_age against milter.record_ttl.
#include "common/options/bounce.h"
#include "source_tree.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>


namespace tenantmail::bounce {
namespace {

namespace po = boost::program_options;

class TempFile {
public:
    explicit TempFile(const std::string& text) {
        path_ = std::filesystem::temp_directory_path() /
                ("tm-bounce-settings-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++) + ".conf");
        std::ofstream(path_) << text;
    }
    ~TempFile() { std::filesystem::remove(path_); }
    std::string path() const { return path_.string(); }

private:
    static inline int counter_ = 0;
    std::filesystem::path path_;
};

Result<LoadedConfig> load(const std::vector<std::string>& args) {
    po::options_description desc;
    add_bounce_options(desc, "/nonexistent/tenantmail.conf");
    std::vector<const char*> argv{"tenantmail-bounce"};
    for (const std::string& arg : args) argv.push_back(arg.c_str());
    return load_config(static_cast<int>(argv.size()), argv.data(), desc);
}

TEST(BounceSettings, Defaults) {
    const auto config = load({});
    ASSERT_TRUE(config) << config.error();
    const BounceSettings settings = bounce_settings(*config);
    EXPECT_EQ(settings.max_token_age, std::chrono::hours(7 * 24));  // = milter.record_ttl's default
    EXPECT_EQ(settings.unparsed_keep, 1000u);
    EXPECT_EQ(settings.unparsed_max_bytes, 65536u);
    EXPECT_EQ(settings.message_size_limit, 10240000u);
    EXPECT_EQ(settings.max_report_recipients, 50u);
    EXPECT_EQ(settings.max_reports_per_token, 10u);
    EXPECT_EQ(settings.memory_limit_mb, 512u);
    EXPECT_FALSE(settings.foreground);
}

TEST(BounceSettings, FromFileAndCommandLine) {
    const TempFile file("[bounce]\nmax_token_age = 7d\nunparsed_keep = 50\nmessage_size_limit = 2048\n"
                        "max_report_recipients = 3\nmax_reports_per_token = 4\nunparsed_max_bytes = 500\n"
                        "memory_limit_mb = 256\n");
    const auto config = load({"-c", file.path(), "-f", "--bounce.unparsed_keep=60"});
    ASSERT_TRUE(config) << config.error();
    const BounceSettings settings = bounce_settings(*config);
    EXPECT_EQ(settings.max_token_age, std::chrono::hours(7 * 24));
    EXPECT_EQ(settings.unparsed_keep, 60u);
    EXPECT_EQ(settings.message_size_limit, 2048u);
    EXPECT_EQ(settings.max_report_recipients, 3u);
    EXPECT_EQ(settings.max_reports_per_token, 4u);
    EXPECT_EQ(settings.unparsed_max_bytes, 500u);
    EXPECT_EQ(settings.memory_limit_mb, 256u);
    EXPECT_TRUE(settings.foreground);
}

TEST(BounceSettings, BadValuesAreReportedAtTheirLine) {
    for (const char* bad : {"unparsed_keep = -1", "unparsed_keep = 10k", "unparsed_keep = 0",
                            "message_size_limit = 99999999999", "max_token_age = soon",
                            "max_reports_per_token = 0", "max_report_recipients = x"}) {
        const TempFile file(std::string("[bounce]\n") + bad + "\n");
        const auto config = load({"-c", file.path()});
        ASSERT_FALSE(config) << bad;
        EXPECT_NE(config.error().find(file.path() + ":2:"), std::string::npos) << config.error();
    }
    const TempFile unknown("[bounce]\nmax_age = 1d\n");
    const auto config = load({"-c", unknown.path()});
    ASSERT_FALSE(config);
    EXPECT_NE(config.error().find("unknown option \"bounce.max_age\""), std::string::npos) << config.error();
}

TEST(BounceSettings, ShippedExampleConfigLoads) {
    const std::filesystem::path conf =
        tenantmail::testing::source_file("conf/tenantmail.conf");
    const auto config = load({"-c", conf.string()});
    ASSERT_TRUE(config) << config.error();
    const BounceSettings settings = bounce_settings(*config);
    EXPECT_EQ(settings.max_token_age, std::chrono::hours(7 * 24));
    EXPECT_EQ(settings.unparsed_keep, 1000u);
    EXPECT_EQ(settings.max_reports_per_token, 10u);
}

TEST(BounceSettings, TokenAgeMayNotOutliveTheMessageRecord) {
    using std::chrono::hours;
    EXPECT_TRUE(check_token_age(hours(7 * 24), hours(7 * 24)));
    EXPECT_TRUE(check_token_age(hours(24), hours(7 * 24)));
    const auto refused = check_token_age(hours(30 * 24), hours(7 * 24));
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().find("milter.record_ttl"), std::string::npos) << refused.error();
}

}  // namespace
}  // namespace tenantmail::bounce
