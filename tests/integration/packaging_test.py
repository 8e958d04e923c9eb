#!/usr/bin/python3
"""The Debian package, built, checked, installed, used, removed and purged.

Usage: packaging_test.py [--build-only DIR | --from DIR]
       (as root, on Debian 12; ctest label "packaging")

With no argument, all of the checks below. --build-only DIR does check 1 and
leaves the package in DIR; --from DIR does checks 2-8 with the package found
there. ctest runs the two halves apart: the build beside the other tests,
only the install, which changes the system, alone.

  1  [build] packaging/build-deb.sh builds the package in a temp copy of the tree
     exactly as the README tells a user to (no DEB_BUILD_OPTIONS, so the
     unit tests run in dpkg-buildpackage's test step and the debug symbol
     package is made); lintian: no error
  2  [install] dpkg -i (apt-get -f install if dependencies are missing); the postinst
     says where the Postfix snippets are and edits nothing of Postfix
  3  [installed files] installed files: every program's --version is the changelog's upstream
     version; --check-config passes on the packaged example files (as root
     and as the daemon user); /etc/tenantmail, both conffiles, the key and
     webhook secret directories (0700), the bounce secret (0600) and
     /var/lib/tenantmail (0750) and the socket directory
     /var/spool/postfix/tenantmail (2750 tenantmail:postfix) have the right
     owners and modes; the tenantmail system user and group exist
  4  [systemd units] systemd units of the four daemons: installed, enabled by
     dh_installsystemd, hardened (NoNewPrivileges, ProtectSystem=strict,
     ProtectHome, PrivateTmp, Restart=on-failure, User=tenantmail, writing
     only to the socket directory or its StateDirectory, no core dumps),
     and `systemd-analyze verify` accepts them
  5  [man pages] man pages: one per program (8) and config file (5), no warnings from
     man, and every option of --help / every key of conf/*.conf is in them
  6  [Postfix snippets] the Postfix snippets parse (postconf) and name only real parameters;
     the bounce pipe transport runs the installed tenantmail-bounce
  7  [serving] the installed daemons serve: a tenant is added to the packaged
     tenants.conf, its key made by the installed `tenantmailctl keygen` as
     user tenantmail; milter and policyd are started as the units start
     them (ExecStart, as User=, in the foreground, no new privileges) on
     their default unix sockets (0660, group postfix; another local user
     cannot connect), behind a private Postfix configured with the packaged
     main.cf snippet, Redis and smtp-sink. One message sent
     with swaks (STARTTLS + AUTH) arrives signed (dkimpy verifies), with a
     bounce address the installed tenantmailctl authenticates with the
     postinst's secret, and policyd counted it in Redis
  8  [remove and purge] dpkg -r keeps keys, secrets, state, conffiles and the user; dpkg -P removes
     them, and nothing else is left: the file trees the package and its
     scripts touch are as they were before the install

Refuses to run (exit 1) when the tenantmail package or user already exists:
it would be purged. Whatever happens, the package is purged at the end.
Prints one "ok"/"FAIL" line per check and "packaging: N passed, M failed".
TM_KEEP_TMP=1 keeps the temp dir (with the built package and logs).
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import shlex
import shutil
import stat
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import dkim_verify  # noqa: E402
import mailstack as ms  # noqa: E402
from checks import Report  # noqa: E402
from managed_process import ManagedProcess  # noqa: E402

PKG = "tenantmail"
USER = "tenantmail"
CONF = "/etc/tenantmail"
STATE = "/var/lib/tenantmail"
PROGRAMS = ("tenantmail-milter", "tenantmail-policyd", "tenantmail-bounce", "tenantmail-maillog",
            "tenantmail-webhookd", "tenantmail-trackd", "tenantmailctl")
# Programs with --check-config, and what it says about the packaged files.
CHECK_CONFIG = {"tenantmail-milter": "configuration OK: 0 tenants",
                "tenantmail-policyd": "configuration OK: 0 tenants",
                "tenantmail-bounce": "configuration OK: 0 tenants",
                "tenantmail-maillog": "configuration OK: following /var/log/postfix.log",
                "tenantmail-webhookd": "configuration OK: 0 tenants with a webhook",
                "tenantmail-trackd": "configuration OK: 0 tenants, 0 with a tracking_domain"}
# The systemd units, and the directory each may write to besides nothing:
# the socket directory or StateDirectory (maillog's place in the log).
SOCKET_DIR = "/var/spool/postfix/tenantmail"
UNITS = {"tenantmail-milter": ("ReadWritePaths", f"-{SOCKET_DIR}"),
         "tenantmail-policyd": ("ReadWritePaths", f"-{SOCKET_DIR}"),
         "tenantmail-maillog": ("StateDirectory", "tenantmail"),
         "tenantmail-webhookd": (None, None),
         "tenantmail-trackd": (None, None)}
UNIT_DIR = "/lib/systemd/system"
SHARE = "/usr/share/tenantmail"
MAN_PAGES = {**{f"/usr/share/man/man8/{p}.8.gz": p for p in PROGRAMS},
             "/usr/share/man/man5/tenantmail.conf.5.gz": "conf/tenantmail.conf",
             "/usr/share/man/man5/tenants.conf.5.gz": "conf/tenants.conf"}
# Trees the package, its maintainer scripts and dh_installsystemd write to;
# after the purge they must hold exactly the paths they held before.
# (/run/systemd/systemd-units-load is systemd-analyze's, not the package's.)
IGNORED = {"/run/systemd/systemd-units-load"}
WATCHED = ("/etc", "/lib/systemd/system", "/usr/lib/systemd", "/usr/sbin", "/usr/share/tenantmail",
           "/usr/share/doc", "/usr/share/man", "/usr/share/lintian/overrides", "/var/lib/systemd",
           "/run", "/var/spool/postfix")
PASSWORD = "pw-" + os.urandom(6).hex()


REPORT = Report("packaging")
check = REPORT.check


def info(text: str) -> None:
    print(f"     {text}", flush=True)


def run(argv, timeout: float = 120, env: dict | None = None, input: bytes | None = None,
        cwd: str | None = None) -> tuple[int, str]:
    """Run argv; (status, stdout+stderr as text)."""
    proc = subprocess.run(list(argv), capture_output=True, timeout=timeout, input=input,
                          env={**ms._clean_env(), **(env or {})}, cwd=cwd,
                          stdin=None if input is not None else subprocess.DEVNULL)
    return proc.returncode, (proc.stdout + proc.stderr).decode("utf-8", "replace")


def as_user(argv: list[str], user: str = USER) -> list[str]:
    """argv run as user, its groups, no new privileges: what User= and
    NoNewPrivileges= of the units give the daemons."""
    return ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--no-new-privs",
            "--inh-caps=-all", "--", *argv]


def package_status() -> str:
    status, out = run(["dpkg-query", "-W", "-f=${Status}", PKG])
    return out.strip() if status == 0 else ""


def snapshot() -> set[str]:
    paths: set[str] = set()
    for root in WATCHED:
        if not os.path.lexists(root):
            continue
        paths.add(root)
        for dirpath, dirnames, filenames in os.walk(root):
            for name in dirnames + filenames:
                paths.add(os.path.join(dirpath, name))
    return paths - IGNORED


def mode_owner(path: str) -> tuple[str, str, str]:
    st = os.lstat(path)
    return (oct(stat.S_IMODE(st.st_mode)), pwd.getpwuid(st.st_uid).pw_name,
            grp.getgrgid(st.st_gid).gr_name)


def unit_settings(path: str) -> dict[str, list[str]]:
    """Key -> values of the (non-comment) lines of a unit file."""
    out: dict[str, list[str]] = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith(("#", ";", "[")) or "=" not in line:
                continue
            key, _, value = line.partition("=")
            out.setdefault(key.strip(), []).append(value.strip())
    return out


def man_source(path: str) -> str:
    """The roff source of an installed (gzipped) man page, escapes resolved
    enough to search for option names."""
    import gzip
    with gzip.open(path, "rt", encoding="utf-8") as f:
        text = f.read()
    text = text.replace("\\-", "-").replace("\\e", "\\")
    return re.sub(r"\\f[BIRP]", "", text)


def snippet_settings(path: str) -> dict[str, str]:
    """name -> value of a Postfix main.cf snippet (continuation lines joined)."""
    out: dict[str, str] = {}
    name = None
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                name = None if not line.strip() else name
                continue
            if line[0].isspace() and name:
                out[name] += " " + line.strip()
                continue
            name, _, value = line.partition("=")
            name = name.strip()
            out[name] = value.strip()
    return {k: v.strip() for k, v in out.items()}


# ---------------------------------------------------------------------------

class Daemon(ManagedProcess):
    """An installed daemon started like its systemd unit starts it: the
    unit's ExecStart (foreground), as its User=, with extra arguments
    (only the listening ports here); stderr (its log) to a file."""

    stop_timeout = 10.0

    def __init__(self, name: str, extra: list[str], directory: str):
        self.name = name
        settings = unit_settings(os.path.join(UNIT_DIR, f"{name}.service"))
        self.argv = as_user(shlex.split(settings["ExecStart"][0]) + extra, settings["User"][0])
        super().__init__(os.path.join(directory, f"{name}.log"))

    def start(self, where: int | str, timeout: float = 15.0) -> "Daemon":
        """where: the TCP port or the unix socket path it will listen on."""
        self.spawn(self.argv, cwd="/")

        def ready():
            if self.proc.poll() is not None:
                raise ms.MailstackError(f"{self.name} exited with status {self.proc.returncode}:\n"
                                        + self.log())
            if isinstance(where, int):
                return ms.port_open(where)
            return os.path.exists(where) and stat.S_ISSOCK(os.lstat(where).st_mode)
        ms.wait_until(ready, timeout, f"{self.name} to listen on {where}")
        return self


# ---------------------------------------------------------------------------

def build(tmp: str, out: str) -> tuple[str, str]:
    """1. Build into out; return (.deb path, .changes path)."""
    t0 = time.monotonic()
    # The README's command, nothing added: a package that builds only with
    # nocheck, or only in some directory, would pass here and fail for users.
    status, log = run(["bash", os.path.join(TOP, "packaging", "build-deb.sh"), out], timeout=2100)
    with open(os.path.join(tmp, "build.log"), "w") as f:
        f.write(log)
    info(f"package built in {time.monotonic() - t0:.0f}s")
    debs = sorted(f for f in os.listdir(out) if f.startswith(f"{PKG}_") and f.endswith(".deb")) \
        if os.path.isdir(out) else []
    changes = sorted(f for f in os.listdir(out) if f.endswith(".changes")) if os.path.isdir(out) else []
    if not check("build: dpkg-buildpackage -us -uc -b built tenantmail_*.deb", status == 0 and debs and changes,
                 log[-3000:]):
        raise SystemExit("cannot go on without a package")
    for f in sorted(os.listdir(out)):
        info(f"built {f}")
    return os.path.join(out, debs[0]), os.path.join(out, changes[0])


def lintian(changes: str) -> None:
    t0 = time.monotonic()
    status, out = run(["lintian", "--fail-on", "error", "--display-info", changes], timeout=600)
    info(f"lintian ({time.monotonic() - t0:.0f}s), exit {status}:")
    for line in out.splitlines():
        info(f"  {line}")
    errors = [l for l in out.splitlines() if l.startswith("E:")]
    check("build: lintian: no errors", status == 0 and not errors, "\n".join(errors) or out[-2000:])


def install(deb: str) -> str:
    """2. dpkg -i, then apt-get -f install when dependencies were missing."""
    status, out = run(["dpkg", "-i", deb], timeout=300)
    if status != 0:
        info("dpkg -i failed; apt-get -f install for the dependencies")
        status2, out2 = run(["apt-get", "-f", "install", "-y", "-q", "--no-install-recommends"],
                            timeout=600, env={"DEBIAN_FRONTEND": "noninteractive"})
        out += out2
    ok = package_status() == "install ok installed"
    if not check("install: dpkg -i: package installed", ok, out[-3000:]):
        raise SystemExit("cannot go on without the package installed")
    check("install: postinst names the Postfix snippets in /usr/share/tenantmail",
          f"{SHARE}/postfix-main.cf" in out and f"{SHARE}/postfix-master.cf" in out, out)
    return out


def installed_files(version: str) -> None:
    """3."""
    for prog in PROGRAMS:
        path = f"/usr/sbin/{prog}"
        status, out = run([path, "--version"])
        check(f"installed files: {path} --version prints {prog} {version}",
              status == 0 and out.strip() == f"{prog} {version}", f"status {status}: {out}")
        check(f"installed files: {path} is 0755 root:root", os.path.exists(path) and mode_owner(path) == ("0o755", "root", "root"),
              mode_owner(path) if os.path.exists(path) else "missing")

    conf = f"{CONF}/tenantmail.conf"
    for who, wrap in (("root", lambda a: a), (USER, as_user)):
        for prog, says in CHECK_CONFIG.items():
            status, out = run(wrap([f"/usr/sbin/{prog}", "--check-config", "-c", conf]))
            check(f"installed files: {prog} --check-config on the packaged files (as {who}): {says}",
                  status == 0 and says in out, f"status {status}: {out}")
        status, out = run(wrap(["/usr/sbin/tenantmailctl", "check-config", "-c", conf]))
        check(f"installed files: tenantmailctl check-config on the packaged files (as {who}): no TCP socket warning",
              status == 0 and "TCP socket" not in out, f"status {status}: {out}")

    expected = {CONF: ("0o755", "root", "root"),
                f"{CONF}/tenantmail.conf": ("0o644", "root", "root"),
                f"{CONF}/tenants.conf": ("0o644", "root", "root"),
                f"{CONF}/keys": ("0o700", USER, USER),
                f"{CONF}/webhooks": ("0o700", USER, USER),
                f"{CONF}/bounce.secret": ("0o600", USER, USER),
                STATE: ("0o750", USER, USER),
                SOCKET_DIR: ("0o2750", USER, "postfix")}
    for path, want in expected.items():
        got = mode_owner(path) if os.path.lexists(path) else "missing"
        check(f"installed files: {path}: mode {want[0][2:]}, {want[1]}:{want[2]}", got == want, got)
    with open(f"{CONF}/bounce.secret") as f:
        secret = f.read().strip()
    check("installed files: bounce.secret: 64 hex digits from the postinst", re.fullmatch(r"[0-9a-f]{64}", secret),
          f"{len(secret)} characters")
    status, out = run(["dpkg-query", "-W", "-f=${Conffiles}", PKG])
    conffiles = [l.split()[0] for l in out.splitlines() if l.strip()]
    check("installed files: conffiles: tenantmail.conf and tenants.conf",
          sorted(conffiles) == [f"{CONF}/tenantmail.conf", f"{CONF}/tenants.conf"], out)
    with open(f"{CONF}/tenants.conf") as f:
        tenants = f.read()
    check("installed files: packaged tenants.conf keeps the documented examples, commented out",
          "# [acme]" in tenants and not re.search(r"^\[", tenants, re.M), tenants[-600:])
    try:
        pw, gr = pwd.getpwnam(USER), grp.getgrnam(USER)
        check("installed files: system user and group tenantmail (uid < 1000, nologin, no home)",
              pw.pw_uid < 1000 and pw.pw_gid == gr.gr_gid and pw.pw_shell.endswith("nologin")
              and not os.path.exists(pw.pw_dir), pw)
    except KeyError as exc:
        check("installed files: system user and group tenantmail", False, str(exc))


def units() -> None:
    """4."""
    paths = []
    for name, (writable, directory) in UNITS.items():
        path = os.path.join(UNIT_DIR, f"{name}.service")
        paths.append(path)
        if not check(f"systemd units: {path} installed", os.path.exists(path)):
            continue
        s = unit_settings(path)
        want = {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
                "PrivateTmp": "yes", "Restart": "on-failure", "User": USER, "Group": USER, "LimitCORE": "0"}
        if writable:
            want[writable] = directory
        wrong = {k: s.get(k) for k, v in want.items() if s.get(k) != [v]}
        check(f"systemd units: {name}.service hardening: " + ", ".join(f"{k}={v}" for k, v in want.items()),
              not wrong, wrong)
        others = [k for k in ("ReadWritePaths", "RuntimeDirectory", "StateDirectory") if k in s and k != writable]
        check(f"systemd units: {name}.service: writes only to {writable or 'nothing'}",
              not others, {k: s[k] for k in others})
        exec_start = shlex.split(s.get("ExecStart", [""])[0])
        check(f"systemd units: {name}.service runs /usr/sbin/{name} -f -c {CONF}/tenantmail.conf",
              exec_start == [f"/usr/sbin/{name}", "-f", "-c", f"{CONF}/tenantmail.conf"], exec_start)
        link = f"/etc/systemd/system/multi-user.target.wants/{name}.service"
        check(f"systemd units: {name}.service enabled by the postinst (dh_installsystemd)", os.path.islink(link), link)
    status, out = run(["systemd-analyze", "verify", *paths], timeout=120)
    info(f"systemd-analyze verify: exit {status}" + "".join(f"\n       {l}" for l in out.splitlines()))
    ours = [l for l in out.splitlines() if "tenantmail" in l]
    check("systemd units: systemd-analyze verify: exit 0, nothing said about our units", status == 0 and not ours,
          f"status {status}:\n{out}")


def man_pages() -> None:
    """5."""
    for path, source in MAN_PAGES.items():
        if not check(f"man pages: {path} installed", os.path.exists(path)):
            continue
        # groff's warnings go to stderr; the page itself to stdout.
        proc = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", path], stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60,
                              env={**ms._clean_env(), "MANWIDTH": "80"})
        warnings = proc.stderr.decode("utf-8", "replace").strip()
        check(f"man pages: man --warnings -l {os.path.basename(path)}: renders, no warnings",
              proc.returncode == 0 and proc.stdout.strip() and not warnings, warnings)
        text = man_source(path)
        if source.startswith("conf/"):
            with open(os.path.join(TOP, source)) as f:
                keys = set(re.findall(r"^#?\s?([a-z_][a-z0-9_]*)\s*=", f.read(), re.M))
            missing = sorted(k for k in keys if not re.search(rf"\b{re.escape(k)}\b", text))
            check(f"man pages: {os.path.basename(path)} documents every key of {source} ({len(keys)})",
                  keys and not missing, missing)
        else:
            _, helptext = run([f"/usr/sbin/{source}", "--help"])
            if source == "tenantmailctl":   # and the options of each command
                for command in re.findall(r"^  ([a-z][a-z0-9-]*(?: [a-z][a-z0-9-]*)*)(?=\s|$)", helptext, re.M):
                    helptext += run([f"/usr/sbin/{source}", *command.split(), "--help"])[1]
            options = set(re.findall(r"--[a-z][a-z0-9_.-]*", helptext))
            missing = sorted(o for o in options if o not in text)
            check(f"man pages: {os.path.basename(path)} lists every option of {source} --help ({len(options)})",
                  options and not missing, missing)


def postfix_snippets(tmp: str) -> None:
    """6. The snippets parse, and name only parameters Postfix knows."""
    _, defaults = run(["postconf", "-d"])
    known = {m.group(1) for m in re.finditer(r"^(\S+) =", defaults, re.M)}
    d = os.path.join(tmp, "snippets")
    os.makedirs(d)

    with open(f"{SHARE}/postfix-main.cf") as f:
        main_text = f.read()
    with open(f"{SHARE}/postfix-master.cf") as f:
        master_text = f.read()
    with open(os.path.join(d, "main.cf"), "w") as f:
        f.write(main_text)
    with open(os.path.join(d, "master.cf"), "w") as f:
        f.write(master_text)
    names = set(snippet_settings(os.path.join(d, "main.cf")))
    for want in ("smtpd_milters", "non_smtpd_milters", "milter_default_action", "smtpd_recipient_restrictions",
                 "maillog_file", "transport_maps", "relay_domains"):
        check(f"Postfix snippets: postfix-main.cf sets {want}", want in names)
    unknown = sorted(n for n in names if n not in known)
    check("Postfix snippets: postfix-main.cf names only parameters Postfix knows (postconf -d)", not unknown, unknown)
    status, out = run(["postconf", "-c", d, "-n"])
    check("Postfix snippets: postconf -n reads postfix-main.cf", status == 0 and "warning" not in out, out)
    status, out = run(["postconf", "-c", d, "-M"])
    services = {l.split()[0] + "/" + l.split()[1] for l in out.splitlines() if l.strip()}
    check("Postfix snippets: postconf -M reads postfix-master.cf: submission/inet, tenantmail-bounce/unix and the "
          "two IP pools", status == 0 and {"submission/inet", "tenantmail-bounce/unix", "smtp-pool-a/unix",
                                           "smtp-pool-b/unix"} <= services, out)
    status, out = run(["postconf", "-c", d, "-P", "submission/inet/smtpd_tls_auth_only"])
    check("Postfix snippets: submission: smtpd_tls_auth_only=yes", status == 0 and out.strip().endswith("= yes"), out)
    status, out = run(["postconf", "-c", d, "-M", "tenantmail-bounce/unix"])
    program = re.search(r"\bargv=(\S+)", out)
    check("Postfix snippets: the bounce pipe transport runs the installed /usr/sbin/tenantmail-bounce",
          status == 0 and program and program.group(1) == "/usr/sbin/tenantmail-bounce"
          and os.access(program.group(1), os.X_OK), out)


def serve(tmp: str) -> None:
    """7. One signed message through the installed daemons."""
    tenant, domain, selector = "pkgtest", "pkgtest.example", "pkg2026"
    key = f"{CONF}/keys/{tenant}.{selector}.pem"
    with open(f"{CONF}/tenants.conf", "a") as f:
        f.write(f"\n[{tenant}]\ndomains = {domain}\nselector = {selector}\nkey = {key}\n"
                f"bounce_domain = mta.{domain}\nsasl_users = pkg-app\nbulk_rate = 100/1m\n")
    status, out = run(as_user(["/usr/sbin/tenantmailctl", "keygen", tenant]))
    check("serving: tenantmailctl keygen as user tenantmail writes the key (0600 tenantmail) and a TXT record",
          status == 0 and os.path.exists(key) and mode_owner(key) == ("0o600", USER, USER)
          and "v=DKIM1" in out, f"status {status}: {out}")
    status, out = run(as_user(["/usr/sbin/tenantmail-milter", "--check-config", "-c", f"{CONF}/tenantmail.conf"]))
    check("serving: milter --check-config as tenantmail with the new tenant: 1 tenant",
          status == 0 and "configuration OK: 1 tenants" in out, out)

    dns = dkim_verify.DnsTable()
    dns.add_key_file(domain, selector, key)
    milter_socket, policy_socket = f"{SOCKET_DIR}/milter.sock", f"{SOCKET_DIR}/policy.sock"
    with ms.RedisServer(tmp) as redis, ms.SmtpSink(tmp) as sink:
        milter = Daemon("tenantmail-milter", [], tmp)
        policyd = Daemon("tenantmail-policyd", [f"--redis.port={redis.port}"], tmp)
        try:
            milter.start(milter_socket)
            policyd.start(policy_socket)
            info(f"milter pid {milter.proc.pid}, policyd pid {policyd.proc.pid} on their default sockets, "
                 f"redis {redis.port}, sink {sink.port}")
            for path in (milter_socket, policy_socket):
                check(f"serving: {path}: mode 0660, tenantmail:postfix (group from the set-group-id directory)",
                      mode_owner(path) == ("0o660", USER, "postfix"), mode_owner(path))
                status, out = run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--",
                                   sys.executable, "-c",
                                   "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])",
                                   path])
                check(f"serving: another local user (nobody) cannot connect to {path}",
                      status != 0 and "Permission denied" in out, f"status {status}: {out[-300:]}")
            check("serving: no TCP warning from either daemon",
                  "TCP socket" not in milter.log() + policyd.log(), milter.log() + policyd.log())
            # The packaged main.cf snippet, as an administrator pastes it; the
            # sockets it names relative to Postfix's queue directory are the
            # package's, absolute here since this Postfix has its own queue
            # directory. The file-bound lines stay out.
            extra = {k: v.replace("unix:tenantmail/", f"unix:{SOCKET_DIR}/")
                     for k, v in snippet_settings(f"{SHARE}/postfix-main.cf").items()
                     if k not in ("maillog_file", "relay_domains", "transport_maps")}
            pf = ms.PrivatePostfix(tmp, sink.port, extra_main_cf=extra)
            pf.add_sasl_user("pkg-app", PASSWORD)
            with pf:
                res = ms.send_with_swaks(pf.submission_port, f"alice@{domain}", "rcpt@example.org",
                                         auth_user="pkg-app", auth_password=PASSWORD,
                                         headers={"From": f"Alice <alice@{domain}>", "To": "<rcpt@example.org>"},
                                         subject="packaging test", body="Hello from the installed package.\n")
                m = re.search(r"250 2\.0\.0 Ok: queued as (\w+)", res.transcript)
                check("serving: swaks STARTTLS + AUTH: queued", res.ok and m, res.transcript[-1500:])
                msgs = sink.received(1, timeout=20)
                msg = msgs[0]
                results = dkim_verify.verify_message(msg.data, dns)
                check(f"serving: message arrives signed d={domain} s={selector}, dkimpy verifies",
                      len(results) >= 1 and all(r.ok for r in results)
                      and any(r.domain == domain and r.selector == selector for r in results),
                      "; ".join(r.line("msg") for r in results))
                check(f"serving: envelope sender is a bounce address on mta.{domain}",
                      re.fullmatch(rf"bounces\+\S+@mta\.{re.escape(domain)}", msg.sender), msg.sender)
                status, out = run(as_user(["/usr/sbin/tenantmailctl", "bounce-decode", msg.sender]))
                check("serving: installed tenantmailctl bounce-decode authenticates it with the postinst's secret, "
                      "queue id matches", status == 0 and m and f"queue_id={m.group(1)}" in out,
                      f"status {status}: {out}")
                keys = redis.command("KEYS", f"tm:{{{tenant}}}:*") or []
                check("serving: policyd counted the recipient in Redis (tm:{pkgtest}:...)", keys, keys)
                check("serving: milter logged the tenant", re.search(rf"tenant={tenant}\b", milter.log()), milter.log())
        finally:
            for d in (milter, policyd):
                status = d.stop()
                check(f"serving: {d.name} stops on SIGTERM with status 0", status == 0, f"{status}\n{d.log()[-1500:]}")
        check("serving: policyd's closing log line: the request was permitted",
              re.search(r"stopping on signal 15: 1 requests, 1 permitted", policyd.log()), policyd.log())


def remove_and_purge(before: set[str]) -> None:
    """8."""
    status, out = run(["dpkg", "-r", PKG], timeout=300)
    check("remove and purge: dpkg -r", status == 0 and package_status() == "deinstall ok config-files", out)
    check("remove and purge: after remove: programs gone", not any(os.path.exists(f"/usr/sbin/{p}") for p in PROGRAMS))
    kept = [p for p in (f"{CONF}/tenantmail.conf", f"{CONF}/tenants.conf", f"{CONF}/keys", f"{CONF}/webhooks",
                        f"{CONF}/bounce.secret", f"{CONF}/keys/pkgtest.pkg2026.pem", STATE) if not os.path.exists(p)]
    check("remove and purge: after remove: conffiles, keys, secrets and maillog state kept", not kept, kept)
    try:
        pwd.getpwnam(USER)
        check("remove and purge: after remove: user tenantmail kept", True)
    except KeyError:
        check("remove and purge: after remove: user tenantmail kept", False)

    status, out = run(["dpkg", "-P", PKG], timeout=300)
    check("remove and purge: dpkg -P", status == 0 and package_status() in ("", "unknown ok not-installed"), out)
    check(f"remove and purge: after purge: {CONF} gone", not os.path.exists(CONF))
    check(f"remove and purge: after purge: {STATE} gone", not os.path.exists(STATE))
    for name, db in ((USER, pwd.getpwnam), (USER + " group", grp.getgrnam)):
        try:
            db(USER)
            gone = False
        except KeyError:
            gone = True
        check(f"remove and purge: after purge: {name} gone", gone)
    after = snapshot()
    check("remove and purge: after purge: nothing left behind (watched trees as before the install)",
          after == before, {"left": sorted(after - before)[:30], "missing": sorted(before - after)[:30]})


def version_from_changelog() -> str:
    status, out = run(["dpkg-parsechangelog", "-l", os.path.join(TOP, "packaging", "debian", "changelog"),
                       "-S", "Version"])
    return out.strip().rsplit("-", 1)[0]


def built_package(out: str) -> tuple[str, str]:
    """The .deb and .changes an earlier --build-only left in out."""
    found = sorted(os.listdir(out)) if os.path.isdir(out) else []
    debs = [f for f in found if f.startswith(f"{PKG}_") and f.endswith(".deb")]
    changes = [f for f in found if f.endswith(".changes")]
    if len(debs) != 1 or len(changes) != 1:
        raise SystemExit(f"{out} holds no single built package (run --build-only first): {found}")
    return os.path.join(out, debs[0]), os.path.join(out, changes[0])


def install_and_use(tmp: str, deb: str, version: str) -> None:
    """2-8 on the built package; the package is purged whatever happens."""
    before = snapshot()
    try:
        install(deb)
        installed_files(version)
        units()
        man_pages()
        postfix_snippets(tmp)
        try:
            serve(tmp)
        except Exception:
            check("serving through the installed daemons", False, traceback.format_exc())
        remove_and_purge(before)
    finally:
        if package_status() not in ("", "unknown ok not-installed"):
            print("packaging_test: purging the package after a failure", flush=True)
            run(["dpkg", "-P", PKG], timeout=300)


def main(argv: list[str]) -> int:
    if argv and (len(argv) != 2 or argv[0] not in ("--build-only", "--from")):
        print("usage: packaging_test.py [--build-only DIR | --from DIR]")
        return 2
    mode, out = (argv[0], os.path.abspath(argv[1])) if argv else ("", "")
    if os.geteuid() != 0:
        print("packaging_test: must run as root (it installs and purges the package)")
        return 1
    missing = [t for t in ("dpkg-buildpackage", "lintian", "help2man", "systemd-analyze", "setpriv")
               if not shutil.which(t)]
    if missing:
        print(f"packaging_test: missing {', '.join(missing)}: run scripts/install-deps.sh")
        return 1
    if mode == "--build-only":
        shutil.rmtree(out, ignore_errors=True)
        with ms.workdir("tenantmail-packaging-") as tmp:
            _, changes = build(tmp, out)
            lintian(changes)
        return 0
    exists = package_status() not in ("", "unknown ok not-installed")
    try:
        pwd.getpwnam(USER)
        exists = True
    except KeyError:
        pass
    if exists or os.path.exists(CONF):
        print(f"packaging_test: the {PKG} package, user or {CONF} is already on this machine; the test "
              f"would purge it. Remove it first (dpkg -P {PKG}) or run the test elsewhere.")
        return 1

    version = version_from_changelog()
    with ms.workdir("tenantmail-packaging-") as tmp:
        if mode == "--from":
            deb, _ = built_package(out)
        else:
            deb, changes = build(tmp, os.path.join(tmp, "out"))
            lintian(changes)
        install_and_use(tmp, deb, version)
    return 0


if __name__ == "__main__":
    try:
        status = main(sys.argv[1:])
    except SystemExit as exc:
        print(f"packaging_test: stopped: {exc}", flush=True)
        status = 1
    except Exception:
        check("packaging test ran to the end", False, traceback.format_exc())
        status = 1
    sys.exit(REPORT.finish(extra_failure=bool(status)))
