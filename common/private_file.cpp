#include "common/private_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace tenantmail {
namespace {

class FileDescriptor {
public:
    explicit FileDescriptor(int fd) : fd_(fd) {}
    ~FileDescriptor() {
        if (fd_ >= 0) ::close(fd_);
    }
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

std::string octal_mode(mode_t mode) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
    return text;
}

}  // namespace

Result<std::string> read_private_file(const std::string& path, std::string_view what, size_t max_size) {
    const std::string name = std::string(what) + " " + path;
    const FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (fd.get() < 0) return make_error(name + ": cannot open: " + std::strerror(errno));

    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return make_error(name + ": cannot stat: " + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) return make_error(name + ": not a regular file");
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        return make_error(name + " is accessible by group or others (mode " + octal_mode(st.st_mode) +
                          "); chmod 600 it");
    }
    if (static_cast<size_t>(st.st_size) > max_size) {
        return make_error(name + ": larger than " + std::to_string(max_size) + " bytes");
    }

    std::string content(static_cast<size_t>(st.st_size), '\0');
    size_t done = 0;
    while (done < content.size()) {
        const ssize_t n = ::read(fd.get(), content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return make_error(name + ": cannot read: " + std::strerror(errno));
        if (n == 0) break;  // shrank while we read; take what is there
        done += static_cast<size_t>(n);
    }
    content.resize(done);
    return content;
}

}  // namespace tenantmail
