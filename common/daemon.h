// daemon.h — the process chores the daemons share: detach into the
// background, write and remove a pid file, and give up root for an
// unprivileged user once keys are read and sockets are open.
// Each returns a Result naming what failed; none of them logs, except
// cannot_start, whose job that is.
#pragma once

#include <string>

#include "common/result.h"

namespace tenantmail {

// The first thing every program does: no core dump (a milter's core holds
// every tenant's private key) and no ptrace or /proc/PID/mem by other
// processes of the same user (PR_SET_DUMPABLE 0). Cannot fail in a way
// worth stopping for: a kernel without prctl still gets RLIMIT_CORE 0.
void keep_secrets_out_of_core_dumps();

// fork, setsid, chdir("/"), stdin/stdout/stderr to /dev/null. Only the child
// returns. Call before any thread is started.
Result<void> detach_from_terminal();

// Writes the current pid; refuses when the file names a live process.
Result<void> write_pidfile(const std::string& path);
void remove_pidfile(const std::string& path);

// setgid/initgroups/setuid to user (no-op when already that user). Refuses
// to go on when any step fails, so the daemon never runs half-privileged.
Result<void> drop_privileges(const std::string& user);

// What every daemon does once its privileged work is done (keys and
// secrets read, sockets open), in this order: give up root for user (when
// set), detach (unless foreground), write pidfile (when set). Also ignores
// SIGPIPE: hiredis and the sockets write with write(), and a peer that went
// away must be an error on that connection, not the death of the daemon.
Result<void> become_daemon(const std::string& user, bool foreground, const std::string& pidfile);

// Logs "cannot start: MESSAGE" and, unless in the foreground (where the log
// is stderr already), says it on stderr too, for whoever started the daemon.
// Returns 1, the exit status.
int cannot_start(const char* program, bool foreground, const std::string& message);

}  // namespace tenantmail
