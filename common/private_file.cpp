#include "common/private_file.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/unique_fd.h"

namespace tenantmail {
namespace {

std::string octal_mode(mode_t mode) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
    return text;
}

Result<void> check_file(const struct stat& st, const std::string& name, const PrivateFileRules& rules) {
    if (!S_ISREG(st.st_mode)) return make_error(name + " is not a regular file");
    if (rules.check_permissions && (st.st_mode & 066) != 0) {
        const char* how = (st.st_mode & 044) != 0 ? "readable" : "writable";
        return make_error(name + " is " + how + " by group or others (mode " + octal_mode(st.st_mode) +
                          "); chmod 600 it");
    }
    if (static_cast<std::size_t>(st.st_size) > rules.max_size) {
        return make_error(name + " is " + std::to_string(st.st_size) + " bytes; at most " +
                          std::to_string(rules.max_size) + " are accepted");
    }
    return {};
}

}  // namespace

Result<std::string> read_private_file(const std::string& path, std::string_view what, const PrivateFileRules& rules) {
    const std::string name = std::string(what) + " " + path;
    const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (fd.get() < 0) return make_error("cannot open " + name + ": " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return make_error("cannot stat " + name + ": " + std::strerror(errno));
    if (auto checked = check_file(st, name, rules); !checked) return Error{checked.error()};

    // Read at most max_size + 1 bytes: a file that grew after fstat is still
    // caught by the limit instead of being read without bound.
    std::string content(rules.max_size + 1, '\0');
    std::size_t length = 0;
    while (length < content.size()) {
        const ssize_t got = ::read(fd.get(), content.data() + length, content.size() - length);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return make_error("cannot read " + name + ": " + std::strerror(errno));
        if (got == 0) break;
        length += static_cast<std::size_t>(got);
    }
    if (length > rules.max_size) return make_error(name + " grew past " + std::to_string(rules.max_size) + " bytes");
    content.resize(length);
    return content;
}

}  // namespace tenantmail
