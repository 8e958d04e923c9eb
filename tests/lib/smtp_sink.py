"""smtp_sink: Postfix's smtp-sink as the "remote side" of a test.

Every message it accepts is stored as its own file (`-d`). smtp-sink writes
the file while the transaction is in progress: a file is complete when the
sink no longer holds it open (checked via /proc/PID/fd). Its -f / -r options
reject a command for every client; for per-recipient answers use
ScriptedSmtpServer. Standard library only.
"""

from __future__ import annotations

import contextlib
import os
from typing import Iterable, Sequence

from commands import is_root, postfix_ids
from managed_process import ManagedProcess
from net import LOOPBACK, MailstackError, free_port, wait_port, wait_until
from sink_message import SinkMessage, parse_sink_file

SMTP_SINK = "/usr/sbin/smtp-sink"


class SmtpSink(ManagedProcess):
    """Postfix's smtp-sink on 127.0.0.1, one file per received message.

        with SmtpSink(tmp) as sink:
            ... relayhost = [127.0.0.1]:sink.port ...
            msgs = sink.received(1, timeout=10)

    hard_reject / soft_reject: SMTP commands (e.g. ["RCPT"]) that the sink
    rejects with 5xx / 4xx for every client (-f / -r). For per-recipient
    answers use ScriptedSmtpServer."""

    def __init__(self, directory: str, port: int | None = None,
                 hard_reject: Iterable[str] = (), soft_reject: Iterable[str] = (),
                 hard_reply: str | None = None, soft_reply: str | None = None,
                 extra_args: Sequence[str] = ()):
        self.directory = os.path.abspath(directory)
        super().__init__(os.path.join(self.directory, "smtp-sink.log"))
        self.dump_dir = os.path.join(self.directory, "sink")
        self.port = port or free_port()
        self.hard_reject = list(hard_reject)
        self.soft_reject = list(soft_reject)
        self.hard_reply = hard_reply
        self.soft_reply = soft_reply
        self.extra_args = list(extra_args)

    def __repr__(self):
        return f"SmtpSink(port={self.port}, pid={self.proc.pid if self.proc else None})"

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def start(self, timeout: float = 10.0) -> "SmtpSink":
        if self.alive():
            return self
        os.makedirs(self.dump_dir, exist_ok=True)
        argv = [SMTP_SINK]
        if is_root():
            uid, gid = postfix_ids()
            os.chown(self.dump_dir, uid, gid)
            argv += ["-u", "postfix"]
        if self.hard_reject:
            argv += ["-f", ",".join(self.hard_reject)]
        if self.soft_reject:
            argv += ["-r", ",".join(self.soft_reject)]
        if self.hard_reply:
            argv += ["-B", self.hard_reply]
        if self.soft_reply:
            argv += ["-b", self.soft_reply]
        argv += self.extra_args
        argv += ["-d", os.path.join(self.dump_dir, "%Y%m%d%H%M%S."), self.address, "1024"]
        self.spawn(argv)
        try:
            wait_port(self.port, timeout, "smtp-sink", self.proc)
        except Exception:
            self.stop()
            raise
        return self

    def _open_files(self) -> set[str]:
        if self.proc is None or self.proc.poll() is not None:
            return set()
        fd_dir = f"/proc/{self.proc.pid}/fd"
        open_paths = set()
        with contextlib.suppress(OSError):
            for fd in os.listdir(fd_dir):
                with contextlib.suppress(OSError):
                    open_paths.add(os.readlink(os.path.join(fd_dir, fd)))
        return open_paths

    def message_paths(self) -> list[str]:
        """Files of completed transactions, oldest first."""
        try:
            names = os.listdir(self.dump_dir)
        except FileNotFoundError:
            return []
        busy = self._open_files()
        paths = [os.path.join(self.dump_dir, n) for n in names]
        paths = [p for p in paths if p not in busy]
        return sorted(paths, key=lambda p: (os.stat(p).st_mtime_ns, p))

    def count(self) -> int:
        return len(self.message_paths())

    def wait_for(self, n: int, timeout: float = 10.0) -> list[str]:
        """Wait until at least n messages are stored; return all their paths."""
        def enough():
            if self.proc is not None and self.proc.poll() is not None:
                raise MailstackError(f"smtp-sink exited with status {self.proc.returncode}")
            paths = self.message_paths()
            return paths if len(paths) >= n else None
        return wait_until(enough, timeout, f"{n} message(s) at smtp-sink {self.address}"
                          f" (have {self.count()})", interval=0.05)

    def received(self, n: int = 0, timeout: float = 10.0) -> list[SinkMessage]:
        """Parsed messages; with n > 0, first wait until there are n."""
        paths = self.wait_for(n, timeout) if n > 0 else self.message_paths()
        return [parse_sink_file(p) for p in paths]

    parse = staticmethod(parse_sink_file)
