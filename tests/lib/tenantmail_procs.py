"""tenantmail_procs: run tenantmail's own daemons in tests and demos.

Builds on mailstack.py; every daemon is a managed_process.ManagedProcess
(everything started is stopped by PID, at exit too, and a detached watchdog
SIGTERMs the PID if this Python process is SIGKILLed). Standard library only; use Debian's /usr/bin/python3.

    keys = TenantFiles(tmp)                      # files live in tmp/tenantmail/
    keys.rsa_key("acme")                         # -> path of a new 2048-bit key, mode 0600
    keys.ed25519_key("acme")
    keys.bounce_secret()                         # 32 random bytes, hex, mode 0600
    keys.write_tenants({"acme": {"domains": "acme.example", ...}})
    conf = keys.write_config(port, platform_tenant="platform")

    with Milter(MILTER_BINARY, conf, tmp) as milter:   # -f -c conf, stderr -> a log file
        milter.wait_log(r"listening on")               # start() already waits for it
        milter.reload()                                # SIGHUP, waits for "reloaded"
        milter.reload(expect_refusal=True)             # waits for "reload refused"

  * TenantFiles    writes keys (openssl genpkey), the bounce secret,
                   tenants.conf (sections in the order given) and
                   tenantmail.conf with a [milter] section.
  * Milter         tenantmail-milter in the foreground; its stderr goes to
                   a file (.log_path), read by .log() / .wait_log(). Knows
                   the milter's reload log lines ("reloaded: N tenants",
                   "reload refused, ...") so callers wait for the outcome of
                   a SIGHUP instead of sleeping.
  * run_check_config(binary, conf) -> (status, output of stdout+stderr).
  * dns_for(files)  a dkim_verify.DnsTable with the public half of every key
                   written by TenantFiles (needs dkim_verify importable).
  * Policyd        tenantmail-policyd -f with a config of its own (listen,
                   [redis], [policyd] options); .connect() -> PolicyClient,
                   which speaks the policy protocol (.ask(**attributes)).
  * Maillog        tenantmail-maillog -f -c CONFIG; start() waits until it
                   says it is following its file.
  * Webhookd       tenantmail-webhookd -f with a config of its own (short
                   block, retry and claim times); start() waits until it
                   has reached Redis.
  * Trackd         tenantmail-trackd -f with a config of its own (listen on
                   a free loopback port, [redis], tracking_secret_file,
                   [trackd] options); start() waits until it listens and
                   has reached Redis; .url(path) is where to send requests.
  * BouncePostfix  a PrivatePostfix whose master.cf has the tenantmail-bounce
                   pipe transport and whose main.cf routes the bounce
                   domains to it; readable_by(user, paths) gives the pipe's
                   user the files it reads.
  * events(redis, tenant)  the parsed events in tm:{TENANT}:events.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from typing import Mapping

import mailstack as ms
from managed_process import ManagedProcess

OPENSSL = ms.OPENSSL


def _write_private(path: str, data: bytes | str, mode: int = 0o600) -> str:
    """Create path with mode (before writing, so it is never more open)."""
    if isinstance(data, str):
        data = data.encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.chmod(path, mode)
    return path


class TenantFiles:
    """Keys, secret and config files for tenantmail in DIR/tenantmail."""

    def __init__(self, directory: str):
        self.dir = os.path.join(os.path.abspath(directory), "tenantmail")
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        self.tenants_path = os.path.join(self.dir, "tenants.conf")
        self.secret_path = os.path.join(self.dir, "bounce.secret")
        # (domain, selector, key path) of every key written, for dns_for()
        self.published: list[tuple[str, str, str]] = []

    def _genpkey(self, path: str, algorithm_args: list[str]) -> str:
        if os.path.exists(path):
            os.unlink(path)
        old = os.umask(0o077)
        try:
            ms.run([OPENSSL, "genpkey", *algorithm_args, "-out", path], timeout=60)
        finally:
            os.umask(old)
        os.chmod(path, 0o600)
        return path

    def rsa_key(self, name: str, bits: int = 2048) -> str:
        return self._genpkey(os.path.join(self.dir, f"{name}.rsa.pem"),
                             ["-algorithm", "RSA", "-pkeyopt", f"rsa_keygen_bits:{bits}"])

    def ed25519_key(self, name: str) -> str:
        return self._genpkey(os.path.join(self.dir, f"{name}.ed25519.pem"),
                             ["-algorithm", "ED25519"])

    def publish(self, domain: str, selector: str, key_path: str) -> None:
        """Remember a key for dns_for() (the test's stand-in for DNS)."""
        self.published.append((domain, selector, key_path))

    def bounce_secret(self) -> str:
        return _write_private(self.secret_path, os.urandom(32).hex() + "\n")

    def tracking_secret(self) -> str:
        """DIR/tenantmail/tracking.secret (0600): the tracking links' key."""
        self.tracking_secret_path = os.path.join(self.dir, "tracking.secret")
        return _write_private(self.tracking_secret_path, os.urandom(32).hex() + "\n")

    @staticmethod
    def render_tenants(tenants: Mapping[str, Mapping[str, str]], extra: str = "") -> str:
        out = ["# written by tests/lib/tenantmail_procs.py"]
        for tenant_id, fields in tenants.items():
            out.append(f"[{tenant_id}]")
            out += [f"{k} = {v}" for k, v in fields.items()]
            out.append("")
        return "\n".join(out) + "\n" + extra

    def write_tenants(self, tenants: Mapping[str, Mapping[str, str]], extra: str = "",
                      path: str | None = None) -> str:
        """Write tenants.conf (or path); extra is appended verbatim."""
        path = path or self.tenants_path
        with open(path, "w") as f:
            f.write(self.render_tenants(tenants, extra))
        return path

    def write_config(self, port: int, *, name: str = "tenantmail.conf",
                     tenants_file: str | None = None, socket: str | None = None, **milter: str) -> str:
        """tenantmail.conf with socket inet:PORT@127.0.0.1 (or socket, e.g.
        "unix:/path") and the given [milter] options (e.g.
        platform_tenant="platform", require_tenant="yes"); with
        tracking_secret_file after tracking_secret(); log_level (default
        info) sets the top-level log level."""
        path = os.path.join(self.dir, name)
        lines = [f"tenants_file = {tenants_file or self.tenants_path}",
                 f"bounce_secret_file = {self.secret_path}",
                 f"log_level = {milter.pop('log_level', 'info')}",
                 *([f"tracking_secret_file = {self.tracking_secret_path}"]
                   if getattr(self, "tracking_secret_path", None) else []),
                 "",
                 "[milter]",
                 f"socket = {socket or f'inet:{port}@{ms.LOOPBACK}'}"]
        lines += [f"{k} = {v}" for k, v in milter.items()]
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path


def dns_for(files: TenantFiles):
    """DnsTable (tests/lib/dkim_verify.py) with every published key."""
    import dkim_verify
    dns = dkim_verify.DnsTable()
    for domain, selector, key_path in files.published:
        dns.add_key_file(domain, selector, key_path)
    return dns


def run_check_config(binary: str, config: str, timeout: float = 30.0) -> tuple[int, str]:
    """`tenantmail-milter --check-config -c CONFIG`: (status, stdout+stderr)."""
    proc = subprocess.run([binary, "--check-config", "-c", config], stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=timeout, env=ms.clean_env())
    return proc.returncode, (proc.stdout + proc.stderr).decode("utf-8", "replace")


class ForegroundDaemon(ManagedProcess):
    """One of our daemons run with -f: its stderr (its log) appended to
    log_path, the PID watched by the watchdog, stopped by PID (SIGTERM,
    SIGKILL after stop_timeout). Subclasses say how to start it and when
    it is ready."""

    stop_timeout = 10.0

    def __init__(self, binary: str, log_path: str):
        super().__init__(log_path)
        self.binary = binary
        self.extra_env: dict[str, str] = {}  # on top of the clean environment

    def _spawn(self, argv: list[str]) -> None:
        self.spawn([self.binary, *argv], extra_env=self.extra_env)


class Milter(ForegroundDaemon):
    """tenantmail-milter -f -c CONFIG, stderr (its log) to DIR/NAME.log."""

    RELOADED = r"tenantmail-milter: info: reloaded: \d+ tenants"
    REFUSED = r"tenantmail-milter: error: reload refused"

    def __init__(self, binary: str, config: str, directory: str, name: str = "milter",
                 port: int | None = None):
        super().__init__(binary, os.path.join(os.path.abspath(directory), f"{name}.log"))
        self.config = config
        self.port = port

    def __repr__(self):
        return f"Milter({self.config}, pid={self.pid})"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self, timeout: float = 15.0) -> "Milter":
        if self.alive():
            return self
        self._spawn(["-f", "-c", self.config])

        def ready():
            if self.proc.poll() is not None:
                raise ms.MailstackError(f"tenantmail-milter exited with status "
                                        f"{self.proc.returncode}:\n{self.log()}")
            listening = re.search(r"info: listening on", self.log())
            return listening and (self.port is None or ms.port_open(self.port))
        try:
            ms.wait_until(ready, timeout, "tenantmail-milter to listen", interval=0.02)
        except Exception:
            self.stop()
            raise
        return self

    def terminate(self) -> None:
        """Send SIGTERM by PID without waiting (stop() then waits). libmilter
        notices smfi_stop() only at its next 5 s poll (MI_CHK_TIME), so
        several milters stop faster when all are signalled first."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)

    log_name = "milter log"   # count_log() and wait_log() come from ManagedProcess

    def reload(self, expect_refusal: bool = False, timeout: float = 10.0) -> str:
        """SIGHUP; wait for the next "reloaded" (or, with expect_refusal,
        "reload refused") line and return it. Raises if the other outcome
        is logged instead."""
        want, other = (self.REFUSED, self.RELOADED) if expect_refusal else \
            (self.RELOADED, self.REFUSED)
        n_want, n_other = self.count_log(want), self.count_log(other)
        os.kill(self.proc.pid, signal.SIGHUP)

        def outcome():
            if self.count_log(other) > n_other:
                raise ms.MailstackError(f"milter reload: expected {want!r}, got:\n"
                                        + "\n".join(self.log().splitlines()[-5:]))
            lines = [l for l in self.log().splitlines() if re.search(want, l)]
            return lines[n_want] if len(lines) > n_want else None
        return ms.wait_until(outcome, timeout, f"milter log line matching {want!r}")

    def cpu_seconds(self) -> float:
        """utime + stime of the milter process so far (from /proc)."""
        with open(f"/proc/{self.proc.pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------
# The other daemons, each started in the foreground (-f) with its stderr (its
# log) in a file, stopped by PID, with the same watchdog as Milter.

class Policyd(ForegroundDaemon):
    """tenantmail-policyd -f with its own config file; stopped by PID."""

    def __init__(self, binary: str, directory: str, name: str, redis_port: int,
                 tenants_file: str, listen: str | None = None, redis_timeout: str = "100ms",
                 log_level: str = "info", redis_lines: str | None = None, **policyd_options: str):
        super().__init__(binary, os.path.join(directory, f"{name}.log"))
        self.directory = directory
        self.name = name
        self.port = None
        self.socket_path = None
        if listen is None:
            self.port = ms.free_port()
            listen = f"inet:{self.port}@127.0.0.1"
        elif listen.startswith("unix:"):
            self.socket_path = listen[5:]
        self.config = os.path.join(directory, f"{name}.conf")
        options = {"listen": listen, "idle_timeout": "300s", **policyd_options}
        # redis_lines replaces host and port (e.g. sentinels = ...).
        where = redis_lines if redis_lines is not None else f"host = 127.0.0.1\nport = {redis_port}\n"
        with open(self.config, "w") as f:
            f.write(f"tenants_file = {tenants_file}\nlog_level = {log_level}\n"
                    f"[redis]\n{where}timeout = {redis_timeout}\n"
                    "[policyd]\n" + "".join(f"{k} = {v}\n" for k, v in options.items()))

    def start(self) -> "Policyd":
        self._spawn(["-c", self.config, "-f"])

        def ready():
            if self.proc.poll() is not None:
                raise ms.MailstackError(f"{self.name} exited {self.proc.returncode}:\n{self.log()}")
            if self.port:
                return ms.port_open(self.port)
            try:
                with socket.socket(socket.AF_UNIX) as s:
                    s.connect(self.socket_path)
                return True
            except OSError:
                return False
        ms.wait_until(ready, 10, f"{self.name} to listen")
        ms.wait_until(lambda: "connected to Redis" in self.log(), 5, f"{self.name} to reach Redis")
        return self

    def connect(self, timeout: float = 5.0) -> "PolicyClient":
        if self.port:
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        else:
            sock = socket.socket(socket.AF_UNIX)
            sock.settimeout(timeout)
            sock.connect(self.socket_path)
        return PolicyClient(sock)


class PolicyClient:
    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buffer = b""

    def ask(self, **attributes: str) -> str:
        """One request; returns the action (without "action=")."""
        request = {"request": "smtpd_access_policy", "protocol_state": "RCPT"}
        request.update(attributes)
        self.sock.sendall("".join(f"{k}={v}\n" for k, v in request.items()).encode() + b"\n")
        while b"\n\n" not in self.buffer:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("policyd closed the connection")
            self.buffer += data
        reply, _, self.buffer = self.buffer.partition(b"\n\n")
        text = reply.decode()
        if not text.startswith("action="):
            raise ValueError(f"bad reply {text!r}")
        return text[len("action="):]

    def close(self):
        self.sock.close()



class PolicyLoad:
    """Two clients per policyd asking for one login without end (pause
    seconds between a client's requests); every answer kept with its
    process, the time it was asked and how long it took. start(), then
    stop() returns results: (process name, asked at, seconds, answer)."""

    def __init__(self, processes, login: str = "load", pause: float = 0.0):
        self.login = login
        self.pause = pause
        self.results: list[tuple[str, float, float, str]] = []
        self.errors: list[str] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(p, i)) for p in processes for i in range(2)]

    def run(self, process, worker: int):
        n = 0
        try:
            client = process.connect(timeout=10)
            while not self.stopping.is_set():
                n += 1
                asked = time.monotonic()
                answer = client.ask(sasl_username=self.login,
                                    recipient=f"{process.name}-{worker}-{n}@example.org")
                with self.lock:
                    self.results.append((process.name, asked, time.monotonic() - asked, answer))
                if self.pause:
                    time.sleep(self.pause)
            client.close()
        except Exception as exc:
            with self.lock:
                self.errors.append(f"{process.name}: {exc!r}")

    def start(self) -> "PolicyLoad":
        for t in self.threads:
            t.start()
        return self

    def stop(self) -> list[tuple[str, float, float, str]]:
        self.stopping.set()
        for t in self.threads:
            t.join(30)
        return self.results

def ask_concurrently(processes, workers_per_process: int, count: int, make_request) -> list[str]:
    """count policy requests spread over workers_per_process connections to
    each policyd, concurrently. make_request(k) gives the attributes of
    request k. Returns the answers (in no particular order)."""
    clients = [p.connect() for p in processes for _ in range(workers_per_process)]
    answers: list[str] = []
    errors: list[str] = []
    lock = threading.Lock()
    next_index = iter(range(count))

    def run(client):
        try:
            while True:
                with lock:
                    k = next(next_index, None)
                if k is None:
                    return
                answer = client.ask(**make_request(k))
                with lock:
                    answers.append(answer)
        except Exception as exc:
            errors.append(repr(exc))

    threads = [threading.Thread(target=run, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for c in clients:
        c.close()
    if errors:
        raise RuntimeError(f"client errors: {errors[:3]}")
    return answers


class Maillog(ForegroundDaemon):
    """tenantmail-maillog -f -c CONFIG; stderr (its log) to DIR/NAME.log."""

    def __init__(self, binary: str, config: str, directory: str, name: str = "maillog"):
        super().__init__(binary, os.path.join(directory, f"{name}.log"))
        self.config = config

    def start(self, timeout: float = 15.0) -> "Maillog":
        before = self.count(r"info: following ")
        self._spawn(["-f", "-c", self.config])

        def ready():
            if self.proc.poll() is not None:
                raise ms.MailstackError(f"tenantmail-maillog exited with {self.proc.returncode}:\n{self.log()}")
            return self.count(r"info: following ") > before
        ms.wait_until(ready, timeout, "tenantmail-maillog to start")
        return self

    def count(self, pattern: str) -> int:
        return self.count_log(pattern)

    # count before timeout, unlike ManagedProcess.wait_log: callers pass it by position
    def wait_log(self, pattern: str, count: int = 1, timeout: float = 15.0) -> None:
        ms.wait_until(lambda: self.count(pattern) >= count, timeout, f"log line {pattern!r} x{count}")


# Webhookd's defaults in tests: short waits, so failures and take-overs
# happen within seconds.
WEBHOOKD_MAX_BATCH = 100
WEBHOOKD_CLAIM_AFTER = 4.0
# The test receivers are plain http on 127.0.0.1, which a default
# configuration refuses (webhookd/destination_policy.h): the tests allow
# exactly that, as an administrator would for a receiver of their own.
WEBHOOKD_TEST_DESTINATIONS = {"allow_http": "yes", "allowed_networks": "127.0.0.1/32"}


class Webhookd(ForegroundDaemon):
    """tenantmail-webhookd -f -c CONFIG; stderr (its log) to DIR/NAME.log."""

    stop_timeout = 15.0

    def __init__(self, binary: str, directory: str, name: str, redis_port: int, tenants_file: str,
                 redis_lines: str | None = None, **options: str):
        super().__init__(binary, os.path.join(directory, f"{name}.log"))
        self.name = name
        self.config = os.path.join(directory, f"{name}.conf")
        # redis_lines replaces host and port (e.g. sentinels = ...).
        where = redis_lines if redis_lines is not None else f"host = 127.0.0.1\nport = {redis_port}\n"
        settings = {"max_batch": str(WEBHOOKD_MAX_BATCH), "block": "1s",
                    "claim_after": f"{WEBHOOKD_CLAIM_AFTER:g}s",
                    "retry_initial": "1s", "retry_max": "2s", "http_timeout": "3s",
                    "connect_timeout": "1s", **WEBHOOKD_TEST_DESTINATIONS, **options}
        with open(self.config, "w") as f:
            f.write(f"tenants_file = {tenants_file}\nlog_level = info\n"
                    f"[redis]\n{where}timeout = 2s\n"
                    "[webhookd]\n" + "".join(f"{k} = {v}\n" for k, v in settings.items()))

    def start(self, wait_connected: bool = True) -> "Webhookd":
        n = self.log().count("connected to Redis")
        self._spawn(["-f", "-c", self.config])
        if wait_connected:
            def ready():
                if self.proc.poll() is not None:
                    raise ms.MailstackError(f"{self.name} exited {self.proc.returncode}:\n{self.log()}")
                return self.log().count("connected to Redis") > n
            ms.wait_until(ready, 15, f"{self.name} to reach Redis")
        return self

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.stop()

    def count(self, pattern: str) -> int:
        return len(re.findall(pattern, self.log()))

    def wait_log(self, pattern: str, timeout: float = 10.0, count: int = 1) -> None:
        ms.wait_until(lambda: self.count(pattern) >= count, timeout,
                      f"{self.name} log line matching {pattern!r}", interval=0.05)


class Trackd(ForegroundDaemon):
    """tenantmail-trackd -f -c CONFIG; stderr (its log) to DIR/NAME.log."""

    def __init__(self, binary: str, directory: str, name: str, redis_port: int, tenants_file: str,
                 secret_file: str, redis_timeout: str = "500ms", **options: str):
        super().__init__(binary, os.path.join(directory, f"{name}.log"))
        self.name = name
        self.port = ms.free_port()
        self.config = os.path.join(directory, f"{name}.conf")
        settings = {"listen": f"inet:{self.port}@127.0.0.1", **options}
        with open(self.config, "w") as f:
            f.write(f"tenants_file = {tenants_file}\ntracking_secret_file = {secret_file}\nlog_level = info\n"
                    f"[redis]\nhost = 127.0.0.1\nport = {redis_port}\ntimeout = {redis_timeout}\n"
                    "[trackd]\n" + "".join(f"{k} = {v}\n" for k, v in settings.items()))

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self, wait_connected: bool = True) -> "Trackd":
        n = self.log().count("connected to Redis")
        self._spawn(["-f", "-c", self.config])

        def ready():
            if self.proc.poll() is not None:
                raise ms.MailstackError(f"{self.name} exited {self.proc.returncode}:\n{self.log()}")
            return ms.port_open(self.port) and (not wait_connected or self.log().count("connected to Redis") > n)
        ms.wait_until(ready, 15, f"{self.name} to listen and reach Redis")
        return self

    def count(self, pattern: str) -> int:
        return len(re.findall(pattern, self.log()))


PIPE_USER = "nobody"   # pipe(8) refuses root and the mail system owner


class BouncePostfix(ms.PrivatePostfix):
    """A private Postfix with the tenantmail-bounce pipe transport (master.cf)
    and the bounce domains routed to it (main.cf), as conf/postfix-*.cf say.
    binary may also be a wrapper that runs tenantmail-bounce; the pipe runs
    it as pipe_user with "-c CONFIG -- ${original_recipient}". Other keyword
    arguments (milter, policy, extra_main_cf, ...) go to PrivatePostfix."""

    def __init__(self, directory: str, relay_port: int, binary: str, config: str,
                 bounce_domains: tuple[str, ...] | list[str] = ("mta.acme.example",),
                 pipe_user: str = PIPE_USER, **postfix_options):
        self.binary = binary
        self.bounce_config = config
        self.pipe_user = pipe_user
        domains = " ".join(bounce_domains)
        routes = " ".join(f"{d}=tenantmail-bounce:" for d in bounce_domains)
        extra = {"relay_domains": domains, "transport_maps": f"inline:{{ {routes} }}"}
        extra.update(postfix_options.pop("extra_main_cf", None) or {})
        super().__init__(directory, relay_port, extra_main_cf=extra, **postfix_options)

    def master_cf(self) -> str:
        return super().master_cf() + (
            "tenantmail-bounce unix - n n - - pipe\n"
            f"  flags=Rq user={self.pipe_user} argv={self.binary} -c {self.bounce_config} "
            "-- ${original_recipient}\n")


def readable_by(user: str, *paths: str) -> None:
    """The pipe runs as user: give it the secret (0600, so it must own it)."""
    pw = pwd.getpwnam(user)
    for path in paths:
        os.chown(path, pw.pw_uid, pw.pw_gid)


def bounce_pipe(files: TenantFiles, directory: str, bounce_bin: str) -> tuple[str, str]:
    """A wrapper for Postfix's pipe transport; returns (wrapper, log path).
    tenantmail-bounce runs as the pipe's user: it reads its own copy of the
    secret, owned by that user (the milter, as root, refuses a secret another
    account owns), and writes its log (-f: to stderr) where the test reads it."""
    pipe_dir = os.path.join(directory, "bounce-pipe")
    os.makedirs(pipe_dir)
    readable_by(PIPE_USER, pipe_dir)
    pipe_secret = os.path.join(pipe_dir, "bounce.secret")
    shutil.copyfile(files.secret_path, pipe_secret)
    os.chmod(pipe_secret, 0o600)
    readable_by(PIPE_USER, pipe_secret)
    log_path = os.path.join(pipe_dir, "bounce.log")
    wrapper = os.path.join(files.dir, "bounce-pipe.sh")
    with open(wrapper, "w") as f:
        f.write(f'#!/bin/sh\nexec {bounce_bin} -f --bounce_secret_file={pipe_secret} "$@" '
                f'2>>{log_path}\n')
    os.chmod(wrapper, 0o755)
    return wrapper, log_path


# ---------------------------------------------------------------------------
# Redis as the witness

def events(redis: ms.RedisServer, tenant: str) -> list[dict]:
    """Every event in tm:{TENANT}:events, oldest first (the parsed JSON)."""
    entries = redis.command("XRANGE", f"tm:{{{tenant}}}:events", "-", "+") or []
    out = []
    for _entry_id, fields in entries:
        values = dict(zip(fields[0::2], fields[1::2]))
        out.append(json.loads(values["event"]))
    return out
