// options_registry_test.cpp — the options registry (common/options/sections.h)
// against the documented example conf/tenantmail.conf, in both directions;
// check-config's view of every section (load_all_options); and the renamed
// options' old names (kOptionAliases in common/config.h).
#include "common/config.h"
#include "common/options/milter.h"
#include "common/options/policyd.h"
#include "common/options/sections.h"
#include "common/options/webhookd.h"
#include "source_tree.h"
#include "tenantmailctl/all_options.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

namespace tenantmail {
namespace {

namespace po = boost::program_options;

std::string trimmed(const std::string& text) {
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string::npos) return "";
    return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

bool is_option_name(const std::string& name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
}

struct Documented {
    std::set<std::string> sections;
    std::set<std::string> options;  // section.name, or name before the first section
};

// conf/tenantmail.conf shows each option as "name = value", or commented out
// as "# name = value" (one word of value) when it has no default to show;
// comment prose never has that shape.
Documented read_documented(const std::filesystem::path& path) {
    Documented documented;
    std::ifstream in(path);
    std::string section;
    for (std::string line; std::getline(in, line);) {
        line = trimmed(line);
        if (line.size() > 2 && line.front() == '[' && line.back() == ']') {
            section = line.substr(1, line.size() - 2);
            documented.sections.insert(section);
            continue;
        }
        const bool commented = line.starts_with("# ");
        if (commented) line = trimmed(line.substr(2));
        const auto equals = line.find('=');
        if (equals == std::string::npos) continue;
        const std::string name = trimmed(line.substr(0, equals));
        const std::string value = trimmed(line.substr(equals + 1));
        if (!is_option_name(name)) continue;
        if (commented && (value.empty() || value.find(' ') != std::string::npos)) continue;
        documented.options.insert(section.empty() ? name : section + "." + name);
    }
    return documented;
}

// What a file may set: the common options and every section's, without the
// command-line-only ones.
std::set<std::string> registry_options() {
    po::options_description desc;
    add_common_options(desc, "/nonexistent/tenantmail.conf");
    for (const OptionSection& section : option_sections()) section.add_options(desc);
    std::set<std::string> names;
    for (const auto& option : desc.options()) names.insert(option->long_name());
    for (const char* command_line_only : {"help", "config", "check-config"}) names.erase(command_line_only);
    return names;
}

TEST(OptionsRegistry, EverySectionOfTheExampleConfigIsInTheTable) {
    const Documented documented = read_documented(tenantmail::testing::source_file("conf/tenantmail.conf"));
    ASSERT_FALSE(documented.sections.empty());
    for (const std::string& section : documented.sections) {
        if (section == "redis") continue;  // common options, read by every program
        EXPECT_NE(find_option_section(section), nullptr) << "[" << section << "] is not in common/options/sections.cpp";
    }
    for (const OptionSection& section : option_sections()) {
        EXPECT_TRUE(documented.sections.count(std::string(section.name)))
            << "[" << section.name << "] is not documented in conf/tenantmail.conf";
    }
}

TEST(OptionsRegistry, EveryDocumentedOptionIsInTheRegistryAndBack) {
    const Documented documented = read_documented(tenantmail::testing::source_file("conf/tenantmail.conf"));
    const std::set<std::string> registry = registry_options();
    for (const std::string& name : documented.options) {
        EXPECT_TRUE(registry.count(name)) << name << " is documented but no program declares it";
    }
    for (const std::string& name : registry) {
        EXPECT_TRUE(documented.options.count(name)) << name << " is declared but not documented in conf/tenantmail.conf";
    }
}

TEST(OptionsRegistry, SectionsHaveDistinctNamesAndOnlyTheirOwnOptions) {
    std::set<std::string_view> names;
    for (const OptionSection& section : option_sections()) {
        EXPECT_TRUE(names.insert(section.name).second) << section.name;
        po::options_description desc;
        section.add_options(desc);
        ASSERT_FALSE(desc.options().empty()) << section.name;
        for (const auto& option : desc.options()) {
            EXPECT_TRUE(option->long_name().starts_with(std::string(section.name) + "."))
                << option->long_name() << " in section " << section.name;
        }
    }
}

TEST(OptionsRegistry, EveryAliasPointsAtADeclaredOptionOfItsSection) {
    const std::set<std::string> registry = registry_options();
    for (const OptionAlias& alias : kOptionAliases) {
        EXPECT_TRUE(registry.count(std::string(alias.new_name))) << alias.new_name;
        EXPECT_FALSE(registry.count(std::string(alias.old_name))) << alias.old_name;
        const auto section = [](std::string_view name) { return name.substr(0, name.find('.')); };
        EXPECT_EQ(section(alias.old_name), section(alias.new_name));
    }
}

// A private directory per test, removed afterwards.
class OptionsFileTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (std::filesystem::temp_directory_path() / "tenantmail-options-XXXXXX").string();
        ASSERT_NE(mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
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

    static Result<LoadedConfig> load(const po::options_description& desc, std::vector<std::string> args) {
        args.insert(args.begin(), "tenantmail-test");
        std::vector<const char*> argv;
        for (const std::string& arg : args) argv.push_back(arg.c_str());
        return load_config(static_cast<int>(argv.size()), argv.data(), desc);
    }

    std::filesystem::path dir_;
};

TEST_F(OptionsFileTest, CheckConfigRefusesATypoInPolicydWithDidYouMean) {
    const std::string path = write("[policyd]\nlisen = x\n");
    auto config = ctl::load_all_options(path, false);
    ASSERT_FALSE(config);
    EXPECT_EQ(config.error(), path + ":2: unknown option \"policyd.lisen\" (did you mean \"policyd.listen\"?)");
}

TEST_F(OptionsFileTest, CheckConfigRefusesATypoInEverySection) {
    for (const OptionSection& section : option_sections()) {
        const std::string path = write("[" + std::string(section.name) + "]\nno_such_option_here = x\n");
        auto config = ctl::load_all_options(path, false);
        ASSERT_FALSE(config) << section.name;
        EXPECT_NE(config.error().find(":2: unknown option \"" + std::string(section.name) + ".no_such_option_here\""),
                  std::string::npos)
            << config.error();
    }
}

TEST_F(OptionsFileTest, OldNameInTheFileSetsTheNewOptionWithAWarning) {
    po::options_description desc;
    policyd::add_policyd_options(desc, "/nonexistent/tenantmail.conf");
    const std::string path = write("[policyd]\nmax_connections = 20\n");
    auto config = load(desc, {"-c", path});
    ASSERT_TRUE(config) << config.error();
    EXPECT_EQ(policyd::policy_settings(*config).connection_limit, 20u);
    ASSERT_EQ(config->warnings.size(), 1u);
    EXPECT_EQ(config->warnings[0], "warning: " + path +
                                       ":2: policyd.max_connections is an old name of policyd.connection_limit; "
                                       "use policyd.connection_limit");
}

TEST_F(OptionsFileTest, EveryOldNameStillWorks) {
    po::options_description milter_desc;
    milter::add_milter_options(milter_desc, "/nonexistent/tenantmail.conf");
    auto milter_config = load(milter_desc, {"-c", write("[milter]\non_error = accept\n")});
    ASSERT_TRUE(milter_config) << milter_config.error();
    EXPECT_EQ(milter::milter_settings(*milter_config).error_action, milter::ErrorAction::accept);
    EXPECT_EQ(milter_config->warnings.size(), 1u);

    po::options_description webhook_desc;
    webhookd::add_webhookd_options(webhook_desc, "/nonexistent/tenantmail.conf");
    auto webhook_config =
        load(webhook_desc, {"-c", write("[webhookd]\nmax_batch = 7\nretry_initial = 2s\nretry_max = 30s\n")});
    ASSERT_TRUE(webhook_config) << webhook_config.error();
    auto settings = webhookd::webhook_settings(*webhook_config);
    ASSERT_TRUE(settings) << settings.error();
    EXPECT_EQ(settings->max_batch, 7u);
    EXPECT_EQ(settings->retry_initial, std::chrono::seconds(2));
    EXPECT_EQ(settings->retry_max, std::chrono::seconds(30));
    ASSERT_EQ(webhook_config->warnings.size(), 3u);
    EXPECT_NE(webhook_config->warnings[0].find("webhookd.max_batch is an old name of webhookd.batch_limit"),
              std::string::npos);
}

TEST_F(OptionsFileTest, OldNameOnTheCommandLineSetsTheNewOptionWithAWarning) {
    po::options_description desc;
    webhookd::add_webhookd_options(desc, "/nonexistent/tenantmail.conf");
    auto config = load(desc, {"--webhookd.retry_initial=3s", "--webhookd.max_batch", "9"});
    ASSERT_TRUE(config) << config.error();
    auto settings = webhookd::webhook_settings(*config);
    ASSERT_TRUE(settings) << settings.error();
    EXPECT_EQ(settings->retry_initial, std::chrono::seconds(3));
    EXPECT_EQ(settings->max_batch, 9u);
    ASSERT_EQ(config->warnings.size(), 2u);
    EXPECT_EQ(config->warnings[0],
              "warning: command line: webhookd.retry_initial is an old name of webhookd.retry_min_delay; "
              "use webhookd.retry_min_delay");
}

TEST_F(OptionsFileTest, OldAndNewNameTogetherAreAnError) {
    po::options_description desc;
    policyd::add_policyd_options(desc, "/nonexistent/tenantmail.conf");
    const std::string path = write("[policyd]\nconnection_limit = 10\nmax_connections = 20\n");
    auto config = load(desc, {"-c", path});
    ASSERT_FALSE(config);
    EXPECT_EQ(config.error(), path + ":3: policyd.max_connections and policyd.connection_limit are the same option, "
                                     "policyd.connection_limit (first given at line 2)");
    EXPECT_FALSE(load(desc, {"--policyd.max_connections=5", "--policyd.connection_limit=6"}));
}

TEST_F(OptionsFileTest, CheckConfigReportsOldNamesAsWarnings) {
    auto config = ctl::load_all_options(write("[milter]\non_error = accept\n[webhookd]\nretry_max = 2h\n"), false);
    ASSERT_TRUE(config) << config.error();
    ASSERT_EQ(config->warnings.size(), 2u);
    EXPECT_NE(config->warnings[0].find("milter.on_error is an old name of milter.error_action"), std::string::npos);
    EXPECT_NE(config->warnings[1].find("webhookd.retry_max is an old name of webhookd.retry_max_delay"),
              std::string::npos);
}

TEST_F(OptionsFileTest, ADaemonSkipsAnotherSectionsOldNamesSilently) {
    po::options_description desc;
    milter::add_milter_options(desc, "/nonexistent/tenantmail.conf");
    auto config = load(desc, {"-c", write("[policyd]\nmax_connections = 20\n[webhookd]\nmax_batch = 3\n")});
    ASSERT_TRUE(config) << config.error();
    EXPECT_TRUE(config->warnings.empty());
}

}  // namespace
}  // namespace tenantmail
