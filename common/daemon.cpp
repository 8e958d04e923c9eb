#include "common/daemon.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "common/log.h"

namespace tenantmail {

void keep_secrets_out_of_core_dumps() {
    const rlimit none{0, 0};
    ::setrlimit(RLIMIT_CORE, &none);
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

Result<void> detach_from_terminal() {
    const pid_t pid = ::fork();
    if (pid < 0) return make_error(std::string("cannot fork: ") + std::strerror(errno));
    if (pid > 0) ::_exit(0);
    if (::setsid() < 0) return make_error(std::string("setsid: ") + std::strerror(errno));
    if (::chdir("/") != 0) return make_error(std::string("chdir /: ") + std::strerror(errno));
    const int null = ::open("/dev/null", O_RDWR);
    if (null < 0) return make_error(std::string("open /dev/null: ") + std::strerror(errno));
    ::dup2(null, STDIN_FILENO);
    ::dup2(null, STDOUT_FILENO);
    ::dup2(null, STDERR_FILENO);
    if (null > STDERR_FILENO) ::close(null);
    return {};
}

Result<void> write_pidfile(const std::string& path) {
    {
        std::ifstream existing(path);
        long pid = 0;
        if (existing >> pid && pid > 0 && pid != ::getpid() && ::kill(static_cast<pid_t>(pid), 0) == 0) {
            return make_error("pid file " + path + " names running process " + std::to_string(pid));
        }
    }
    const std::string temporary = path + ".tmp";
    FILE* file = std::fopen(temporary.c_str(), "w");
    if (file == nullptr) return make_error("cannot write pid file " + temporary + ": " + std::strerror(errno));
    std::fprintf(file, "%ld\n", static_cast<long>(::getpid()));
    const bool written = std::fclose(file) == 0;
    if (!written || std::rename(temporary.c_str(), path.c_str()) != 0) {
        return make_error("cannot write pid file " + path + ": " + std::strerror(errno));
    }
    return {};
}

void remove_pidfile(const std::string& path) {
    if (!path.empty()) ::unlink(path.c_str());
}

Result<void> drop_privileges(const std::string& user) {
    errno = 0;
    const passwd* entry = ::getpwnam(user.c_str());
    if (entry == nullptr) return make_error("unknown user " + user);
    if (::getuid() == entry->pw_uid && ::geteuid() == entry->pw_uid) return {};
    if (::initgroups(entry->pw_name, entry->pw_gid) != 0 || ::setgid(entry->pw_gid) != 0 ||
        ::setuid(entry->pw_uid) != 0) {
        return make_error("cannot switch to user " + user + ": " + std::strerror(errno));
    }
    if (::setuid(0) == 0) return make_error("could regain root after switching to " + user + "; refusing to run");
    return {};
}

Result<void> become_daemon(const std::string& user, bool foreground, const std::string& pidfile) {
    if (!user.empty()) {
        if (auto dropped = drop_privileges(user); !dropped) return dropped;
    }
    if (!foreground) {
        if (auto detached = detach_from_terminal(); !detached) return detached;
    }
    if (!pidfile.empty()) {
        if (auto written = write_pidfile(pidfile); !written) return written;
    }
    ::signal(SIGPIPE, SIG_IGN);
    return {};
}

int cannot_start(const char* program, bool foreground, const std::string& message) {
    LOG_ERROR("cannot start: %s", message.c_str());
    if (!foreground) std::fprintf(stderr, "%s: cannot start: %s\n", program, message.c_str());
    return 1;
}

}  // namespace tenantmail
