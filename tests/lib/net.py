"""net: loopback, ports and waiting, shared by every test component.

Everything the tests start listens on LOOPBACK only. wait_until() is the one
way to wait for something to happen (never a bare sleep); it raises
MailstackError, the error every component of the test stack raises when it
cannot be started, stopped or queried. workdir() is the temp directory a
test runs in. Standard library only.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from typing import Callable

LOOPBACK = "127.0.0.1"


class MailstackError(RuntimeError):
    """A component could not be started, stopped or queried."""


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port that was free a moment ago on host (the race is accepted)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_until(predicate: Callable[[], object], timeout: float, what: str,
               interval: float = 0.02):
    """Poll predicate until it returns something truthy; return that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise MailstackError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)


def port_open(port: int, host: str = LOOPBACK) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_port(port: int, timeout: float, what: str,
              proc: subprocess.Popen | None = None) -> None:
    def ready():
        if proc is not None and proc.poll() is not None:
            raise MailstackError(f"{what} exited with status {proc.returncode}")
        return port_open(port)
    wait_until(ready, timeout, f"{what} to listen on {LOOPBACK}:{port}")


@contextlib.contextmanager
def workdir(prefix: str = "tenantmail-test-"):
    """A temp directory usable by Postfix (mode 0755), removed on exit unless
    the environment variable TM_KEEP_TMP is set (then its path is printed)."""
    path = tempfile.mkdtemp(prefix=prefix)
    os.chmod(path, 0o755)
    try:
        yield path
    finally:
        if os.environ.get("TM_KEEP_TMP"):
            print(f"mailstack: kept {path}", flush=True)
        else:
            shutil.rmtree(path, ignore_errors=True)

