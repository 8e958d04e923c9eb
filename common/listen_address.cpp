// listen_address.cpp — parsing listen addresses and opening the socket.
#include "common/listen_address.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace tenantmail::policyd {

namespace {

std::string quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

std::string errno_text(int error) { return std::strerror(error); }

}  // namespace

std::string ListenAddress::to_string() const {
    switch (kind) {
        case Kind::inet: return "inet:" + std::to_string(port) + "@" + host;
        case Kind::inet6: return "inet6:" + std::to_string(port) + "@[" + host + "]";
        case Kind::unix_path: return "unix:" + path;
    }
    return {};
}

Result<ListenAddress> parse_listen_address(std::string_view text) {
    const auto bad = [&](std::string_view why) {
        return make_error(quoted(text) + " is not inet:PORT@HOST, inet6:PORT@HOST or unix:/path (" + std::string(why) +
                          ")");
    };
    const std::size_t colon = text.find(':');
    if (colon == std::string_view::npos) return bad("no type");
    const std::string_view type = text.substr(0, colon);
    const std::string_view rest = text.substr(colon + 1);
    ListenAddress address;
    if (type == "unix" || type == "local") {
        if (rest.empty() || rest.front() != '/') return bad("the path must be absolute");
        if (rest.size() >= sizeof(sockaddr_un::sun_path)) return bad("the path is too long for a unix socket");
        address.kind = ListenAddress::Kind::unix_path;
        address.path = std::string(rest);
        return address;
    }
    if (type != "inet" && type != "inet6") return bad("unknown type " + quoted(type));
    address.kind = type == "inet" ? ListenAddress::Kind::inet : ListenAddress::Kind::inet6;
    const std::size_t at = rest.find('@');
    if (at == std::string_view::npos) return bad("no @HOST");
    const std::string_view port_text = rest.substr(0, at);
    std::string_view host = rest.substr(at + 1);
    unsigned long port = 0;
    if (port_text.empty() || port_text.size() > 5) return bad("invalid port");
    for (const char c : port_text) {
        if (c < '0' || c > '9') return bad("invalid port");
        port = port * 10 + static_cast<unsigned long>(c - '0');
    }
    if (port == 0 || port > 65535) return bad("port out of range 1-65535");
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host.empty()) return bad("no host");
    address.port = static_cast<std::uint16_t>(port);
    address.host = std::string(host);
    return address;
}

Result<UniqueFd> open_listener(const ListenAddress& address, const ListenerOptions& options) {
    const std::string where = address.to_string();
    if (address.kind == ListenAddress::Kind::unix_path) {
        sockaddr_un sun{};
        sun.sun_family = AF_UNIX;
        std::memcpy(sun.sun_path, address.path.c_str(), address.path.size() + 1);
        UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (fd.get() < 0) return make_error("cannot create a socket for " + where + ": " + errno_text(errno));
        // Replace a socket left behind by an earlier run, but never a file
        // that is something else.
        struct stat st {};
        if (::lstat(address.path.c_str(), &st) == 0) {
            if (!S_ISSOCK(st.st_mode)) return make_error(address.path + " exists and is not a socket; not replacing it");
            ::unlink(address.path.c_str());
        }
        // Created with no access at all, opened up once owner and mode are set.
        const mode_t old_mask = ::umask(0777);
        const int bound = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&sun), sizeof sun);
        const int bind_error = errno;
        ::umask(old_mask);
        if (bound != 0) {
            const char* hint = bind_error == ENOENT ? " (its directory must exist: the Debian package creates "
                                                      "/var/spool/postfix/tenantmail)" : "";
            return make_error("cannot bind " + where + ": " + errno_text(bind_error) + hint);
        }
        if (options.owner != static_cast<uid_t>(-1) || options.group != static_cast<gid_t>(-1)) {
            if (::chown(address.path.c_str(), options.owner, options.group) != 0) {
                return make_error("cannot chown " + address.path + ": " + errno_text(errno));
            }
        }
        if (::chmod(address.path.c_str(), static_cast<mode_t>(options.socket_mode)) != 0) {
            return make_error("cannot chmod " + address.path + ": " + errno_text(errno));
        }
        if (::listen(fd.get(), options.backlog) != 0) return make_error("cannot listen on " + where + ": " + errno_text(errno));
        return fd;
    }

    addrinfo hints{};
    hints.ai_family = address.kind == ListenAddress::Kind::inet ? AF_INET : AF_INET6;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(address.port);
    if (const int status = ::getaddrinfo(address.host.c_str(), port.c_str(), &hints, &found); status != 0) {
        return make_error("cannot resolve " + where + ": " + ::gai_strerror(status));
    }
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, &::freeaddrinfo);
    UniqueFd fd(::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) return make_error("cannot create a socket for " + where + ": " + errno_text(errno));
    const int on = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (found->ai_family == AF_INET6) ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    if (::bind(fd.get(), found->ai_addr, found->ai_addrlen) != 0) {
        return make_error("cannot bind " + where + ": " + errno_text(errno));
    }
    if (::listen(fd.get(), options.backlog) != 0) return make_error("cannot listen on " + where + ": " + errno_text(errno));
    return fd;
}

}  // namespace tenantmail::policyd
