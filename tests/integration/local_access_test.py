#!/usr/bin/python3
"""What a local user can reach: the milter's and policyd's sockets, key and
secret files, core dumps. The real daemons, started here as root and as
nobody, checked from outside (connect as another user, /proc).

Usage: local_access_test.py MILTER POLICYD TENANTMAILCTL   (as root)

  1  [shipped configuration] the shipped configuration: [milter] socket and [policyd] listen are unix
     sockets in /var/spool/postfix/tenantmail, the compiled defaults are the
     same, conf/postfix-main.cf names them relative to Postfix's queue
     directory, conf/sendmail.mc names the milter's and sets SMTP_MAILER_LL
     to 998 (Sendmail splits longer lines after signing)
  2  [unix sockets] unix sockets: mode 0660 (socket_mode), group taken from a set-group-id
     directory, user nobody cannot connect, no TCP warning
  3  [TCP sockets] TCP sockets: each daemon warns at start; check-config warns for each
     (exit status 0) and says nothing for unix sockets
  4  [file owners] key and bounce secret files owned by another account are refused
     (naming the owner); owned by root they load
  5  [core dumps] no core dumps: RLIMIT_CORE 0 and not dumpable (a daemon running as
     nobody has /proc/PID/mem owned by root, so nobody cannot read or
     ptrace it)
"""
from __future__ import annotations

import grp
import os
import pwd
import re
import socket
import stat
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import mailstack as ms  # noqa: E402
from checks import Report  # noqa: E402
import tenantmail_procs as tp  # noqa: E402

PACKAGE_SOCKET_DIR = "/var/spool/postfix/tenantmail"


REPORT = Report()
check = REPORT.check


def run(argv: list[str], timeout: float = 30) -> tuple[int, str]:
    proc = subprocess.run(argv, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL,
                          env=ms._clean_env())
    return proc.returncode, (proc.stdout + proc.stderr).decode("utf-8", "replace")


def conf_value(text: str, section: str, key: str) -> str | None:
    current = ""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("["):
            current = line.strip("[]")
        elif current == section and re.match(rf"{key}\s*=", line):
            return line.split("=", 1)[1].strip()
    return None


def connect_as_nobody(path: str) -> tuple[int, str]:
    return run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", sys.executable, "-c",
                "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])", path])


def shipped_configuration(milter: str, policyd: str) -> None:
    """1."""
    with open(os.path.join(TOP, "conf", "tenantmail.conf")) as f:
        conf = f.read()
    milter_socket = conf_value(conf, "milter", "socket")
    policy_socket = conf_value(conf, "policyd", "listen")
    for what, value, name in (("milter", milter_socket, "milter.sock"), ("policyd", policy_socket, "policy.sock")):
        check(f"shipped configuration: conf/tenantmail.conf: {what} listens on unix:{PACKAGE_SOCKET_DIR}/{name}",
              value == f"unix:{PACKAGE_SOCKET_DIR}/{name}", value)
    for binary, value in ((milter, milter_socket), (policyd, policy_socket)):
        status, out = run([binary, "--help"])
        check(f"shipped configuration: {os.path.basename(binary)} --help: the compiled default is {value}",
              status == 0 and f"(={value})" in out, out[:1500])
    with open(os.path.join(TOP, "conf", "postfix-main.cf")) as f:
        main_cf = f.read()
    check("shipped configuration: postfix-main.cf: smtpd_milters = unix:tenantmail/milter.sock (relative to the queue directory)",
          re.search(r"^smtpd_milters = unix:tenantmail/milter\.sock$", main_cf, re.M), main_cf[:800])
    check("shipped configuration: postfix-main.cf: check_policy_service unix:tenantmail/policy.sock",
          "check_policy_service { unix:tenantmail/policy.sock," in main_cf)
    check("shipped configuration: postfix-main.cf names no TCP socket of ours", not re.search(r"inet:127\.0\.0\.1:889[45]", main_cf))
    with open(os.path.join(TOP, "conf", "sendmail.mc")) as f:
        mc = f.read()
    check(f"shipped configuration: sendmail.mc: S=unix:{PACKAGE_SOCKET_DIR}/milter.sock",
          f"S=unix:{PACKAGE_SOCKET_DIR}/milter.sock," in mc)
    check("shipped configuration: sendmail.mc: define(`SMTP_MAILER_LL', `998')",
          re.search(r"^define\(`SMTP_MAILER_LL', `998'\)dnl$", mc, re.M))


def socket_mode(path: str) -> tuple[str, str]:
    st = os.lstat(path)
    return oct(stat.S_IMODE(st.st_mode)), grp.getgrgid(st.st_gid).gr_name


def unix_sockets(tmp: str, files: tp.TenantFiles, milter: str, policyd: str, redis: ms.RedisServer) -> None:
    """2."""
    directory = os.path.join(tmp, "sockets")
    os.makedirs(directory)
    group = "postfix" if _group_exists("postfix") else "nogroup"
    os.chown(directory, 0, grp.getgrnam(group).gr_gid)
    os.chmod(directory, 0o2755)  # others may enter: the socket's mode alone must keep them out
    milter_socket = os.path.join(directory, "milter.sock")
    config = files.write_config(0, name="unix.conf", socket=f"unix:{milter_socket}", record_messages="no")
    with tp.Milter(milter, config, tmp, name="milter-unix") as m:
        check("unix sockets: milter: unix socket mode 0660, group from the set-group-id directory",
              socket_mode(milter_socket) == ("0o660", group), socket_mode(milter_socket))
        status, out = connect_as_nobody(milter_socket)
        check("unix sockets: milter: user nobody cannot connect to its socket", status != 0 and "Permission denied" in out,
              f"status {status}: {out[-300:]}")
        check("unix sockets: milter: no TCP warning for a unix socket", "TCP socket" not in m.log(), m.log())
    policy_socket = os.path.join(directory, "policy.sock")
    with tp.Policyd(policyd, tmp, "policyd-unix", redis.port, files.tenants_path,
                    listen=f"unix:{policy_socket}") as p:
        check("unix sockets: policyd: unix socket mode 0660, group from the set-group-id directory",
              socket_mode(policy_socket) == ("0o660", group), socket_mode(policy_socket))
        status, out = connect_as_nobody(policy_socket)
        check("unix sockets: policyd: user nobody cannot connect to its socket", status != 0 and "Permission denied" in out,
              f"status {status}: {out[-300:]}")
        check("unix sockets: policyd: no TCP warning for a unix socket", "TCP socket" not in p.log(), p.log())


def _group_exists(name: str) -> bool:
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def tcp_sockets(tmp: str, files: tp.TenantFiles, milter: str, policyd: str, ctl: str,
                redis: ms.RedisServer) -> None:
    """3."""
    port = ms.free_port()
    config = files.write_config(port, name="tcp.conf", record_messages="no")
    with tp.Milter(milter, config, tmp, name="milter-tcp", port=port) as m:
        check("TCP sockets: milter on TCP warns at start: any local process can claim any tenant",
              re.search(rf"warning: the milter socket inet:{port}@127\.0\.0\.1 is a TCP socket: any local "
                        r"process can connect", m.log()), m.log())
    with tp.Policyd(policyd, tmp, "policyd-tcp", redis.port, files.tenants_path) as p:
        check("TCP sockets: policyd on TCP warns at start",
              re.search(rf"warning: the policy socket inet:{p.port}@127\.0\.0\.1 is a TCP socket", p.log()), p.log())
    with open(config, "a") as f:
        f.write(f"[policyd]\nlisten = inet:{port + 1}@127.0.0.1\n")
    status, out = run([ctl, "check-config", "-c", config])
    check("TCP sockets: check-config flags the milter's TCP socket (exit status 0)",
          status == 0 and f"warning: the milter socket inet:{port}@127.0.0.1 is a TCP socket" in out,
          f"status {status}: {out}")
    check("TCP sockets: check-config flags the policy TCP socket (the [policyd] section is read)",
          f"warning: the policy socket inet:{port + 1}@127.0.0.1 is a TCP socket" in out, out)
    with open(config, "a") as f:
        f.write("lisen = typo\n")
    status, out = run([ctl, "check-config", "-c", config])
    check("TCP sockets: check-config finds a typo in [policyd] (did you mean listen)",
          status != 0 and "lisen" in out and "listen" in out, f"status {status}: {out}")
    check("3 the [policyd] typo is named with its line and a did-you-mean, as [milter] typos are",
          re.search(r':\d+: unknown option "policyd\.lisen" \(did you mean "policyd\.listen"\?\)', out), out)
    unix_config = files.write_config(0, name="unix-ctl.conf", socket=f"unix:{tmp}/m.sock")
    with open(unix_config, "a") as f:
        f.write(f"[policyd]\nlisten = unix:{tmp}/p.sock\n")
    status, out = run([ctl, "check-config", "-c", unix_config])
    check("TCP sockets: check-config says nothing of unix sockets", status == 0 and "TCP socket" not in out,
          f"status {status}: {out}")
    with open(unix_config, "a") as f:
        f.write("max_connections = 20\n")
    status, out = run([ctl, "check-config", "-c", unix_config])
    check("3 check-config accepts an old option name, warning with the new one (exit status 0)",
          status == 0 and "warning: " in out
          and "policyd.max_connections is an old name of policyd.connection_limit" in out,
          f"status {status}: {out}")


def file_owners(tmp: str, files: tp.TenantFiles, milter: str, key: str) -> None:
    """4."""
    config = files.write_config(ms.free_port(), name="owners.conf")
    nobody = pwd.getpwnam("nobody").pw_uid
    for path, what in ((key, "key"), (files.secret_path, "bounce secret")):
        os.chown(path, nobody, -1)
        status, out = tp.run_check_config(milter, config)
        check(f"file owners: a {what} owned by nobody is refused, naming the owner",
              status != 0 and re.search(rf"{what} {re.escape(path)} is owned by nobody", out),
              f"status {status}: {out}")
        os.chown(path, 0, -1)
    status, out = tp.run_check_config(milter, config)
    check("file owners: owned by root again: the configuration loads", status == 0, f"status {status}: {out}")


def core_dumps(tmp: str, files: tp.TenantFiles, milter: str, policyd: str, redis: ms.RedisServer) -> None:
    """5."""
    directory = os.path.join(tmp, "nobody")
    os.makedirs(directory)
    os.chown(directory, pwd.getpwnam("nobody").pw_uid, -1)
    tenants = os.path.join(directory, "tenants.conf")
    with open(tenants, "w") as f:
        f.write("# no tenants\n")
    os.chmod(tenants, 0o644)
    sock = os.path.join(directory, "policy.sock")
    log_path = os.path.join(tmp, "policyd-nobody.log")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--",
                                 policyd, "-f", "-c", "/dev/null", f"--tenants_file={tenants}",
                                 f"--policyd.listen=unix:{sock}", f"--redis.port={redis.port}"],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=ms._clean_env())
    try:
        ms.wait_until(lambda: proc.poll() is not None or os.path.exists(sock), 10, "policyd as nobody to listen")
        check("core dumps: policyd runs as nobody", proc.poll() is None, open(log_path).read())
        with open(f"/proc/{proc.pid}/limits") as f:
            limits = f.read()
        check("core dumps: policyd: RLIMIT_CORE is 0", re.search(r"^Max core file size\s+0\s+0\s", limits, re.M), limits)
        with open(f"/proc/{proc.pid}/status") as f:
            uid = re.search(r"^Uid:\s+(\d+)", f.read(), re.M).group(1)
        owner = os.stat(f"/proc/{proc.pid}/mem").st_uid
        check("core dumps: policyd is not dumpable: /proc/PID/mem of a process running as nobody is owned by root",
              int(uid) == pwd.getpwnam("nobody").pw_uid and owner == 0, f"uid {uid}, /proc owner {owner}")
    finally:
        ms._stop_child(proc, 10)
    port = ms.free_port()
    config = files.write_config(port, name="dump.conf", record_messages="no")
    with tp.Milter(milter, config, tmp, name="milter-dump", port=port) as m:
        with open(f"/proc/{m.pid}/limits") as f:
            limits = f.read()
        check("core dumps: milter: RLIMIT_CORE is 0", re.search(r"^Max core file size\s+0\s+0\s", limits, re.M), limits)


def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    milter, policyd, ctl = (os.path.abspath(a) for a in sys.argv[1:])
    if os.geteuid() != 0:
        print("local_access_test: needs root (setpriv, chown)", file=sys.stderr)
        return 1

    def body():
        shipped_configuration(milter, policyd)
        with ms.managed_workdir("tenantmail-local-access-") as tmp, ms.RedisServer(tmp) as redis:
            os.chmod(tmp, 0o755)
            files = tp.TenantFiles(tmp)
            key = files.rsa_key("acme")
            files.publish("acme.example", "s1", key)
            files.bounce_secret()
            files.write_tenants({"acme": {"domains": "acme.example", "selector": "s1", "key": key,
                                          "bounce_domain": "mta.acme.example", "sasl_users": "acme-app"}})
            unix_sockets(tmp, files, milter, policyd, redis)
            tcp_sockets(tmp, files, milter, policyd, ctl, redis)
            file_owners(tmp, files, milter, key)
            core_dumps(tmp, files, milter, policyd, redis)
    return REPORT.run_main(body, failure="the test ran to its end", cleanup=ms.stop_all,
                           require_passes=True)


if __name__ == "__main__":
    sys.exit(main())
