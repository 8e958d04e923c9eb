// daemon.h — the process chores both daemons share: detach into the
// background, write and remove a pid file, and give up root for an
// unprivileged user once keys are read and sockets are open.
// Each returns a Result naming what failed; none of them logs.
#pragma once

#include <string>

#include "common/result.h"

namespace tenantmail {

// fork, setsid, chdir("/"), stdin/stdout/stderr to /dev/null. Only the child
// returns. Call before any thread is started.
Result<void> detach_from_terminal();

// Writes the current pid; refuses when the file names a live process.
Result<void> write_pidfile(const std::string& path);
void remove_pidfile(const std::string& path);

// setgid/initgroups/setuid to user (no-op when already that user). Refuses
// to go on when any step fails, so the daemon never runs half-privileged.
Result<void> drop_privileges(const std::string& user);

}  // namespace tenantmail
