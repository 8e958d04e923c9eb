// socket_exposure.h — who can reach a daemon's listening socket. The milter
// and policy protocols carry no authentication: whoever connects can claim
// any SASL login, and so any tenant. A unix socket in a directory only the
// MTA can enter keeps them private; a TCP socket, even on loopback, is open
// to every local process. This module names that risk in one wording for
// the daemons' start-up warning and `tenantmailctl check-config`.
// is_network_socket is pure; login_accounts reads the password database.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tenantmail {

// The socket syntax of the milter and policyd options: inet:PORT@HOST,
// inet6:PORT@HOST, unix:/path, local:/path (and libmilter's bare
// "PORT@HOST" as inet). True for anything that is not a unix socket.
bool is_network_socket(std::string_view spec);

// The warning for a network socket (without a "warning:" prefix, which the
// logger or check-config adds): what any local user can do
// through it, and what to use instead. what: "milter socket", "policy socket".
std::string network_socket_warning(std::string_view what, std::string_view spec);

// Accounts people log in with: uid >= 1000 (Debian's first user id), not
// nobody, with a shell that is not nologin or false. On a host with any of
// them a TCP socket is an open door to a tenant's signature.
std::vector<std::string> login_accounts();

}  // namespace tenantmail
