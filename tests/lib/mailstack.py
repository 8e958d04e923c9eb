"""mailstack: start real mail components on loopback for tenantmail's tests.

Integration tests (and scripts/demo.sh) use this module to run, inside a temp
directory and on 127.0.0.1 only:

  * SmtpSink            Postfix's smtp-sink as the "remote side"; every message
                        it accepts is stored as its own file.
  * ScriptedSmtpServer  a small asyncio SMTP server (standard library only) that
                        answers RCPT per recipient from a table, for hard/soft
                        rejects of some recipients (smtp-sink cannot do that:
                        its -f/-r options reject a command for every client).
  * RedisServer         redis-server without persistence; can be stopped and
                        started again on the same port.
  * PrivatePostfix      a private Postfix instance (`postfix -c DIR start`)
                        with a plain port-25-like smtpd and a submission smtpd
                        (STARTTLS required, Cyrus SASL AUTH against a private
                        sasldb), optionally with a milter and a policy service.
  * send_with_swaks(), send_smtp(), smtp_load(), smtp_source(): clients.

Everything started is stopped by PID: every component is a context manager,
is also registered for an atexit hook, and SIGTERM/SIGHUP are turned into
SystemExit so that `finally` blocks and the hook run. Against SIGKILL (what
ctest's timeout sends, to our descendants only — a daemonized Postfix master
is not one) each started process gets a detached watchdog that SIGTERMs its
PID when this Python process disappears without stopping it. Nothing is ever
stopped by process name.

Use Debian's /usr/bin/python3 (standard library only).

What running a private Postfix on Debian 12 (Postfix 3.7) needs — found out
while writing this module:

  * /etc/postfix/main.cf does not need to exist (Debian's postfix package was
    installed "No configuration"). `postfix -c DIR`, `postconf -c DIR` and
    `postqueue -c DIR` are self-contained when run as root: nothing reads the
    default main.cf, and alternate_config_directories / MAIL_CONFIG are not
    needed (those only matter for unprivileged users of set-gid commands such
    as postqueue/postdrop). We pass `-c DIR` everywhere and drop MAIL_CONFIG
    from the environment.
  * meta_directory = DIR means `postfix check`/`start` (post-install) look for
    DIR/postfix-files and Postfix reads DIR/dynamicmaps.cf. They are copied
    from /etc/postfix (with their .d directories) into the config directory.
  * Postfix commands log to stderr only when stderr is a terminal; otherwise
    to syslog, which does not exist here (/dev/log is absent). `postfix check`
    then fails with exit 1 and no output at all. We run postfix check/start
    on a pseudo-terminal to capture the reason.
  * maillog_file must start with one of maillog_file_prefixes (default
    /var, /dev/stdout): a log file in a temp dir needs
    maillog_file_prefixes = DIR, or Postfix refuses to start. Logging then
    goes through the postlogd service, which master.cf must list.
  * queue_directory and data_directory must not be inside the config
    directory: `postfix check` walks the config directory and warns about
    every queue directory "not owned by root". Layout used here:
    DIR/etc (config + meta), DIR/queue, DIR/data, DIR/postfix.log.
  * chroot is off for every service, so processes running as 'postfix'
    open absolute paths: DIR (and its parents) must be traversable by
    'postfix' (we chmod DIR 0755; mkdtemp makes it 0700), and the sasldb
    must be readable by the postfix group (root:postfix 0640). The TLS key
    is read by smtpd before it drops privileges, so it may stay 0600 root.
  * `postfix start` repeats the integrity check (check-fatal, check-warn) that
    `postfix check` just did; after a clean check we create
    queue/quick-start, Postfix's own marker to skip it once.
  * `postfix stop` sleeps in 1 s steps while waiting for master to exit. We
    send SIGTERM to the master PID (queue/pid/master.pid) and poll its
    process group instead (master runs its own session and process group;
    its children are in it), escalating to SIGKILL of that group.
  * Postfix re-reads a main.cf whose mtime is within the last ~2 seconds,
    every 300 ms, until it is older (guarding against half-written files):
    every postfix/postconf command right after writing main.cf stalled ~2 s.
    We backdate main.cf/master.cf with os.utime after writing them.
  * Cyrus SASL: Debian's Postfix reads smtpd.conf from $config_directory/sasl
    (DIR/etc/sasl/smtpd.conf) whatever cyrus_sasl_config_path says (strace
    shows it never opens the configured path; Debian's README: "SASL
    configuration goes in /etc/postfix/sasl"). With a smtpd.conf elsewhere,
    Cyrus falls back to /etc/sasldb2 and every AUTH fails "454 4.7.0
    Temporary authentication failure" (Permission denied in the log).
  * SASL names: with smtpd_sasl_local_domain empty, a login "user@example.com"
    is looked up as user "user" in realm "example.com" (saslpasswd2 -u
    example.com user) and a login without "@" in realm $myhostname; Postfix
    then reports the login exactly as typed (sasl_username, {auth_authen}).
    With smtpd_sasl_local_domain = X, a plain login "u" is reported as
    "u@X" instead. add_sasl_user() stores logins accordingly.
  * swaks needs Net::SSLeay (Debian: libnet-ssleay-perl) for --tls; without
    it `swaks --tls` fails before connecting. It is in
    scripts/install-deps.sh.
  * smtp-sink with -d writes the file while the transaction is in progress;
    a file is complete when the sink no longer holds it open (checked via
    /proc/PID/fd). It un-dot-stuffs, stores lines with LF, prepends
    X-Client-Addr, X-Client-Proto, X-Helo-Args, X-Mail-Args ("<addr> PARAMS"),
    one X-Rcpt-Args per RCPT and a three-line Received header, and appends
    one empty line. parse_sink_file() undoes all that and returns the
    message with CRLF line ends, as it was on the wire (bare CRs cannot be
    recovered from the dump).
  * swaks --data FILE dot-stuffs but sends one extra CRLF before the final
    dot (the receiver sees an extra empty line at the end of the body;
    harmless for DKIM, whose body canonicalisations drop trailing empty
    lines). send_smtp() (smtplib) sends bytes unchanged.

Load through the authenticated path: smtp-source cannot AUTH or STARTTLS.
Two ways are provided: (1) identify the tenant by client network — every
connection to the plain port comes from 127.0.0.1, so a tenant with
networks = 127.0.0.1/32 gets all smtp-source traffic (smtp_source());
(2) smtp_load(): N Python threads, each one SMTP session with STARTTLS and
AUTH on the submission port sending M messages over that one session
(parallel swaks would cost a Perl start-up per message).
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import contextlib
import dataclasses
import email
import email.policy
import email.utils
import errno
import grp
import json
import os
import pty
import pwd
import re
import select
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from typing import Callable, Iterable, Mapping, Sequence

LOOPBACK = "127.0.0.1"
SMTP_SINK = "/usr/sbin/smtp-sink"
SMTP_SOURCE = "/usr/sbin/smtp-source"
POSTFIX = "/usr/sbin/postfix"
POSTCONF = "/usr/sbin/postconf"
POSTQUEUE = "/usr/sbin/postqueue"
SASLPASSWD2 = "/usr/sbin/saslpasswd2"
SWAKS = "/usr/bin/swaks"
OPENSSL = "/usr/bin/openssl"
REDIS_SERVER = "/usr/bin/redis-server"
POSTFIX_META_FILES = ("postfix-files", "postfix-files.d", "dynamicmaps.cf",
                      "dynamicmaps.cf.d")


class MailstackError(RuntimeError):
    """A component could not be started, stopped or queried."""


# ---------------------------------------------------------------------------
# Cleanup registry: everything started is stopped by PID at exit.

_live_lock = threading.Lock()
_live: dict[int, object] = {}
_signals_installed = False


def _register(obj) -> None:
    global _signals_installed
    with _live_lock:
        _live[id(obj)] = obj
    if not _signals_installed and threading.current_thread() is threading.main_thread():
        _signals_installed = True
        for sig in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(sig) in (signal.SIG_DFL, None):
                signal.signal(sig, _exit_on_signal)


def _unregister(obj) -> None:
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


# ---------------------------------------------------------------------------
# Small helpers.

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


def _wait_port(port: int, timeout: float, what: str,
               proc: subprocess.Popen | None = None) -> None:
    def ready():
        if proc is not None and proc.poll() is not None:
            raise MailstackError(f"{what} exited with status {proc.returncode}")
        return port_open(port)
    wait_until(ready, timeout, f"{what} to listen on {LOOPBACK}:{port}")


def _is_root() -> bool:
    return os.geteuid() == 0


def _postfix_ids() -> tuple[int, int]:
    return pwd.getpwnam("postfix").pw_uid, grp.getgrnam("postfix").gr_gid


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "MAIL_CONFIG"}
    env["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin"
    return env


def _pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2:][:1] not in (b"Z", b"X")


def _group_members(pgid: int) -> list[int]:
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


def _stop_child(proc: subprocess.Popen | None, timeout: float = 5.0) -> None:
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


class _Watchdog:
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


def run_on_tty(argv: Sequence[str], timeout: float = 60.0,
               env: Mapping[str, str] | None = None) -> tuple[int, str]:
    """Run argv with stdout/stderr on a pseudo-terminal; return (status, output).

    Postfix commands print their diagnostics only when stderr is a terminal.
    A daemon the command leaves behind may keep the terminal open, so we stop
    reading when the command itself exits."""
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=slave,
                                stderr=slave, env=dict(env or _clean_env()),
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


def _run(argv: Sequence[str], timeout: float = 30.0, check: bool = True,
         input: bytes | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run(list(argv), input=input, capture_output=True,
                          timeout=timeout, env=_clean_env())
    if check and proc.returncode != 0:
        raise MailstackError(
            f"{' '.join(argv)} exited {proc.returncode}: "
            f"{proc.stdout.decode(errors='replace')}{proc.stderr.decode(errors='replace')}")
    return proc


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


# ---------------------------------------------------------------------------
# Messages as the remote side received them.

@dataclasses.dataclass
class SinkMessage:
    """One mail transaction as received by SmtpSink or ScriptedSmtpServer."""
    sender: str                      # envelope sender, without <>; "" for null
    recipients: list[str]            # accepted envelope recipients, without <>
    data: bytes                      # message (headers + body), CRLF line ends
    mail_params: str = ""            # e.g. "SIZE=123 BODY=8BITMIME"
    rcpt_params: list[str] = dataclasses.field(default_factory=list)
    helo: str = ""
    client_addr: str = ""
    path: str | None = None          # dump file, if any

    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)

    def header(self, name: str) -> list[str]:
        """Raw (unfolded, stripped) values of every header field called name."""
        head = self.data.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
        values = []
        for m in re.finditer(r"^([^:\s]+):([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)", head, re.M):
            if m.group(1).lower() == name.lower():
                values.append(re.sub(r"\r\n(?=[ \t])", "", m.group(2)).strip())
        return values


def _split_addr_args(text: str) -> tuple[str, str]:
    text = text.strip()
    m = re.match(r"<([^>]*)>\s*(.*)$", text)
    if m:
        return m.group(1), m.group(2)
    addr, _, rest = text.partition(" ")
    return addr, rest.strip()


def parse_sink_file(path: str) -> SinkMessage:
    """Parse a file written by `smtp-sink -d` (or ScriptedSmtpServer).

    Returns the envelope and the message exactly as the client sent it after
    un-dot-stuffing, with CRLF line ends and without the sink's own headers."""
    with open(path, "rb") as f:
        raw = f.read()
    lines = raw.split(b"\n")
    fields: dict[str, list[str]] = collections.defaultdict(list)
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith(b"Received: "):
            i += 3  # three-line Received header closes the sink's block
            break
        name, sep, value = line.partition(b": ")
        if not sep or not name.startswith(b"X-"):
            raise MailstackError(f"{path}: not an smtp-sink dump (line {i + 1}: {line[:60]!r})")
        fields[name.decode()].append(value.decode("utf-8", "replace"))
        i += 1
    body_lines = lines[i:]
    # The dump ends with "\n" after the last message line plus one empty line.
    if len(body_lines) >= 2 and body_lines[-1] == b"" and body_lines[-2] == b"":
        body_lines = body_lines[:-2]
    elif body_lines and body_lines[-1] == b"":
        body_lines = body_lines[:-1]
    data = b"".join(line + b"\r\n" for line in body_lines)
    sender, mail_params = _split_addr_args((fields.get("X-Mail-Args") or [""])[0])
    recipients, rcpt_params = [], []
    for arg in fields.get("X-Rcpt-Args", []):
        addr, params = _split_addr_args(arg)
        recipients.append(addr)
        rcpt_params.append(params)
    return SinkMessage(sender=sender, recipients=recipients, data=data,
                       mail_params=mail_params, rcpt_params=rcpt_params,
                       helo=(fields.get("X-Helo-Args") or [""])[0],
                       client_addr=(fields.get("X-Client-Addr") or [""])[0],
                       path=path)


# ---------------------------------------------------------------------------
# smtp-sink

class SmtpSink:
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
        self.dump_dir = os.path.join(self.directory, "sink")
        self.port = port or free_port()
        self.hard_reject = list(hard_reject)
        self.soft_reject = list(soft_reject)
        self.hard_reply = hard_reply
        self.soft_reply = soft_reply
        self.extra_args = list(extra_args)
        self.proc: subprocess.Popen | None = None
        self._watchdog: _Watchdog | None = None
        self.log_path = os.path.join(self.directory, "smtp-sink.log")

    def __repr__(self):
        return f"SmtpSink(port={self.port}, pid={self.proc.pid if self.proc else None})"

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def start(self, timeout: float = 10.0) -> "SmtpSink":
        if self.proc is not None and self.proc.poll() is None:
            return self
        os.makedirs(self.dump_dir, exist_ok=True)
        argv = [SMTP_SINK]
        if _is_root():
            uid, gid = _postfix_ids()
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
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, env=_clean_env())
        finally:
            log.close()
        self._watchdog = _Watchdog(self.proc.pid)
        _register(self)
        try:
            _wait_port(self.port, timeout, "smtp-sink", self.proc)
        except Exception:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        _stop_child(self.proc)
        if self._watchdog:
            self._watchdog.disarm()
            self._watchdog = None
        _unregister(self)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

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


# ---------------------------------------------------------------------------
# Pure-Python SMTP server with per-recipient answers.

Reply = str | Callable[..., str | None] | None


class ScriptedSmtpServer:
    """Loopback SMTP server (asyncio, in a thread) answering as told.

    rcpt_replies maps a recipient address (case-insensitive) to a reply line,
    e.g. {"gone@example.org": "550 5.1.1 no such user",
          "busy@example.org": "451 4.2.0 try later"}; other recipients get
    default_rcpt_reply. A value may be a callable(recipient, attempt) that
    returns a reply (attempt counts RCPTs for that address, from 1), so a
    test can defer first and accept on retry. mail_reply / data_reply may be
    strings or callables (sender) / (SinkMessage). Accepted messages are
    kept in .messages (and written in smtp-sink's dump format to
    directory/scripted/ when directory is given). Every RCPT answered is in
    .rcpt_log as (recipient, reply)."""

    def __init__(self, directory: str | None = None, port: int | None = None,
                 rcpt_replies: Mapping[str, Reply] | None = None,
                 default_rcpt_reply: str = "250 2.1.5 Ok",
                 mail_reply: Reply = None, data_reply: Reply = None,
                 hostname: str = "scripted-sink.test"):
        self.directory = os.path.abspath(directory) if directory else None
        self.port = port or free_port()
        self.hostname = hostname
        self._rcpt = {k.lower(): v for k, v in (rcpt_replies or {}).items()}
        self.default_rcpt_reply = default_rcpt_reply
        self.mail_reply = mail_reply
        self.data_reply = data_reply
        self.messages: list[SinkMessage] = []
        self.rcpt_log: list[tuple[str, str]] = []
        self._attempts: collections.Counter = collections.Counter()
        self._cond = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server = None
        self._writers: set = set()
        self._counter = 0

    def __repr__(self):
        return f"ScriptedSmtpServer(port={self.port})"

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def set_rcpt_reply(self, recipient: str, reply: Reply) -> None:
        with self._cond:
            if reply is None:
                self._rcpt.pop(recipient.lower(), None)
            else:
                self._rcpt[recipient.lower()] = reply

    def start(self, timeout: float = 10.0) -> "ScriptedSmtpServer":
        if self._thread is not None:
            return self
        if self.directory:
            os.makedirs(os.path.join(self.directory, "scripted"), exist_ok=True)
        started = threading.Event()
        failure: list[BaseException] = []

        def run():
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            try:
                self._server = loop.run_until_complete(asyncio.start_server(
                    self._session, LOOPBACK, self.port, limit=16 << 20,
                    reuse_address=True))
            except BaseException as exc:
                failure.append(exc)
                started.set()
                loop.close()
                return
            started.set()
            try:
                loop.run_forever()
            finally:
                self._server.close()
                for w in list(self._writers):
                    w.close()
                tasks = asyncio.all_tasks(loop)
                for t in tasks:
                    t.cancel()
                if tasks:
                    loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
                loop.close()

        self._thread = threading.Thread(target=run, name=f"scripted-smtp-{self.port}",
                                        daemon=True)
        self._thread.start()
        if not started.wait(timeout) or failure:
            self._thread = None
            raise MailstackError(f"ScriptedSmtpServer on {self.address} did not start: "
                                 f"{failure[0] if failure else 'timeout'}")
        _register(self)
        return self

    def stop(self) -> None:
        if self._thread is not None and self._loop is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._thread = None
        _unregister(self)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def wait_for(self, n: int, timeout: float = 10.0) -> list[SinkMessage]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.messages) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise MailstackError(f"timed out after {timeout:g}s waiting for {n} "
                                         f"message(s) at {self.address} "
                                         f"(have {len(self.messages)})")
                self._cond.wait(left)
            return list(self.messages)

    received = wait_for

    def count(self) -> int:
        with self._cond:
            return len(self.messages)

    # -- protocol ---------------------------------------------------------

    def _answer(self, reply: Reply, *args, default: str) -> str:
        if callable(reply):
            reply = reply(*args)
        return reply or default

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self._writers.add(writer)
        peer = writer.get_extra_info("peername") or ("", 0)
        helo, sender, mail_params = "", None, ""
        rcpts: list[str] = []
        rcpt_params: list[str] = []

        async def send(line: str):
            writer.write(line.encode() + b"\r\n")
            await writer.drain()

        try:
            await send(f"220 {self.hostname} ESMTP scripted")
            while True:
                raw = await reader.readline()
                if not raw:
                    return
                line = raw.rstrip(b"\r\n").decode("utf-8", "replace")
                verb, _, arg = line.partition(" ")
                verb = verb.upper()
                if verb == "EHLO":
                    helo, sender, rcpts, rcpt_params = arg, None, [], []
                    writer.write((f"250-{self.hostname}\r\n250-PIPELINING\r\n"
                                  "250-SIZE 104857600\r\n250-8BITMIME\r\n"
                                  "250 ENHANCEDSTATUSCODES\r\n").encode())
                    await writer.drain()
                elif verb == "HELO":
                    helo, sender, rcpts, rcpt_params = arg, None, [], []
                    await send(f"250 {self.hostname}")
                elif verb == "MAIL" and arg.upper().startswith("FROM:"):
                    addr, params = _split_addr_args(arg[5:])
                    reply = self._answer(self.mail_reply, addr, default="250 2.1.0 Ok")
                    if reply.startswith("2"):
                        sender, mail_params, rcpts, rcpt_params = addr, params, [], []
                    await send(reply)
                elif verb == "RCPT" and arg.upper().startswith("TO:"):
                    if sender is None:
                        await send("503 5.5.1 Error: need MAIL command")
                        continue
                    addr, params = _split_addr_args(arg[3:])
                    with self._cond:
                        self._attempts[addr.lower()] += 1
                        attempt = self._attempts[addr.lower()]
                        scripted = self._rcpt.get(addr.lower())
                    reply = self._answer(scripted, addr, attempt,
                                         default=self.default_rcpt_reply)
                    with self._cond:
                        self.rcpt_log.append((addr, reply))
                    if reply.startswith("2"):
                        rcpts.append(addr)
                        rcpt_params.append(params)
                    await send(reply)
                elif verb == "DATA":
                    if sender is None or not rcpts:
                        await send("554 5.5.1 Error: no valid recipients")
                        continue
                    await send("354 End data with <CR><LF>.<CR><LF>")
                    chunks = []
                    while True:
                        l = await reader.readline()
                        if not l:
                            return
                        if l in (b".\r\n", b".\n"):
                            break
                        if l.startswith(b"."):
                            l = l[1:]
                        chunks.append(l)
                    msg = SinkMessage(sender=sender, recipients=list(rcpts),
                                      data=b"".join(chunks), mail_params=mail_params,
                                      rcpt_params=list(rcpt_params), helo=helo,
                                      client_addr=peer[0])
                    reply = self._answer(self.data_reply, msg, default="250 2.0.0 Ok: queued")
                    if reply.startswith("2"):
                        self._store(msg)
                    sender, rcpts, rcpt_params = None, [], []
                    await send(reply)
                elif verb == "RSET":
                    sender, rcpts, rcpt_params = None, [], []
                    await send("250 2.0.0 Ok")
                elif verb == "NOOP":
                    await send("250 2.0.0 Ok")
                elif verb == "QUIT":
                    await send("221 2.0.0 Bye")
                    return
                else:
                    await send("502 5.5.2 Error: command not recognized")
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            return
        finally:
            self._writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()

    def _store(self, msg: SinkMessage) -> None:
        with self._cond:
            self._counter += 1
            if self.directory:
                path = os.path.join(self.directory, "scripted", f"{self._counter:06d}.msg")
                head = [f"X-Client-Addr: {msg.client_addr}", "X-Client-Proto: ESMTP",
                        f"X-Helo-Args: {msg.helo}",
                        f"X-Mail-Args: <{msg.sender}> {msg.mail_params}".rstrip()]
                head += [f"X-Rcpt-Args: <{r}> {p}".rstrip()
                         for r, p in zip(msg.recipients, msg.rcpt_params)]
                head += [f"Received: from {msg.helo} ([{msg.client_addr}])",
                         f"\tby {self.hostname} (scripted) with ESMTP id {self._counter:06d};",
                         f"\t{email.utils.formatdate(localtime=False)}"]
                body = msg.data.replace(b"\r\n", b"\n")
                with open(path, "wb") as f:
                    f.write("\n".join(head).encode() + b"\n" + body + b"\n")
                msg.path = path
            self.messages.append(msg)
            self._cond.notify_all()


# ---------------------------------------------------------------------------
# Redis

class RedisServer:
    """redis-server on 127.0.0.1 without persistence; stop() and start()
    again reuse the same port (for tests that take Redis away mid-run)."""

    def __init__(self, directory: str, port: int | None = None,
                 extra_args: Sequence[str] = ()):
        self.directory = os.path.join(os.path.abspath(directory), "redis")
        self.port = port or free_port()
        self.extra_args = list(extra_args)
        self.proc: subprocess.Popen | None = None
        self._watchdog: _Watchdog | None = None
        self.log_path = os.path.join(self.directory, "redis.log")

    def __repr__(self):
        return f"RedisServer(port={self.port}, pid={self.proc.pid if self.proc else None})"

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = 10.0) -> "RedisServer":
        if self.running:
            return self
        os.makedirs(self.directory, exist_ok=True)
        argv = [REDIS_SERVER, "--bind", LOOPBACK, "--port", str(self.port),
                "--save", "", "--appendonly", "no", "--dir", self.directory,
                "--daemonize", "no", "--logfile", self.log_path,
                "--protected-mode", "yes", *self.extra_args]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     env=_clean_env())
        self._watchdog = _Watchdog(self.proc.pid)
        _register(self)

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

    def stop(self) -> None:
        _stop_child(self.proc)
        if self._watchdog:
            self._watchdog.disarm()
            self._watchdog = None
        _unregister(self)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

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
                return _resp_read(f)


def _resp_read(f):
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
        return None if n < 0 else [_resp_read(f) for _ in range(n)]
    raise MailstackError(f"redis: unexpected reply {line!r}")


# ---------------------------------------------------------------------------
# Private Postfix

def _service_address(value: int | str | None) -> str | None:
    """A milter/policy endpoint: port -> inet:127.0.0.1:PORT, /path -> unix:/path."""
    if value is None:
        return None
    if isinstance(value, int):
        return f"inet:{LOOPBACK}:{value}"
    if value.startswith("/"):
        return f"unix:{value}"
    return value


# (name, owned by postfix, group postdrop, mode) as in /etc/postfix/postfix-files
_QUEUE_DIRS = [(n, True, False, 0o700) for n in (
    "active", "bounce", "corrupt", "defer", "deferred", "flush", "hold",
    "incoming", "private", "saved", "trace")] + [
    ("maildrop", True, True, 0o730), ("public", True, True, 0o710),
    ("pid", False, False, 0o755)]


class PrivatePostfix:
    """A private Postfix instance in directory (see the module header).

    smtp_port: plain smtpd (no AUTH; relay for mynetworks = 127.0.0.0/8).
    submission_port: smtpd with STARTTLS required and SASL AUTH (PLAIN,
    LOGIN) against DIR/sasldb2; relay only when authenticated.
    All mail goes to relayhost [127.0.0.1]:relay_port.
    milter: port, "/unix/path" or "inet:..."/"unix:..." -> smtpd_milters,
    with milter_default_action = tempfail.
    policy: same forms -> check_policy_service in smtpd_recipient_restrictions.
    extra_main_cf overrides/extends main.cf; smtp_options /
    submission_options add `-o name=value` to the two smtpd services."""

    def __init__(self, directory: str, relay_port: int, milter: int | str | None = None,
                 policy: int | str | None = None,
                 extra_main_cf: Mapping[str, str] | None = None,
                 smtp_options: Mapping[str, str] | None = None,
                 submission_options: Mapping[str, str] | None = None,
                 smtp_port: int | None = None, submission_port: int | None = None,
                 myhostname: str = "mta.tenantmail.test"):
        self.directory = os.path.abspath(directory)
        self.config_dir = os.path.join(self.directory, "etc")
        self.queue_dir = os.path.join(self.directory, "queue")
        self.data_dir = os.path.join(self.directory, "data")
        # Debian's Postfix reads Cyrus config from $config_directory/sasl
        # whatever cyrus_sasl_config_path says (see the module header).
        self.sasl_dir = os.path.join(self.config_dir, "sasl")
        self.sasldb = os.path.join(self.directory, "sasldb2")
        self.tls_dir = os.path.join(self.directory, "tls")
        self.cert_file = os.path.join(self.tls_dir, "cert.pem")
        self.key_file = os.path.join(self.tls_dir, "key.pem")
        self.log_path = os.path.join(self.directory, "postfix.log")
        self.relay_port = relay_port
        self.milter = milter
        self.policy = policy
        self.extra_main_cf = dict(extra_main_cf or {})
        self.smtp_options = dict(smtp_options or {})
        self.submission_options = dict(submission_options or {})
        self.smtp_port = smtp_port or free_port()
        self.submission_port = submission_port or free_port()
        while self.submission_port == self.smtp_port:
            self.submission_port = free_port()
        self.myhostname = myhostname
        # Cyrus realm of logins without "@" (smtpd_sasl_local_domain is empty)
        self.sasl_local_domain = myhostname
        self.master_pid: int | None = None
        self.allow_check_warnings = False
        self._watchdog: _Watchdog | None = None
        self._configured = False

    # milter / policy may be changed later; reload() applies the change.
    milter = property(lambda self: self._milter,
                      lambda self, v: setattr(self, "_milter", _service_address(v)))
    policy = property(lambda self: self._policy,
                      lambda self, v: setattr(self, "_policy", _service_address(v)))

    def __repr__(self):
        return (f"PrivatePostfix({self.directory}, smtp={self.smtp_port}, "
                f"submission={self.submission_port}, master={self.master_pid})")

    # -- configuration ----------------------------------------------------

    def main_cf(self) -> dict[str, str]:
        cf = {
            "compatibility_level": "3.6",
            "meta_directory": self.config_dir,
            "queue_directory": self.queue_dir,
            "data_directory": self.data_dir,
            "maillog_file": self.log_path,
            "maillog_file_prefixes": self.directory,
            "myhostname": self.myhostname,
            "mydomain": "tenantmail.test",
            "myorigin": "$myhostname",
            "inet_interfaces": LOOPBACK,
            "inet_protocols": "ipv4",
            "mydestination": "",
            "local_recipient_maps": "",
            "local_transport": "error:5.1.1 local delivery is disabled",
            "alias_maps": "",
            "alias_database": "",
            "mynetworks": "127.0.0.0/8",
            "relayhost": f"[{LOOPBACK}]:{self.relay_port}",
            "smtp_dns_support_level": "disabled",
            "smtp_tls_security_level": "none",
            "smtp_connect_timeout": "5s",
            "biff": "no",
            "append_dot_mydomain": "no",
            "readme_directory": "no",
            "smtputf8_enable": "no",
            # fast queue for tests
            "queue_run_delay": "1s",
            "minimal_backoff_time": "1s",
            "maximal_backoff_time": "2s",
            "delay_warning_time": "0h",
            "smtpd_error_sleep_time": "0s",
            # restrictions: relay for mynetworks (plain port) and for
            # authenticated clients; the submission service narrows this.
            "smtpd_relay_restrictions":
                "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination",
            "smtpd_recipient_restrictions":
                f"check_policy_service {self.policy}" if self.policy else "",
            # TLS offered everywhere, required on submission
            "smtpd_tls_cert_file": self.cert_file,
            "smtpd_tls_key_file": self.key_file,
            "smtpd_tls_security_level": "may",
            "smtpd_tls_loglevel": "1",
            # Cyrus SASL, private sasldb; enabled on submission only
            "smtpd_sasl_type": "cyrus",
            "smtpd_sasl_path": "smtpd",
            "cyrus_sasl_config_path": self.sasl_dir,
            "smtpd_sasl_local_domain": "",
            "smtpd_sasl_auth_enable": "no",
            "smtpd_sasl_security_options": "noanonymous",
        }
        if self.milter:
            cf["smtpd_milters"] = self.milter
            cf["milter_default_action"] = "tempfail"
        cf.update(self.extra_main_cf)
        return cf

    def master_cf(self) -> str:
        def service(port: int, opts: Mapping[str, str]) -> str:
            lines = [f"{LOOPBACK}:{port} inet n - n - - smtpd"]
            lines += [f"  -o {k}={v}" for k, v in opts.items()]
            return "\n".join(lines)

        smtp_opts = {"syslog_name": "postfix/smtp-plain", **self.smtp_options}
        sub_opts = {
            "syslog_name": "postfix/submission",
            "smtpd_tls_security_level": "encrypt",
            "smtpd_tls_auth_only": "yes",
            "smtpd_sasl_auth_enable": "yes",
            "smtpd_relay_restrictions": "permit_sasl_authenticated,reject",
            **self.submission_options,
        }
        for k, v in list(smtp_opts.items()) + list(sub_opts.items()):
            if re.search(r"\s", str(v)):
                raise MailstackError(f"master.cf -o {k}={v!r}: no white space allowed "
                                     "(use commas)")
        services = [
            # name      type       private unpriv chroot wakeup maxproc command
            "pickup     unix       n       -      n      60     1       pickup",
            "cleanup    unix       n       -      n      -      0       cleanup",
            "qmgr       unix       n       -      n      300    1       qmgr",
            "tlsmgr     unix       -       -      n      1000?  1       tlsmgr",
            "rewrite    unix       -       -      n      -      -       trivial-rewrite",
            "bounce     unix       -       -      n      -      0       bounce",
            "defer      unix       -       -      n      -      0       bounce",
            "trace      unix       -       -      n      -      0       bounce",
            "verify     unix       -       -      n      -      1       verify",
            "flush      unix       n       -      n      1000?  0       flush",
            "proxymap   unix       -       -      n      -      -       proxymap",
            "proxywrite unix       -       -      n      -      1       proxymap",
            "smtp       unix       -       -      n      -      -       smtp",
            "relay      unix       -       -      n      -      -       smtp",
            "showq      unix       n       -      n      -      -       showq",
            "error      unix       -       -      n      -      -       error",
            "retry      unix       -       -      n      -      -       error",
            "discard    unix       -       -      n      -      -       discard",
            "anvil      unix       -       -      n      -      1       anvil",
            "scache     unix       -       -      n      -      1       scache",
            "postlog    unix-dgram n       -      n      -      1       postlogd",
        ]
        return ("# written by tests/lib/mailstack.py\n"
                + service(self.smtp_port, smtp_opts) + "\n"
                + service(self.submission_port, sub_opts) + "\n"
                + "\n".join(services) + "\n")

    def _configure(self) -> None:
        if self._configured:
            return
        uid, gid = _postfix_ids()
        os.makedirs(self.directory, exist_ok=True)
        os.chmod(self.directory, 0o755)
        for d in (self.config_dir, self.queue_dir, self.sasl_dir, self.tls_dir):
            os.makedirs(d, exist_ok=True)
            os.chmod(d, 0o755)
        # Queue subdirectories as postfix-files wants them; post-install would
        # create them too, but with a fork per chown/chmod (~0.7 s).
        postdrop = grp.getgrnam("postdrop").gr_gid
        for name, owner, group, mode in _QUEUE_DIRS:
            path = os.path.join(self.queue_dir, name)
            os.makedirs(path, exist_ok=True)
            os.chown(path, uid if owner else 0, postdrop if group else 0)
            os.chmod(path, mode)
        os.makedirs(self.data_dir, exist_ok=True)
        os.chown(self.data_dir, uid, gid)
        os.chmod(self.data_dir, 0o700)
        for name in POSTFIX_META_FILES:
            src, dst = os.path.join("/etc/postfix", name), os.path.join(self.config_dir, name)
            if os.path.isdir(src):
                shutil.copytree(src, dst, dirs_exist_ok=True)
            elif os.path.exists(src):
                shutil.copy2(src, dst)
        with open(os.path.join(self.config_dir, "main.cf"), "w") as f:
            f.write("# written by tests/lib/mailstack.py\n")
            for k, v in self.main_cf().items():
                f.write(f"{k} = {v}\n")
        with open(os.path.join(self.config_dir, "master.cf"), "w") as f:
            f.write(self.master_cf())
        _run([POSTCONF, "-c", self.config_dir, "-F", "*/*/chroot = n"])
        # Postfix re-reads a main.cf changed within the last ~2 s every 300 ms
        # until it is older (in case an editor is still writing it): backdate.
        past = time.time() - 10
        for name in ("main.cf", "master.cf"):
            os.utime(os.path.join(self.config_dir, name), (past, past))
        # TLS: self-signed P-256 certificate (fast to make).
        if not os.path.exists(self.cert_file):
            _run([OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                  "ec_paramgen_curve:prime256v1", "-nodes", "-days", "7",
                  "-subj", "/CN=localhost", "-addext",
                  "subjectAltName=DNS:localhost,IP:127.0.0.1",
                  "-keyout", self.key_file, "-out", self.cert_file])
            os.chmod(self.key_file, 0o600)
        # Cyrus SASL for smtpd.
        with open(os.path.join(self.sasl_dir, "smtpd.conf"), "w") as f:
            f.write("pwcheck_method: auxprop\n"
                    "auxprop_plugin: sasldb\n"
                    f"sasldb_path: {self.sasldb}\n"
                    "mech_list: PLAIN LOGIN\n")
        os.chmod(os.path.join(self.sasl_dir, "smtpd.conf"), 0o644)
        self._configured = True

    def add_sasl_user(self, login: str, password: str) -> None:
        """Create (or update) a SASL login. "user@domain" is stored as user
        "user" in realm "domain"; a login without "@" in the realm that
        smtpd uses for it (smtpd_sasl_local_domain)."""
        self._configure()
        user, at, realm = login.rpartition("@")
        if not at:
            user, realm = login, self.sasl_local_domain
        _run([SASLPASSWD2, "-p", "-c", "-f", self.sasldb, "-u", realm, user],
             input=password.encode() + b"\n")
        _, gid = _postfix_ids()
        for path in (self.sasldb, self.sasldb + ".db"):
            if os.path.exists(path):
                os.chown(path, 0, gid)
                os.chmod(path, 0o640)

    # -- control ----------------------------------------------------------

    def postfix(self, *args: str, timeout: float = 60.0) -> tuple[int, str]:
        """Run `postfix -c CONFIG ARGS` on a terminal; return (status, output)."""
        return run_on_tty([POSTFIX, "-c", self.config_dir, *args], timeout=timeout)

    def check(self) -> str:
        """`postfix check`; raise with its output on failure, or on any
        warning unless self.allow_check_warnings."""
        status, out = self.postfix("check")
        bad = r"fatal|error" if self.allow_check_warnings else r"warning|fatal|error"
        if status != 0 or re.search(bad, out, re.I):
            raise MailstackError(f"postfix -c {self.config_dir} check failed "
                                 f"(status {status}):\n{out}")
        return out

    def start(self, timeout: float = 20.0) -> "PrivatePostfix":
        if self.master_pid is not None and _pid_alive(self.master_pid):
            return self
        self._configure()
        if not os.path.exists(self.sasldb):
            # smtpd's Cyrus setup wants the db to exist; add a placeholder user
            self.add_sasl_user(f"placeholder@{self.sasl_local_domain}", os.urandom(12).hex())
        self.check()
        # The check above is what `postfix start` would repeat; skip that once.
        open(os.path.join(self.queue_dir, "quick-start"), "w").close()
        _register(self)
        status, out = self.postfix("start")
        self.master_pid = self._read_master_pid()
        if self.master_pid:
            self._watchdog = _Watchdog(self.master_pid)
        if status != 0:
            log = self.log()
            self.stop()
            raise MailstackError(f"postfix -c {self.config_dir} start failed "
                                 f"(status {status}):\n{out}\n--- postfix.log ---\n{log}")
        try:
            _wait_port(self.smtp_port, timeout, "postfix smtpd")
            _wait_port(self.submission_port, timeout, "postfix submission")
        except Exception:
            self.stop()
            raise
        return self

    def _read_master_pid(self) -> int | None:
        try:
            with open(os.path.join(self.queue_dir, "pid", "master.pid")) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self, timeout: float = 10.0) -> None:
        """Stop master and all its processes: SIGTERM to the master PID, then
        SIGKILL to its process group if anything is left after timeout."""
        pid = self.master_pid or self._read_master_pid()
        if pid and _pid_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and (_pid_alive(pid) or _group_members(pid)):
                time.sleep(0.02)
            if _pid_alive(pid) or _group_members(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
                wait_until(lambda: not _group_members(pid), 5, "postfix processes to die")
        self.master_pid = None
        if self._watchdog:
            self._watchdog.disarm()
            self._watchdog = None
        _unregister(self)

    def reload(self, timeout: float = 10.0) -> None:
        """Rewrite main.cf/master.cf from the current settings (milter,
        policy, extra_main_cf, ...), reload, and wait until master has
        logged that it re-read them."""
        self._configured = False
        self._configure()
        before = len(re.findall(r"postfix/master\[\d+\]: reload ", self.log()))
        status, out = self.postfix("reload")
        if status != 0:
            raise MailstackError(f"postfix reload failed (status {status}):\n{out}")
        self.wait_log(r"postfix/master\[\d+\]: reload ", timeout, count=before + 1)

    def set_main_cf(self, **settings: str) -> None:
        """Change main.cf settings (kept across reload()); call reload() after."""
        self.extra_main_cf.update(settings)
        self._configured = False
        self._configure()

    def postconf(self, name: str) -> str:
        """The effective value of a main.cf parameter (postconf -h)."""
        return _run([POSTCONF, "-c", self.config_dir, "-h", name]).stdout.decode().strip()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- observation ------------------------------------------------------

    def log(self) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_log(self, pattern: str, timeout: float = 10.0, count: int = 1) -> list[str]:
        """Wait until count log lines match the regex pattern; return them."""
        rx = re.compile(pattern)

        def matches():
            lines = [l for l in self.log().splitlines() if rx.search(l)]
            return lines if len(lines) >= count else None
        return wait_until(matches, timeout, f"postfix.log line matching {pattern!r}",
                          interval=0.05)

    def queue(self) -> list[dict]:
        """The queue as postqueue -j reports it (one dict per message)."""
        out = _run([POSTQUEUE, "-c", self.config_dir, "-j"]).stdout.decode()
        return [json.loads(l) for l in out.splitlines() if l.strip()]

    def wait_queue_empty(self, timeout: float = 20.0) -> None:
        wait_until(lambda: not self.queue(), timeout,
                   f"the queue of {self.config_dir} to drain", interval=0.1)

    def flush(self) -> None:
        """Attempt delivery of all queued mail now (postqueue -f)."""
        _run([POSTQUEUE, "-c", self.config_dir, "-f"])


# ---------------------------------------------------------------------------
# Clients

class SwaksResult(tuple):
    """(returncode, transcript) with names."""
    __slots__ = ()

    def __new__(cls, returncode: int, transcript: str):
        return super().__new__(cls, (returncode, transcript))

    returncode = property(lambda self: self[0])
    transcript = property(lambda self: self[1])

    @property
    def ok(self) -> bool:
        return self[0] == 0

    def server_replies(self) -> list[str]:
        """Lines the server sent, without swaks's prefix ("<- " in clear,
        "<~ " over TLS, "<** " / "<~* " for error replies)."""
        rx = re.compile(r"^<(?:-|~|\*\*|~\*)\s+")
        return [rx.sub("", l) for l in self[1].splitlines() if rx.match(l)]


def send_with_swaks(port: int, sender: str, to: str | Sequence[str], *,
                    server: str = LOOPBACK, tls: bool = True,
                    auth_user: str | None = None, auth_password: str | None = None,
                    auth_mech: str = "PLAIN", headers: Mapping[str, str] | Sequence[str] = (),
                    subject: str | None = None, body: str | None = None,
                    data: str | bytes | None = None, ehlo: str = "client.tenantmail.test",
                    timeout: float = 30.0, extra_args: Sequence[str] = ()) -> SwaksResult:
    """Send one message with swaks; return SwaksResult(returncode, transcript).

    tls=True: STARTTLS (required; swaks fails if it is not offered).
    auth_user: AUTH with auth_mech (default PLAIN).
    data: a whole message: a file path (str) or the message bytes; otherwise
    swaks builds one from headers (dict or "Name: value" lines), subject, body."""
    rcpts = [to] if isinstance(to, str) else list(to)
    argv = [SWAKS, "--server", f"{server}:{port}", "--from", sender,
            "--to", ",".join(rcpts), "--ehlo", ehlo, "--timeout", f"{int(timeout)}s"]
    if tls:
        argv.append("--tls")
    if auth_user is not None:
        argv += ["--auth", auth_mech, "--auth-user", auth_user,
                 "--auth-password", auth_password or ""]
    tmp = None
    try:
        if data is not None:
            if isinstance(data, bytes):
                fd, tmp = tempfile.mkstemp(prefix="swaks-", suffix=".eml")
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                argv += ["--data", tmp]
            else:
                argv += ["--data", data]
        else:
            items = headers.items() if isinstance(headers, Mapping) else \
                [tuple(h.split(":", 1)) for h in headers]
            for name, value in items:
                argv += ["--header", f"{name.strip()}: {value.strip()}"]
            if subject is not None:
                argv += ["--header", f"Subject: {subject}"]
            if body is not None:
                argv += ["--body", body]
        argv += list(extra_args)
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=timeout + 15, env=_clean_env())
    finally:
        if tmp:
            os.unlink(tmp)
    return SwaksResult(proc.returncode, proc.stdout.decode("utf-8", "replace")
                       + proc.stderr.decode("utf-8", "replace"))


def send_smtp(port: int, sender: str, to: str | Sequence[str], message: bytes, *,
              server: str = LOOPBACK, starttls: bool = False,
              login: tuple[str, str] | None = None, timeout: float = 30.0) -> dict:
    """Send message bytes unchanged with smtplib. Returns smtplib's dict of
    refused recipients; raises smtplib.SMTPException on a refusal of the
    whole message (its smtp_code/smtp_error tell the reply)."""
    rcpts = [to] if isinstance(to, str) else list(to)
    with smtplib.SMTP(server, port, local_hostname="client.tenantmail.test",
                      timeout=timeout) as smtp:
        if starttls:
            smtp.starttls(context=_insecure_tls())
        if login:
            smtp.login(*login)
        return smtp.sendmail(sender, rcpts, message)


def _insecure_tls() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE   # our own self-signed test certificate
    return ctx


@dataclasses.dataclass
class LoadResult:
    sent: int
    failed: int
    seconds: float
    errors: list[str]

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds > 0 else 0.0


def smtp_load(port: int, sessions: int, messages_per_session: int, sender: str,
              to: str | Sequence[str], message: bytes | Callable[[int, int], bytes], *,
              starttls: bool = True, login: tuple[str, str] | None = None,
              server: str = LOOPBACK, timeout: float = 60.0) -> LoadResult:
    """Authenticated load: `sessions` parallel SMTP sessions (threads), each
    doing STARTTLS/AUTH once and then sending messages_per_session messages.
    message may be bytes or callable(session_index, message_index) -> bytes.
    Refusals are counted in failed (first few kept in errors), not raised."""
    rcpts = [to] if isinstance(to, str) else list(to)
    lock = threading.Lock()
    totals = {"sent": 0, "failed": 0}
    errors: list[str] = []

    def note_error(text: str, n: int = 1):
        with lock:
            totals["failed"] += n
            if len(errors) < 20:
                errors.append(text)

    def worker(i: int):
        done = 0
        try:
            with smtplib.SMTP(server, port, local_hostname=f"load{i}.tenantmail.test",
                              timeout=timeout) as smtp:
                if starttls:
                    smtp.starttls(context=_insecure_tls())
                if login:
                    smtp.login(*login)
                for j in range(messages_per_session):
                    msg = message(i, j) if callable(message) else message
                    try:
                        smtp.sendmail(sender, rcpts, msg)
                        with lock:
                            totals["sent"] += 1
                    except smtplib.SMTPResponseException as exc:
                        note_error(f"{exc.smtp_code} {exc.smtp_error!r}")
                        smtp.rset()
                    except smtplib.SMTPRecipientsRefused as exc:
                        note_error(str(exc.recipients))
                        smtp.rset()
                    done += 1
        except (OSError, smtplib.SMTPException) as exc:
            note_error(f"session {i}: {exc}", messages_per_session - done)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True)
               for i in range(sessions)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout * max(1, messages_per_session))
    return LoadResult(totals["sent"], totals["failed"], time.monotonic() - t0, errors)


def smtp_source(port: int, *, sessions: int = 1, messages: int = 1,
                sender: str = "load@tenantmail.test", to: str = "sink@example.org",
                recipients_per_message: int = 1, message_file: str | None = None,
                size: int | None = None, subject: str | None = None,
                reuse_connection: bool = True, server: str = LOOPBACK,
                timeout: float = 300.0, extra_args: Sequence[str] = ()
                ) -> subprocess.CompletedProcess:
    """Postfix's smtp-source: `messages` in total over `sessions` parallel
    sessions (-s, -m), without AUTH (it cannot AUTH or STARTTLS: use the plain
    port and identify the tenant by client network 127.0.0.1/32, or
    smtp_load() for the submission port). reuse_connection (-d) keeps one
    connection per session. Returns the CompletedProcess with .elapsed set."""
    argv = [SMTP_SOURCE, "-s", str(sessions), "-m", str(messages), "-f", sender,
            "-t", to, "-M", "load.tenantmail.test"]
    if recipients_per_message > 1:
        argv += ["-r", str(recipients_per_message)]
    if message_file:
        argv += ["-F", message_file]
    if size is not None:
        argv += ["-l", str(size)]
    if subject:
        argv += ["-S", subject]
    if reuse_connection:
        argv.append("-d")
    argv += list(extra_args) + [f"inet:{server}:{port}"]
    t0 = time.monotonic()
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                          timeout=timeout, env=_clean_env())
    proc.elapsed = time.monotonic() - t0
    return proc
