// config_test.cpp — load_config: defaults, file, command line winning over
// the file, and errors with their exact "file:line:" or "command line:"
// prefix. Each test writes its files into a private temporary directory.
#include "common/config.h"
#include "source_tree.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace tenantmail {
namespace {

namespace po = boost::program_options;
using std::chrono::milliseconds;
using std::chrono::seconds;

// A private directory per test, removed afterwards.
class ConfigTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (std::filesystem::temp_directory_path() / "tenantmail-config-XXXXXX").string();
        ASSERT_NE(mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
        add_common_options(desc_, path("default.conf"));
    }
    void TearDown() override {
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }

    std::string path(const std::string& name) const { return (dir_ / name).string(); }

    std::string write(const std::string& name, const std::string& text) const {
        std::ofstream(path(name), std::ios::binary) << text;
        return path(name);
    }

    Result<LoadedConfig> load(std::vector<std::string> args) const {
        args.insert(args.begin(), "tenantmail-test");
        std::vector<const char*> argv;
        for (const std::string& arg : args) argv.push_back(arg.c_str());
        return load_config(static_cast<int>(argv.size()), argv.data(), desc_);
    }

    LoadedConfig load_ok(std::vector<std::string> args) const {
        auto loaded = load(std::move(args));
        EXPECT_TRUE(loaded.ok()) << loaded.error();
        return loaded.ok() ? std::move(*loaded) : LoadedConfig{};
    }

    std::string load_error(std::vector<std::string> args) const {
        auto loaded = load(std::move(args));
        EXPECT_FALSE(loaded.ok());
        return loaded.ok() ? std::string() : loaded.error();
    }

    // Loads text as the file named with -c and returns the error.
    std::string file_error(const std::string& text) { return load_error({"-c", write("t.conf", text)}); }

    std::filesystem::path dir_;
    po::options_description desc_{"options"};
};

TEST_F(ConfigTest, AbsentDefaultFileMeansDefaults) {
    const LoadedConfig loaded = load_ok({});
    EXPECT_EQ(loaded.file, "");
    const CommonSettings settings = common_settings(loaded.options);
    EXPECT_FALSE(settings.check_config);
    EXPECT_EQ(settings.tenants_file, "/etc/tenantmail/tenants.conf");
    EXPECT_EQ(settings.bounce_secret_file, "/etc/tenantmail/bounce.secret");
    EXPECT_EQ(settings.log_level, "info");
    EXPECT_EQ(settings.redis.host, "127.0.0.1");
    EXPECT_EQ(settings.redis.port, 6379);
    EXPECT_EQ(settings.redis.socket, "");
    EXPECT_EQ(settings.redis.timeout, milliseconds(100));
    EXPECT_EQ(settings.redis.password_file, "");
}

TEST_F(ConfigTest, PresentDefaultFileIsRead) {
    write("default.conf", "log_level = debug\n");
    const LoadedConfig loaded = load_ok({});
    EXPECT_EQ(loaded.file, path("default.conf"));
    EXPECT_EQ(common_settings(loaded.options).log_level, "debug");
}

TEST_F(ConfigTest, ExplicitConfigFileMustExist) {
    const std::string missing = path("missing.conf");
    EXPECT_EQ(load_error({"-c", missing}), missing + ": cannot open: No such file or directory");
    EXPECT_EQ(load_error({"--config=" + missing}), missing + ": cannot open: No such file or directory");
}

TEST_F(ConfigTest, ReadsTopLevelAndSectionOptions) {
    const std::string file = write("t.conf",
                                   "# comment\n"
                                   "tenants_file = /srv/tenants.conf ; inline comment\n"
                                   "bounce_secret_file = /srv/secret\n"
                                   "log_level = warning\n"
                                   "[redis]\n"
                                   "host = 10.0.0.5\n"
                                   "port = 6380\n"
                                   "socket = /run/redis.sock\n"
                                   "timeout = 2s\n"
                                   "password_file = /srv/redis.pw\n");
    const LoadedConfig loaded = load_ok({"-c", file});
    EXPECT_EQ(loaded.file, file);
    const CommonSettings settings = common_settings(loaded.options);
    EXPECT_EQ(settings.tenants_file, "/srv/tenants.conf");
    EXPECT_EQ(settings.bounce_secret_file, "/srv/secret");
    EXPECT_EQ(settings.log_level, "warning");
    EXPECT_EQ(settings.redis.host, "10.0.0.5");
    EXPECT_EQ(settings.redis.port, 6380);
    EXPECT_EQ(settings.redis.socket, "/run/redis.sock");
    EXPECT_EQ(settings.redis.timeout, seconds(2));
    EXPECT_EQ(settings.redis.password_file, "/srv/redis.pw");
}

TEST_F(ConfigTest, SentinelModeOptions) {
    const CommonSettings defaults = common_settings(load_ok({}).options);
    EXPECT_TRUE(defaults.redis.sentinels.empty());
    EXPECT_EQ(defaults.redis.master_name, "mymaster");
    EXPECT_EQ(defaults.redis.sentinel_password_file, "");
    const std::string file = write("t.conf",
                                   "[redis]\nsentinels = 10.0.0.1:26379 10.0.0.2:26379,[::1]:26380\n"
                                   "master_name = tenantmail\nsentinel_password_file = /srv/sentinel.pw\n");
    const CommonSettings settings = common_settings(load_ok({"-c", file}).options);
    ASSERT_EQ(settings.redis.sentinels.size(), 3u);
    EXPECT_EQ(settings.redis.sentinels[2], (RedisEndpoint{"::1", 26380}));
    EXPECT_EQ(settings.redis.master_name, "tenantmail");
    EXPECT_EQ(settings.redis.sentinel_password_file, "/srv/sentinel.pw");
    const std::string error = file_error("[redis]\nsentinels = 10.0.0.1\n");
    EXPECT_NE(error.find("t.conf:2:"), std::string::npos) << error;
    EXPECT_NE(error.find("10.0.0.1"), std::string::npos) << error;
}

TEST_F(ConfigTest, CrlfConfigFileIsRead) {
    const std::string file = write("t.conf", "[redis]\r\ntimeout = 250ms\r\n");
    EXPECT_EQ(common_settings(load_ok({"-c", file}).options).redis.timeout, milliseconds(250));
}

TEST_F(ConfigTest, CommandLineWinsOverFile) {
    const std::string file = write("t.conf", "log_level = debug\n[redis]\ntimeout = 250ms\nhost = 10.0.0.5\n");
    const CommonSettings settings =
        common_settings(load_ok({"-c", file, "--redis.timeout=1s", "--log_level", "error"}).options);
    EXPECT_EQ(settings.redis.timeout, seconds(1));
    EXPECT_EQ(settings.log_level, "error");
    EXPECT_EQ(settings.redis.host, "10.0.0.5");  // not overridden: the file's value
}

TEST_F(ConfigTest, CommandLineWorksWithoutAnyFile) {
    const CommonSettings settings =
        common_settings(load_ok({"--redis.port=7000", "--check-config", "--tenants_file=/t.conf"}).options);
    EXPECT_EQ(settings.redis.port, 7000);
    EXPECT_TRUE(settings.check_config);
    EXPECT_EQ(settings.tenants_file, "/t.conf");
}

TEST_F(ConfigTest, ExampleConfigurationLoadsWithTheDocumentedDefaults) {
    const auto example =
        tenantmail::testing::source_file("conf/tenantmail.conf");
    const LoadedConfig from_example = load_ok({"-c", example.string()});
    EXPECT_EQ(from_example.file, example.string());
    const CommonSettings documented = common_settings(from_example.options);
    const CommonSettings defaults = common_settings(load_ok({}).options);
    EXPECT_EQ(documented.tenants_file, defaults.tenants_file);
    EXPECT_EQ(documented.bounce_secret_file, defaults.bounce_secret_file);
    EXPECT_EQ(documented.log_level, defaults.log_level);
    EXPECT_EQ(documented.redis.host, defaults.redis.host);
    EXPECT_EQ(documented.redis.port, defaults.redis.port);
    EXPECT_EQ(documented.redis.socket, defaults.redis.socket);
    EXPECT_EQ(documented.redis.timeout, defaults.redis.timeout);
    EXPECT_EQ(documented.redis.password_file, defaults.redis.password_file);
}

TEST_F(ConfigTest, ProgramSpecificOptionsLiveInTheirSection) {
    desc_.add_options()("policyd.listen", po::value<std::string>()->default_value("inet:127.0.0.1:10040"), "")(
        "policyd.idle_timeout", po::value<DurationOption>()->default_value({seconds(60)}, "60s"), "");
    const std::string file = write("t.conf", "[policyd]\nlisten = unix:/run/p.sock\nidle_timeout = 5m\n");
    const LoadedConfig loaded = load_ok({"-c", file});
    EXPECT_EQ(loaded.options["policyd.listen"].as<std::string>(), "unix:/run/p.sock");
    EXPECT_EQ(loaded.options["policyd.idle_timeout"].as<DurationOption>().value, std::chrono::minutes(5));
}

TEST_F(ConfigTest, HelpDoesNotReadTheFile) {
    const std::string file = write("t.conf", "this is not a config\n");
    const LoadedConfig loaded = load_ok({"-c", file, "--help"});
    EXPECT_EQ(loaded.options.count("help"), 1u);
    EXPECT_EQ(loaded.file, "");
}

// --- file errors: always "file:line: reason" ---------------------------------

TEST_F(ConfigTest, UnknownOptionInFileNamesLineAndSuggestion) {
    EXPECT_EQ(file_error("log_level = info\n[redis]\ntmeout = 1s\n"),
              path("t.conf") + ":3: unknown option \"redis.tmeout\" (did you mean \"redis.timeout\"?)");
    EXPECT_EQ(file_error("[redsi]\nhost = x\n"), path("t.conf") + ":2: unknown option \"redsi.host\" (did you mean \"redis.host\"?)");
}

TEST_F(ConfigTest, UnknownOptionInOwnProgramSectionIsAnError) {
    desc_.add_options()("milter.socket", po::value<std::string>(), "");
    EXPECT_EQ(file_error("[milter]\nworkers = 4\n"), path("t.conf") + ":2: unknown option \"milter.workers\"");
}

TEST_F(ConfigTest, SectionsOfOtherProgramsAreLeftToThem) {
    // This program declares no [policyd] option: the policy daemon checks those.
    const std::string file = write("t.conf", "[policyd]\nlisten = unix:/run/p.sock\n[redis]\nport = 6380\n");
    const LoadedConfig loaded = load_ok({"-c", file});
    EXPECT_EQ(loaded.options.count("policyd.listen"), 0u);
    EXPECT_EQ(common_settings(loaded.options).redis.port, 6380);
}

TEST_F(ConfigTest, BadDurationInFileNamesLine) {
    EXPECT_EQ(
        file_error("\n[redis]\ntimeout = 100x\n"),
        path("t.conf") + ":3: redis.timeout: invalid duration \"100x\": unknown unit \"x\" (use ms, s, m, h or d)");
    EXPECT_EQ(file_error("[redis]\ntimeout = 0ms\n"),
              path("t.conf") + ":2: redis.timeout: duration must be more than 0");
    EXPECT_EQ(file_error("[redis]\ntimeout =\n"), path("t.conf") + ":2: redis.timeout: invalid duration \"\": empty");
}

TEST_F(ConfigTest, BadPortInFileNamesLine) {
    EXPECT_EQ(file_error("[redis]\nport = 70000\n"),
              path("t.conf") + ":2: redis.port: invalid port \"70000\" (1-65535)");
    EXPECT_EQ(file_error("[redis]\nport = -1\n"), path("t.conf") + ":2: redis.port: invalid port \"-1\" (1-65535)");
    EXPECT_EQ(file_error("[redis]\nport = 0\n"), path("t.conf") + ":2: redis.port: invalid port \"0\" (1-65535)");
}

TEST_F(ConfigTest, BadLogLevelInFileNamesLine) {
    EXPECT_EQ(file_error("log_level = verbose\n"),
              path("t.conf") + ":1: log_level: invalid log level \"verbose\" (error, warning, info or debug)");
}

TEST_F(ConfigTest, BadValueOfBoostTypedOptionNamesLine) {
    desc_.add_options()("milter.workers", po::value<int>(), "");
    EXPECT_EQ(file_error("[milter]\nworkers = many\n"), path("t.conf") + ":2: milter.workers: invalid value \"many\"");
}

TEST_F(ConfigTest, SyntaxErrorInFileNamesLine) {
    EXPECT_EQ(file_error("[redis]\ntimeout 100ms\n"),
              path("t.conf") + ":2: expected \"[section]\" or \"key = value\", got \"timeout 100ms\"");
    EXPECT_EQ(file_error("[redis\n"), path("t.conf") + ":1: section header \"[redis\" lacks a closing ']'");
    EXPECT_EQ(file_error(std::string("log_level = info\n\0\n", 19)),
              path("t.conf") + ":2: NUL byte in line; binary file?");
}

TEST_F(ConfigTest, OptionGivenTwiceInFileIsAnError) {
    EXPECT_EQ(file_error("redis.timeout = 1s\n[redis]\ntimeout = 2s\n"),
              path("t.conf") + ":3: redis.timeout given twice (first at line 1)");
}

TEST_F(ConfigTest, CommandLineOnlyOptionsAreRefusedInFile) {
    EXPECT_EQ(file_error("config = /etc/other.conf\n"),
              path("t.conf") + ":1: option \"config\" is only for the command line");
    EXPECT_EQ(file_error("check-config = true\n"),
              path("t.conf") + ":1: option \"check-config\" is only for the command line");
}

TEST_F(ConfigTest, BadFileValueIsReportedEvenWhenCommandLineOverridesIt) {
    const std::string file = write("t.conf", "[redis]\ntimeout = soon\n");
    EXPECT_EQ(load_error({"-c", file, "--redis.timeout=1s"}),
              file + ":2: redis.timeout: invalid duration \"soon\": must start with a number");
}

// --- command-line errors -----------------------------------------------------

TEST_F(ConfigTest, UnknownCommandLineOptionIsAnError) {
    EXPECT_EQ(load_error({"--redis.tmeout=1s"}), "command line: unrecognised option '--redis.tmeout=1s'");
}

TEST_F(ConfigTest, CommandLineOptionsAreNotGuessedFromPrefixes) {
    EXPECT_EQ(load_error({"--redis.time=1s"}).rfind("command line: unrecognised option", 0), 0u);
}

TEST_F(ConfigTest, BadCommandLineValueNamesTheOption) {
    EXPECT_EQ(load_error({"--redis.timeout=fast"}),
              "command line: --redis.timeout: invalid duration \"fast\": must start with a number");
    EXPECT_EQ(load_error({"--redis.port", "http"}), "command line: --redis.port: invalid port \"http\" (1-65535)");
}

TEST_F(ConfigTest, CommandLineOptionGivenTwiceIsAnError) {
    EXPECT_EQ(load_error({"--redis.port=1", "--redis.port=2"}), "command line: --redis.port given twice");
}

TEST_F(ConfigTest, PositionalArgumentsAreAnError) {
    EXPECT_EQ(load_error({"stray"}), "command line: unexpected argument \"stray\"");
}

}  // namespace
}  // namespace tenantmail
