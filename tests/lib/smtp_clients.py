"""smtp_clients: the SMTP clients tests send with.

  * send_with_swaks()  one message with swaks (STARTTLS, AUTH). swaks needs
    Net::SSLeay (Debian: libnet-ssleay-perl) for --tls; without it `swaks
    --tls` fails before connecting (scripts/install-deps.sh installs it).
    swaks --data FILE dot-stuffs but sends one extra CRLF before the final
    dot: the receiver sees an extra empty line at the end of the body
    (harmless for DKIM, whose body canonicalisations drop trailing empty
    lines).
  * send_smtp()        message bytes unchanged, with smtplib.
  * smtp_load()        authenticated load: N threads, each one SMTP session
    with STARTTLS and AUTH on the submission port sending M messages over
    it (parallel swaks would cost a Perl start-up per message).
  * smtp_source()      Postfix's smtp-source, which cannot AUTH or STARTTLS:
    every connection to the plain port comes from 127.0.0.1, so a tenant
    with networks = 127.0.0.1/32 gets all its traffic.
Standard library only.
"""

from __future__ import annotations

import dataclasses
import os
import re
import smtplib
import ssl
import subprocess
import tempfile
import threading
import time
from typing import Callable, Mapping, Sequence

from commands import clean_env
from net import LOOPBACK

SMTP_SOURCE = "/usr/sbin/smtp-source"
SWAKS = "/usr/bin/swaks"


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
                              timeout=timeout + 15, env=clean_env())
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
            smtp.starttls(context=insecure_tls())
        if login:
            smtp.login(*login)
        return smtp.sendmail(sender, rcpts, message)


def insecure_tls() -> ssl.SSLContext:
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
                    smtp.starttls(context=insecure_tls())
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
                          timeout=timeout, env=clean_env())
    proc.elapsed = time.monotonic() - t0
    return proc
