"""redis_server: redis-server on loopback, without persistence, for tests.

stop() and start() again reuse the same port, for tests that take Redis away
mid-run. command() speaks RESP itself (standard library only), one
connection per command.
"""

from __future__ import annotations

import os
import socket
from typing import Sequence

from managed_process import ManagedProcess
from net import LOOPBACK, MailstackError, free_port, wait_until

REDIS_SERVER = "/usr/bin/redis-server"


class RedisServer(ManagedProcess):
    """redis-server on 127.0.0.1 without persistence; stop() and start()
    again reuse the same port (for tests that take Redis away mid-run)."""

    def __init__(self, directory: str, port: int | None = None,
                 extra_args: Sequence[str] = ()):
        self.directory = os.path.join(os.path.abspath(directory), "redis")
        super().__init__(os.path.join(self.directory, "redis.log"))
        self.port = port or free_port()
        self.extra_args = list(extra_args)

    def __repr__(self):
        return f"RedisServer(port={self.port}, pid={self.proc.pid if self.proc else None})"

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}"

    @property
    def running(self) -> bool:
        return self.alive()

    def start(self, timeout: float = 10.0) -> "RedisServer":
        if self.running:
            return self
        os.makedirs(self.directory, exist_ok=True)
        argv = [REDIS_SERVER, "--bind", LOOPBACK, "--port", str(self.port),
                "--save", "", "--appendonly", "no", "--dir", self.directory,
                "--daemonize", "no", "--logfile", self.log_path,
                "--protected-mode", "yes", *self.extra_args]
        self.spawn(argv, log_output=False)  # it writes log_path itself (--logfile)

        def pong():
            if self.proc.poll() is not None:
                raise MailstackError(f"redis-server exited with status {self.proc.returncode};"
                                     f" see {self.log_path}")
            return self.ping()
        try:
            wait_until(pong, timeout, f"redis-server PONG on {LOOPBACK}:{self.port}")
        except Exception:
            self.stop()
            raise
        return self

    def ping(self) -> bool:
        try:
            return self.command("PING", timeout=1.0) == "PONG"
        except (OSError, MailstackError):
            return False

    def command(self, *args, timeout: float = 5.0):
        """Send one command (RESP); return str/int/list/None; raise on -ERR."""
        req = f"*{len(args)}\r\n".encode()
        for a in args:
            b = a if isinstance(a, bytes) else str(a).encode()
            req += b"$%d\r\n%s\r\n" % (len(b), b)
        with socket.create_connection((LOOPBACK, self.port), timeout=timeout) as s:
            s.sendall(req)
            with s.makefile("rb") as f:
                return resp_read(f)


def resp_read(f):
    line = f.readline()
    if not line:
        raise MailstackError("redis: connection closed")
    kind, rest = line[:1], line[1:].rstrip(b"\r\n")
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise MailstackError(f"redis: {rest.decode()}")
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)[:-2]
        try:
            return data.decode()
        except UnicodeDecodeError:
            return data
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [resp_read(f) for _ in range(n)]
    raise MailstackError(f"redis: unexpected reply {line!r}")
