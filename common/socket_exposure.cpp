#include "common/socket_exposure.h"

#include <pwd.h>

#include <mutex>

namespace tenantmail {

bool is_network_socket(std::string_view spec) {
    return !(spec.starts_with("unix:") || spec.starts_with("local:") || spec.starts_with("/"));
}

std::string network_socket_warning(std::string_view what, std::string_view spec) {
    return "the " + std::string(what) + " " + std::string(spec) +
           " is a TCP socket: any local process can connect, claim any SASL login and so act as any tenant; "
           "use a unix socket in a directory only the MTA can enter (see \"Security model\" in the README)";
}

std::vector<std::string> login_accounts() {
    // getpwent walks one process-wide cursor.
    static std::mutex cursor;
    const std::lock_guard<std::mutex> lock(cursor);
    std::vector<std::string> accounts;
    ::setpwent();
    while (const passwd* entry = ::getpwent()) {
        const std::string_view shell = entry->pw_shell == nullptr ? "" : entry->pw_shell;
        const bool no_login = shell.empty() || shell.ends_with("/nologin") || shell.ends_with("/false");
        if (entry->pw_uid >= 1000 && entry->pw_uid != 65534 && !no_login) accounts.emplace_back(entry->pw_name);
    }
    ::endpwent();
    return accounts;
}

}  // namespace tenantmail
