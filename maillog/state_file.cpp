// state_file.cpp — see state_file.h.
#include "maillog/state_file.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include "common/unique_fd.h"

namespace tenantmail::maillog {
namespace {

std::string system_error(const std::string& what, const std::string& path) {
    return what + " " + path + ": " + std::strerror(errno);
}

}  // namespace

Result<std::optional<FollowState>> read_state_file(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (fd.get() < 0) {
        if (errno == ENOENT) return std::optional<FollowState>();
        return make_error(system_error("cannot open state file", path));
    }
    std::string text;
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return make_error(system_error("cannot read state file", path));
        if (n == 0) break;
        text.append(buffer, static_cast<std::size_t>(n));
        if (text.size() > 8192) return make_error("state file " + path + " is too large");
    }
    auto state = decode_state(text);
    if (!state) return make_error("state file " + path + ": " + state.error());
    return std::optional<FollowState>(std::move(state).value());
}

Result<void> write_state_file(const std::string& path, const FollowState& state) {
    const std::string text = encode_state(state);
    const std::string temp = path + ".tmp";
    UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644));
    if (fd.get() < 0) return make_error(system_error("cannot create", temp));
    std::size_t written = 0;
    while (written < text.size()) {
        const ssize_t n = ::write(fd.get(), text.data() + written, text.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const std::string error = system_error("cannot write", temp);
            ::unlink(temp.c_str());
            return make_error(error);
        }
        written += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0 || ::close(fd.release()) != 0) {
        const std::string error = system_error("cannot write", temp);
        ::unlink(temp.c_str());
        return make_error(error);
    }
    if (::rename(temp.c_str(), path.c_str()) != 0) {
        const std::string error = system_error("cannot rename " + temp + " to", path);
        ::unlink(temp.c_str());
        return make_error(error);
    }
    return {};
}

}  // namespace tenantmail::maillog
