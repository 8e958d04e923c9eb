// replay_main.cpp — runs a fuzz target's LLVMFuzzerTestOneInput over files
// and directories of inputs (a committed corpus), without libFuzzer, so the
// normal gcc build replays every corpus as a unit test. A crash or sanitizer
// report fails the test as it would fail the fuzzer; an empty or missing
// corpus fails too, so a lost corpus does not pass silently.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

namespace fs = std::filesystem;

// The regular files named, those in named directories in name order.
std::vector<fs::path> input_files(int argc, char** argv) {
    std::vector<fs::path> files;
    for (int i = 1; i < argc; ++i) {
        const fs::path path = argv[i];
        std::error_code error;
        if (!fs::is_directory(path, error)) {
            files.push_back(path);
            continue;
        }
        std::vector<fs::path> entries;
        for (const auto& entry : fs::directory_iterator(path, error)) {
            if (entry.is_regular_file(error)) entries.push_back(entry.path());
        }
        std::sort(entries.begin(), entries.end());
        files.insert(files.end(), entries.begin(), entries.end());
    }
    return files;
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<fs::path> files = input_files(argc, argv);
    if (files.empty()) {
        std::fprintf(stderr, "replay: no inputs in the arguments given\n");
        return 1;
    }
    for (const auto& file : files) {
        std::ifstream in(file, std::ios::binary);
        if (!in) {
            std::fprintf(stderr, "replay: cannot read %s\n", file.c_str());
            return 1;
        }
        const std::string data{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
        LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
    }
    std::printf("replay: %zu inputs, no failure\n", files.size());
    return 0;
}
