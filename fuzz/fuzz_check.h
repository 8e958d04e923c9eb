// fuzz_check.h — what the fuzz targets share: an invariant check that holds in
// release builds too (assert() would vanish under NDEBUG) and aborts, which
// libFuzzer and the corpus replay both report as a failure with the input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#define FUZZ_CHECK(condition)                                                                  \
    do {                                                                                       \
        if (!(condition)) {                                                                    \
            std::fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #condition); \
            std::abort();                                                                      \
        }                                                                                      \
    } while (false)

namespace tenantmail::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

// True when part is a view into whole (or empty): a parser that returns views
// must not point anywhere else.
inline bool is_within(std::string_view part, std::string_view whole) {
    if (part.empty()) return true;
    const auto begin = reinterpret_cast<std::uintptr_t>(whole.data());
    const auto start = reinterpret_cast<std::uintptr_t>(part.data());
    return start >= begin && start + part.size() <= begin + whole.size();
}

}  // namespace tenantmail::fuzz
