"""commands: run the system's mail tools the way the tests need them.

Every command gets a clean environment (no MAIL_CONFIG, a PATH with the
sbin directories): we pass `-c DIR` to Postfix commands everywhere instead.
run() raises MailstackError with the command's output when it fails;
run_on_tty() exists because Postfix commands print their diagnostics only
when stderr is a terminal (otherwise they go to syslog, absent here).
Standard library only.
"""

from __future__ import annotations

import errno
import grp
import os
import pty
import pwd
import select
import subprocess
import time
from typing import Mapping, Sequence

from net import MailstackError


def is_root() -> bool:
    return os.geteuid() == 0


def postfix_ids() -> tuple[int, int]:
    return pwd.getpwnam("postfix").pw_uid, grp.getgrnam("postfix").gr_gid


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "MAIL_CONFIG"}
    env["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin"
    return env


def run_on_tty(argv: Sequence[str], timeout: float = 60.0,
               env: Mapping[str, str] | None = None) -> tuple[int, str]:
    """Run argv with stdout/stderr on a pseudo-terminal; return (status, output).

    Postfix commands print their diagnostics only when stderr is a terminal.
    A daemon the command leaves behind may keep the terminal open, so we stop
    reading when the command itself exits."""
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=slave,
                                stderr=slave, env=dict(env or clean_env()),
                                start_new_session=True, close_fds=True)
    finally:
        os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            done = proc.poll() is not None
            r, _, _ = select.select([master], [], [], 0 if done else 0.05)
            if r:
                try:
                    data = os.read(master, 65536)
                except OSError as exc:  # EIO: every writer closed the terminal
                    if exc.errno != errno.EIO:
                        raise
                    data = b""
                if data:
                    chunks.append(data)
                    continue
                if not done:
                    proc.wait(max(0.0, deadline - time.monotonic()))
                break
            if done:
                break
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                raise MailstackError(f"{' '.join(argv)}: timed out after {timeout:g}s")
    finally:
        os.close(master)
    return proc.returncode, b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")


def run(argv: Sequence[str], timeout: float = 30.0, check: bool = True,
        input: bytes | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run(list(argv), input=input, capture_output=True,
                          timeout=timeout, env=clean_env())
    if check and proc.returncode != 0:
        raise MailstackError(
            f"{' '.join(argv)} exited {proc.returncode}: "
            f"{proc.stdout.decode(errors='replace')}{proc.stderr.decode(errors='replace')}")
    return proc
