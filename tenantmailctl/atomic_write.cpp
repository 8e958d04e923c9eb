#include "tenantmailctl/atomic_write.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/unique_fd.h"

namespace tenantmail::ctl {
namespace {

Error errno_error(std::string_view what, const std::string& path) {
    return make_error(std::string(what) + " " + path + ": " + std::strerror(errno));
}

std::string parent_directory(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

Result<std::string> read_text_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return errno_error("cannot read", path);
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) return errno_error("cannot read", path);
    return text.str();
}

Result<void> replace_file_atomically(const std::string& link_or_path, std::string_view contents) {
    // Replace what a symlink points at, not the link: /etc/tenantmail may
    // link to a managed copy.
    char resolved[PATH_MAX];
    const std::string path = ::realpath(link_or_path.c_str(), resolved) != nullptr ? resolved : link_or_path;
    struct stat old {};
    if (::stat(path.c_str(), &old) != 0) return errno_error("cannot stat", path);
    std::string temp = path + ".tmp.XXXXXX";
    UniqueFd file(::mkostemp(temp.data(), O_CLOEXEC));
    if (file.get() < 0) return errno_error("cannot create a temporary file beside", path);
    bool renamed = false;
    struct RemoveTemp {
        const std::string& temp;
        const bool& renamed;
        ~RemoveTemp() {
            if (!renamed) ::unlink(temp.c_str());
        }
    } remove_temp{temp, renamed};

    // Owner first: fchown clears set-id bits, and the mode must end as it was.
    if (::fchown(file.get(), old.st_uid, old.st_gid) != 0 && errno != EPERM) return errno_error("cannot chown", temp);
    if (::fchmod(file.get(), old.st_mode & 07777) != 0) return errno_error("cannot chmod", temp);
    for (std::size_t done = 0; done < contents.size();) {
        const ssize_t n = ::write(file.get(), contents.data() + done, contents.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno_error("cannot write", temp);
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(file.get()) != 0) return errno_error("cannot fsync", temp);
    if (::close(file.release()) != 0) return errno_error("cannot close", temp);
    if (::rename(temp.c_str(), path.c_str()) != 0) return errno_error("cannot rename the new file over", path);
    renamed = true;
    UniqueFd dir(::open(parent_directory(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.get() >= 0) ::fsync(dir.get());  // best effort: the rename is done either way
    return {};
}

}  // namespace tenantmail::ctl
