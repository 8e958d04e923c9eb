// source_tree.h — where the unit tests find files of the source tree (the
// shipped conf/ examples). The build names the tree's root: __FILE__ is not
// usable, since package builds map it to a relative path
// (-ffile-prefix-map) and the tests then depend on the directory they run in.
#pragma once

#include <filesystem>
#include <string_view>

namespace tenantmail::testing {

inline std::filesystem::path source_file(std::string_view relative) {
    return std::filesystem::path(TM_SOURCE_DIR) / relative;
}

}  // namespace tenantmail::testing
