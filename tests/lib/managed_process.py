"""managed_process: the one way the tests start and stop what they run.

Everything started is stopped by PID, never by process name:
  * every component is a context manager (ManagedComponent), and is also
    registered so that stop_all(), an atexit hook, stops what is left;
    SIGTERM/SIGHUP are turned into SystemExit so `finally` blocks and the
    hook run;
  * against SIGKILL (what ctest's timeout sends, to our descendants only:
    a daemonized Postfix master is not one) each started process gets a
    detached Watchdog that SIGTERMs its PID when this Python process
    disappears without stopping it.
ManagedProcess is the base of every component that is a process: spawn
with output appended to log_path, stop by PID (SIGTERM, SIGKILL after
stop_timeout), log() / count_log() / wait_log() to wait on what it said.
Standard library only.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import signal
import subprocess
import threading
from typing import Sequence

from commands import clean_env
from net import wait_until, workdir

# ---------------------------------------------------------------------------
# Cleanup registry: everything started is stopped by PID at exit.

_live_lock = threading.Lock()
_live: dict[int, object] = {}
_signals_installed = False


def register(obj) -> None:
    global _signals_installed
    with _live_lock:
        _live[id(obj)] = obj
    if not _signals_installed and threading.current_thread() is threading.main_thread():
        _signals_installed = True
        for sig in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(sig) in (signal.SIG_DFL, None):
                signal.signal(sig, _exit_on_signal)


def unregister(obj) -> None:
    with _live_lock:
        _live.pop(id(obj), None)


def _exit_on_signal(signum, _frame):
    raise SystemExit(128 + signum)


@atexit.register
def stop_all() -> None:
    """Stop every component still running (newest first). Safe to call twice."""
    with _live_lock:
        objs = list(_live.values())
    for obj in reversed(objs):
        try:
            obj.stop()
        except Exception as exc:  # keep stopping the others
            print(f"mailstack: stopping {obj!r} failed: {exc}", flush=True)


@contextlib.contextmanager
def managed_workdir(prefix: str = "tenantmail-test-"):
    """workdir() whose components are all stopped before it is removed, so
    nothing still writes into a directory being deleted."""
    with workdir(prefix) as path:
        try:
            yield path
        finally:
            stop_all()


# ---------------------------------------------------------------------------
# Processes by PID.

def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2:][:1] not in (b"Z", b"X")


def group_members(pgid: int) -> list[int]:
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        if fields[0] not in (b"Z", b"X") and int(fields[2]) == pgid:
            pids.append(int(name))
    return pids


def stop_child(proc: subprocess.Popen | None, timeout: float = 5.0) -> None:
    """SIGTERM a child we started (by PID), SIGKILL if it lingers, reap it."""
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        proc.wait(5)


def read_text(path: str) -> str:
    """A log file's text so far; "" while the program has not written it yet."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


class Watchdog:
    """Stops a process by PID even if this Python process is SIGKILLed (e.g.
    by a ctest timeout, which kills only our descendants): a detached shell
    (its own session, reparented to init) waits on a pipe that only we hold;
    EOF without "stopped" means we died, and it sends SIGTERM to the PID."""

    def __init__(self, pid: int):
        r, self._w = os.pipe()
        try:
            script = (f'( read line; [ "$line" = stopped ] || kill -TERM {int(pid)} ) '
                      f'<&{r} >/dev/null 2>&1 &')
            subprocess.Popen(["/bin/sh", "-c", script], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             pass_fds=(r,), start_new_session=True).wait()
        finally:
            os.close(r)

    def disarm(self) -> None:
        if self._w is not None:
            with contextlib.suppress(OSError):
                os.write(self._w, b"stopped\n")
            os.close(self._w)
            self._w = None


# ---------------------------------------------------------------------------
# The bases.

class ManagedComponent:
    """Something a test starts and must stop: start() returns self, stop()
    is safe to call twice, and `with` does both."""

    def start(self):
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class ManagedProcess(ManagedComponent):
    """A process we started (self.proc) or adopted by PID (watch()), whose
    output goes to log_path. Subclasses say how to start it and when it is
    ready; stop() is by PID and disarms the watchdog."""

    stop_timeout = 5.0
    log_name = "log"   # how wait_log() names the log in a timeout

    def __init__(self, log_path: str):
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self._watchdog: Watchdog | None = None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def spawn(self, argv: Sequence[str], *, log_output: bool = True,
              extra_env: dict[str, str] | None = None, cwd: str | None = None,
              new_session: bool = False) -> subprocess.Popen:
        """Start argv (stdout and stderr appended to log_path unless
        log_output is False) under the watchdog and the registry.
        new_session: its own process group, for daemons that fork workers."""
        env = {**clean_env(), **(extra_env or {})}
        with contextlib.ExitStack() as files:
            out = files.enter_context(open(self.log_path, "ab")) if log_output \
                else subprocess.DEVNULL
            self.proc = subprocess.Popen(
                list(argv), stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT if log_output else subprocess.DEVNULL,
                env=env, cwd=cwd, start_new_session=new_session)
        self.watch(self.proc.pid)
        return self.proc

    def watch(self, pid: int) -> None:
        """Put pid under a watchdog and self in the registry."""
        self._watchdog = Watchdog(pid)
        register(self)

    def release(self) -> None:
        """Disarm the watchdog and leave the registry (the process is gone)."""
        if self._watchdog:
            self._watchdog.disarm()
            self._watchdog = None
        unregister(self)

    def stop(self, timeout: float | None = None) -> int | None:
        """SIGTERM by PID (SIGKILL after timeout); returns the exit status."""
        stop_child(self.proc, self.stop_timeout if timeout is None else timeout)
        self.release()
        return self.proc.returncode if self.proc else None

    def log(self) -> str:
        return read_text(self.log_path)

    def log_lines(self, pattern: str) -> list[str]:
        rx = re.compile(pattern)
        return [line for line in self.log().splitlines() if rx.search(line)]

    def count_log(self, pattern: str) -> int:
        return len(self.log_lines(pattern))

    def wait_log(self, pattern: str, timeout: float = 10.0, count: int = 1) -> list[str]:
        """Wait until count log lines match the regex pattern; return them."""
        def matches():
            lines = self.log_lines(pattern)
            return lines if len(lines) >= count else None
        return wait_until(matches, timeout, f"{self.log_name} line matching {pattern!r}",
                          interval=0.05)
