// config_file_fuzzer.cpp — tenantmail.conf as each daemon loads it
// (config: ini_file lexing, Boost.Program_options storing, our validators),
// then turned into each program's typed settings, as its main() does.
// load_config reads a path, so the input is written to one file in a private
// temporary directory (removed at exit); nothing else is written.
// Invariants: no exception escapes load_config or the settings functions; an
// error names the file and line, or the configuration as a whole.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>

#include "common/options/bounce.h"
#include "common/config.h"
#include "fuzz/fuzz_check.h"
#include "common/options/maillog.h"
#include "common/options/policyd.h"

namespace {

using namespace tenantmail;
namespace po = boost::program_options;

class ScratchFile {
public:
    ScratchFile() {
        const char* tmp = std::getenv("TMPDIR");
        std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/tm-fuzz-config.XXXXXX";
        FUZZ_CHECK(mkdtemp(pattern.data()) != nullptr);
        dir_ = pattern;
        path_ = dir_ + "/tenantmail.conf";
    }
    ~ScratchFile() {
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }
    const std::string& write(std::string_view text) const {
        std::FILE* file = std::fopen(path_.c_str(), "wb");
        FUZZ_CHECK(file != nullptr);
        FUZZ_CHECK(std::fwrite(text.data(), 1, text.size(), file) == text.size());
        FUZZ_CHECK(std::fclose(file) == 0);
        return path_;
    }

private:
    std::string dir_;
    std::string path_;
};

using AddOptions = std::function<void(po::options_description&, const std::string&)>;
using UseSettings = std::function<void(const LoadedConfig&)>;

void load_as(const std::string& path, const AddOptions& add_options, const UseSettings& use_settings) {
    po::options_description desc;
    add_options(desc, path);
    const char* argv[] = {"tenantmail-fuzz", "--config", path.c_str()};
    const auto config = load_config(3, argv, desc);
    if (!config) {
        const std::string& error = config.error();
        FUZZ_CHECK(error.starts_with(path + ":") || error.starts_with("configuration: "));
        return;
    }
    FUZZ_CHECK(config->file == path);
    (void)common_settings(config->options);
    use_settings(*config);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const ScratchFile scratch;
    const std::string& path = scratch.write(fuzz::as_text(data, size));
    load_as(path, policyd::add_policyd_options, [](const LoadedConfig& c) { (void)policyd::policy_settings(c); });
    load_as(path, bounce::add_bounce_options, [](const LoadedConfig& c) { (void)bounce::bounce_settings(c); });
    load_as(path, maillog::add_maillog_options, [](const LoadedConfig& c) { (void)maillog::maillog_settings(c); });
    return 0;
}
