"""private_postfix: a private Postfix instance (`postfix -c DIR start`) for tests.

A plain port-25-like smtpd and a submission smtpd (STARTTLS required, Cyrus
SASL AUTH against a private sasldb), optionally with a milter and a policy
service, relaying everything to one loopback port. Stopped by the master's
PID and process group, never by name. Standard library only.

What running a private Postfix on Debian 12 (Postfix 3.7) needs, found out
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
"""

from __future__ import annotations

import contextlib
import grp
import json
import os
import re
import shutil
import signal
import time
from typing import Mapping, Sequence

from commands import postfix_ids, run, run_on_tty
from managed_process import ManagedProcess, group_members, pid_alive, register
from net import LOOPBACK, MailstackError, free_port, wait_port, wait_until

POSTFIX = "/usr/sbin/postfix"
POSTCONF = "/usr/sbin/postconf"
POSTQUEUE = "/usr/sbin/postqueue"
SASLPASSWD2 = "/usr/sbin/saslpasswd2"
OPENSSL = "/usr/bin/openssl"
POSTFIX_META_FILES = ("postfix-files", "postfix-files.d", "dynamicmaps.cf",
                      "dynamicmaps.cf.d")


def service_address(value: int | str | None) -> str | None:
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


class PrivatePostfix(ManagedProcess):
    """A private Postfix instance in directory (see the module header).

    smtp_port: plain smtpd (no AUTH; relay for mynetworks = 127.0.0.0/8).
    submission_port: smtpd with STARTTLS required and SASL AUTH (PLAIN,
    LOGIN) against DIR/sasldb2; relay only when authenticated.
    All mail goes to relayhost [127.0.0.1]:relay_port.
    milter: port, "/unix/path" or "inet:..."/"unix:..." -> smtpd_milters,
    with milter_default_action = tempfail.
    policy: same forms -> check_policy_service in smtpd_recipient_restrictions.
    extra_main_cf overrides/extends main.cf; smtp_options /
    submission_options add `-o name=value` to the two smtpd services;
    extra_services are more master.cf entries (continuation lines start
    with white space), e.g. transports with their own smtp_bind_address."""

    log_name = "postfix.log"

    def __init__(self, directory: str, relay_port: int, milter: int | str | None = None,
                 policy: int | str | None = None,
                 extra_main_cf: Mapping[str, str] | None = None,
                 smtp_options: Mapping[str, str] | None = None,
                 submission_options: Mapping[str, str] | None = None,
                 smtp_port: int | None = None, submission_port: int | None = None,
                 myhostname: str = "mta.tenantmail.test",
                 extra_services: Sequence[str] = ()):
        self.directory = os.path.abspath(directory)
        super().__init__(os.path.join(self.directory, "postfix.log"))
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
        self.relay_port = relay_port
        self.milter = milter
        self.policy = policy
        self.extra_main_cf = dict(extra_main_cf or {})
        self.smtp_options = dict(smtp_options or {})
        self.submission_options = dict(submission_options or {})
        self.extra_services = list(extra_services)
        self.smtp_port = smtp_port or free_port()
        self.submission_port = submission_port or free_port()
        while self.submission_port == self.smtp_port:
            self.submission_port = free_port()
        self.myhostname = myhostname
        # Cyrus realm of logins without "@" (smtpd_sasl_local_domain is empty)
        self.sasl_local_domain = myhostname
        self.master_pid: int | None = None
        self.allow_check_warnings = False
        self._configured = False

    # milter / policy may be changed later; reload() applies the change.
    milter = property(lambda self: self._milter,
                      lambda self, v: setattr(self, "_milter", service_address(v)))
    policy = property(lambda self: self._policy,
                      lambda self, v: setattr(self, "_policy", service_address(v)))

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
            *self.extra_services,
        ]
        return ("# written by tests/lib/private_postfix.py\n"
                + service(self.smtp_port, smtp_opts) + "\n"
                + service(self.submission_port, sub_opts) + "\n"
                + "\n".join(services) + "\n")

    def _configure(self) -> None:
        if self._configured:
            return
        uid, gid = postfix_ids()
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
            f.write("# written by tests/lib/private_postfix.py\n")
            for k, v in self.main_cf().items():
                f.write(f"{k} = {v}\n")
        with open(os.path.join(self.config_dir, "master.cf"), "w") as f:
            f.write(self.master_cf())
        run([POSTCONF, "-c", self.config_dir, "-F", "*/*/chroot = n"])
        # Postfix re-reads a main.cf changed within the last ~2 s every 300 ms
        # until it is older (in case an editor is still writing it): backdate.
        past = time.time() - 10
        for name in ("main.cf", "master.cf"):
            os.utime(os.path.join(self.config_dir, name), (past, past))
        # TLS: self-signed P-256 certificate (fast to make).
        if not os.path.exists(self.cert_file):
            run([OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt",
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
        run([SASLPASSWD2, "-p", "-c", "-f", self.sasldb, "-u", realm, user],
            input=password.encode() + b"\n")
        _, gid = postfix_ids()
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
        if self.master_pid is not None and pid_alive(self.master_pid):
            return self
        self._configure()
        if not os.path.exists(self.sasldb):
            # smtpd's Cyrus setup wants the db to exist; add a placeholder user
            self.add_sasl_user(f"placeholder@{self.sasl_local_domain}", os.urandom(12).hex())
        self.check()
        # The check above is what `postfix start` would repeat; skip that once.
        open(os.path.join(self.queue_dir, "quick-start"), "w").close()
        register(self)
        status, out = self.postfix("start")
        self.master_pid = self._read_master_pid()
        if self.master_pid:
            self.watch(self.master_pid)
        if status != 0:
            log = self.log()
            self.stop()
            raise MailstackError(f"postfix -c {self.config_dir} start failed "
                                 f"(status {status}):\n{out}\n--- postfix.log ---\n{log}")
        try:
            wait_port(self.smtp_port, timeout, "postfix smtpd")
            wait_port(self.submission_port, timeout, "postfix submission")
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
        if pid and pid_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and (pid_alive(pid) or group_members(pid)):
                time.sleep(0.02)
            if pid_alive(pid) or group_members(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
                wait_until(lambda: not group_members(pid), 5, "postfix processes to die")
        self.master_pid = None
        self.release()

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
        return run([POSTCONF, "-c", self.config_dir, "-h", name]).stdout.decode().strip()

    # -- observation (log(), wait_log() from ManagedProcess) --------------

    def queue(self) -> list[dict]:
        """The queue as postqueue -j reports it (one dict per message)."""
        out = run([POSTQUEUE, "-c", self.config_dir, "-j"]).stdout.decode()
        return [json.loads(l) for l in out.splitlines() if l.strip()]

    def wait_queue_empty(self, timeout: float = 20.0) -> None:
        wait_until(lambda: not self.queue(), timeout,
                   f"the queue of {self.config_dir} to drain", interval=0.1)

    def flush(self) -> None:
        """Attempt delivery of all queued mail now (postqueue -f)."""
        run([POSTQUEUE, "-c", self.config_dir, "-f"])
