// listen_address.h — where policyd listens, in the syntax the milter uses:
// inet:PORT@HOST, inet6:PORT@HOST (HOST may be written [::1]), unix:/path
// (local:/path is the same). parse_listen_address is pure; open_listener
// creates the listening socket before privileges are dropped (a unix
// socket's stale file is replaced, its mode set, and it is given to the
// unprivileged user so the daemon can remove it when it stops).
// In common/ (namespace policyd, whose listener it is) because the
// [policyd] option declarations parse it (common/options/policyd.h).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/unique_fd.h"

namespace tenantmail::policyd {

struct ListenAddress {
    enum class Kind { inet, inet6, unix_path };
    Kind kind = Kind::inet;
    std::string host;  // inet/inet6: numeric address or name; no brackets
    std::uint16_t port = 0;
    std::string path;  // unix_path: absolute path

    bool is_inet() const { return kind != Kind::unix_path; }
    std::string to_string() const;
};

Result<ListenAddress> parse_listen_address(std::string_view text);

struct ListenerOptions {
    unsigned socket_mode = 0660;  // unix sockets only
    uid_t owner = static_cast<uid_t>(-1);  // chown the unix socket to this user/group when set
    gid_t group = static_cast<gid_t>(-1);
    int backlog = 512;
};

// Socket, bind, listen; TCP_NODELAY on inet sockets (accepted ones inherit it).
Result<UniqueFd> open_listener(const ListenAddress& address, const ListenerOptions& options);

}  // namespace tenantmail::policyd
