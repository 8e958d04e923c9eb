#include "common/private_file.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <mutex>
#include <vector>

#include "common/unique_fd.h"

namespace tenantmail {
namespace {

constexpr const char* kPackageAccount = "tenantmail";

std::mutex trusted_mutex;
std::vector<uid_t> trusted_owners;  // besides root and the effective user

std::optional<uid_t> account_uid(const std::string& user) {
    const passwd* entry = ::getpwnam(user.c_str());
    if (entry == nullptr) return std::nullopt;
    return entry->pw_uid;
}

std::string owner_name(uid_t owner) {
    const passwd* entry = ::getpwuid(owner);
    return entry != nullptr ? std::string(entry->pw_name) : "uid " + std::to_string(owner);
}

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
    if (rules.check_permissions && !is_trusted_private_file_owner(st.st_uid)) {
        return make_error(name + " is owned by " + owner_name(st.st_uid) +
                          ", not by root or the daemons' account; chown it");
    }
    if (static_cast<std::size_t>(st.st_size) > rules.max_size) {
        return make_error(name + " is " + std::to_string(st.st_size) + " bytes; at most " +
                          std::to_string(rules.max_size) + " are accepted");
    }
    return {};
}

}  // namespace

void trust_private_file_owner(const std::string& user) {
    const auto uid = account_uid(user);
    if (!uid) return;  // an unknown user is reported where it is switched to
    const std::lock_guard<std::mutex> lock(trusted_mutex);
    trusted_owners.push_back(*uid);
}

bool is_trusted_private_file_owner(uid_t owner) {
    if (owner == 0 || owner == ::geteuid()) return true;
    static const std::optional<uid_t> package_account = account_uid(kPackageAccount);
    if (package_account && owner == *package_account) return true;
    const std::lock_guard<std::mutex> lock(trusted_mutex);
    for (const uid_t trusted : trusted_owners) {
        if (trusted == owner) return true;
    }
    return false;
}

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
