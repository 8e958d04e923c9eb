#!/usr/bin/python3
"""Accepted-only counting: a recipient permitted at RCPT counts only if the
message is really queued.

Starts, on loopback in a temp dir: redis-server, two tenantmail-policyd,
tenantmail-milter, an smtp-sink and a private Postfix with two submission
services, each asking its own policyd at RCPT, handing every message to the
milter. The tenant counts its bulk mail accepted-only (bulk_rate = 10/1h,
bulk_quota = 10/day); its transactional
mail counts at RCPT as before. Checks, by reading the counters in Redis:
  * messages the milter refuses at the end of DATA (a From the tenant does
    not own; a line over 998 octets) take their recipients' counts back;
  * RSET after RCPT (Postfix tells the milter with its next MAIL), the end
    of the connection after that, and a client that disconnects after RCPT
    do too;
  * the same refusal of transactional mail stays counted (per class);
  * a queued message keeps its counts, and nothing is left held;
  * a recipient Postfix refuses after policyd permitted it (a restriction
    after check_policy_service) is given back when the message is queued
    for the others; a messages-counted login limit keeps that message and
    gives back the refused ones;
  * tenantmailctl usage shows the permits an open transaction holds;
  * Redis not answering while the milter settles: the message is still
    refused, its place stays taken (never freed by a fault), one warning;
  * concurrent single-recipient messages through both services after all
    that: exactly as many are queued as the limit has room for, the others
    refused at RCPT; the window holds 10 members, the daily quota 10, the
    sink got each queued message;
  * Postfix sent client_port and server_address, the milter {daemon_addr}:
    both named the connection alike (nothing stays held).
Prints "policyd_accepted: N passed, M failed"; exits non-zero on any failure.

Run (as root): /usr/bin/python3 tests/integration/policyd_accepted_test.py \
    PATH/TO/tenantmail-milter PATH/TO/tenantmail-policyd PATH/TO/tenantmailctl
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import re
import smtplib
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import mailstack as ms  # noqa: E402
import tenantmail_procs as tp  # noqa: E402
from checks import Report  # noqa: E402

NAME = "policyd_accepted"
REPORT = Report(NAME)
check = REPORT.check
TENANT = "acme"
PASSWORD = "accepted-pw-1"
BULK, TX = "acme-bulk", "acme-tx"
SENDER = "news@acme.example"
LIMIT = 10
REFUSED_LATER = "refused-later@example.org"  # refused by Postfix after policyd


def message(sender_header: str, subject: str, body: str = "accepted-only test") -> bytes:
    return (f"From: {sender_header}\r\nTo: r@example.org\r\nSubject: {subject}\r\n"
            f"Date: Mon, 23 Nov 2026 08:00:00 +0000\r\nMessage-ID: <{subject}@acme.example>\r\n\r\n"
            f"{body}\r\n").encode()


class Stack:
    def __init__(self, tmp: str, milter_bin: str, policyd_bin: str, ctl_bin: str):
        self.ctl_bin = ctl_bin
        self.redis = ms.RedisServer(tmp).start()
        self.sink = ms.SmtpSink(os.path.join(tmp, "sink")).start()
        self.files = tp.TenantFiles(tmp)
        self.files.bounce_secret()
        self.files.write_tenants({TENANT: {
            "domains": "acme.example", "selector": "acc", "key": self.files.rsa_key(TENANT),
            "bounce_domain": "bounce.acme.example", "sasl_users": f"{BULK}:bulk {TX}:transactional",
            "bulk_rate": f"{LIMIT}/1h", "bulk_quota": f"{LIMIT}/day", "transactional_rate": "100/1h",
            "login_limits": f"{BULK}=1000/1h:messages", "accepted_only": "bulk",
        }})
        self.milter_port = ms.free_port()
        self.config = self.files.write_config(self.milter_port, log_level="debug")
        with open(self.config, "a") as f:
            f.write(f"\n[redis]\nhost = {ms.LOOPBACK}\nport = {self.redis.port}\ntimeout = 2s\n")
        self.policyd = tp.Policyd(policyd_bin, tmp, "policyd", self.redis.port, self.files.tenants_path,
                                  redis_timeout="2s", log_level="debug")
        # A second policyd behind a second submission service: two policyd
        # processes count into one Redis.
        self.policyd2 = tp.Policyd(policyd_bin, tmp, "policyd2", self.redis.port, self.files.tenants_path,
                                   redis_timeout="2s", log_level="debug")
        self.submission2_port = ms.free_port()
        self.milter = tp.Milter(milter_bin, self.config, tmp, port=self.milter_port)
        self.postfix = ms.PrivatePostfix(os.path.join(tmp, "postfix"), self.sink.port, milter=self.milter_port,
                                         policy=None)

    def start(self) -> None:
        self.milter.start()
        self.policyd.start()
        self.policyd2.start()
        self.postfix.policy = self.policyd.port
        self.postfix.extra_services = [
            f"{ms.LOOPBACK}:{self.submission2_port} inet n - n - - smtpd\n"
            "  -o syslog_name=postfix/submission2\n  -o smtpd_tls_security_level=encrypt\n"
            "  -o smtpd_sasl_auth_enable=yes\n  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject\n"
            # A recipient Postfix refuses after policyd has permitted it.
            f"  -o smtpd_recipient_restrictions=check_policy_service,inet:{ms.LOOPBACK}:{self.policyd2.port},"
            f"check_recipient_access,inline:{{{REFUSED_LATER}=REJECT}}"]
        for login in (BULK, TX):
            self.postfix.add_sasl_user(login, PASSWORD)
        self.postfix.start()

    def stop(self) -> None:
        self.milter.terminate()
        for component in (self.postfix, self.policyd, self.policyd2, self.milter, self.sink, self.redis):
            try:
                component.stop()
            except Exception as exc:
                print(f"     stopping {component!r}: {exc}", flush=True)

    # What Redis counts for the tenant's class.
    def window(self, traffic_class: str = "bulk") -> int:
        return int(self.redis.command("ZCARD", f"tm:{{{TENANT}}}:rate:{traffic_class}") or 0)

    def quota(self) -> int:
        keys = self.redis.command("KEYS", f"tm:{{{TENANT}}}:quota:bulk:day:*") or []
        return sum(int(self.redis.command("GET", k) or 0) for k in keys)

    def messages(self) -> int:
        """The login's messages-counted window (one member per message)."""
        keys = self.redis.command("KEYS", f"tm:{{{TENANT}}}:rate:bulk:messages*") or []
        return sum(int(self.redis.command("ZCARD", k) or 0) for k in keys)

    def held(self) -> list:
        return self.redis.command("KEYS", f"tm:{{{TENANT}}}:held:*") or []

    def counts(self) -> tuple[int, int]:
        return self.window(), self.quota()

    def wait_counts(self, want: tuple[int, int], timeout: float = 10.0) -> tuple[int, int]:
        try:
            ms.wait_until(lambda: self.counts() == want, timeout, f"counts {want}", interval=0.05)
        except ms.MailstackError:
            pass
        return self.counts()

    def usage(self) -> dict:
        proc = subprocess.run([self.ctl_bin, "usage", TENANT, "--json", "-c", self.config], capture_output=True,
                              text=True, timeout=30)
        return json.loads(proc.stdout) if proc.returncode == 0 else {"error": proc.stderr}

    def client(self, login: str, second: bool = False) -> smtplib.SMTP:
        port = self.submission2_port if second else self.postfix.submission_port
        smtp = smtplib.SMTP(ms.LOOPBACK, port, local_hostname="client.tenantmail.test", timeout=30)
        smtp.starttls(context=ms.insecure_tls())
        smtp.login(login, PASSWORD)
        return smtp


def send(stack: Stack, login: str, sender_header: str, recipients: list[str], subject: str,
         body: str = "accepted-only test", second: bool = False) -> tuple[int, str]:
    """(code, text) of the end of DATA; (450, ...) when every RCPT was refused.
    second: through the second submission service and policyd."""
    with stack.client(login, second) as smtp:
        try:
            refused = smtp.sendmail(SENDER, recipients, message(sender_header, subject, body))
            return 250, repr(refused)
        except smtplib.SMTPRecipientsRefused as exc:
            return 450, repr(exc.recipients)
        except smtplib.SMTPDataError as exc:
            return exc.smtp_code, exc.smtp_error.decode("utf-8", "replace")


def refusals_are_taken_back(stack: Stack) -> None:
    code, text = send(stack, BULK, "Someone <ceo@other.example>", ["a1@example.org", "a2@example.org"], "foreign")
    check("the milter refuses a From the tenant does not own at the end of DATA", code == 550, f"{code} {text}")
    check("and the two recipients policyd counted at RCPT are taken back", stack.wait_counts((0, 0)) == (0, 0),
          repr(stack.counts()))
    check("and so is the message in the login's messages-counted window", stack.messages() == 0,
          repr(stack.messages()))

    code, text = send(stack, BULK, SENDER, ["b1@example.org"], "overlong", body="x" * 1200)
    check("the milter refuses a body with a line over 998 octets at the end of DATA", code == 550, f"{code} {text}")
    check("and that recipient's count is taken back", stack.wait_counts((0, 0)) == (0, 0), repr(stack.counts()))

    code, text = send(stack, BULK, SENDER, ["q1@example.org"], "queued")
    check("a queued message keeps its counts", code == 250 and stack.wait_counts((1, 1)) == (1, 1)
          and stack.messages() == 1, f"{code} {text} {stack.counts()} {stack.messages()}")

    # The refused recipient first: it is the one whose permit counted the
    # message in the messages-counted window, which must stay (queued).
    code, text = send(stack, BULK, SENDER, [REFUSED_LATER, "p1@example.org"], "partial", second=True)
    check("Postfix refuses one recipient after policyd permitted it; the message is queued for the other",
          code == 250 and REFUSED_LATER in text, f"{code} {text}")
    check("the refused recipient's place is given back, the queued one's kept",
          stack.wait_counts((2, 2)) == (2, 2), repr(stack.counts()))
    check("and the message counts once in the messages-counted window (it was queued)", stack.messages() == 2,
          repr(stack.messages()))
    base = stack.counts()

    with stack.client(BULK) as smtp:
        smtp.mail(SENDER)
        smtp.rcpt("c1@example.org")
        smtp.rcpt("c2@example.org")
        check("two permits are counted while the transaction is open",
              stack.counts() == (base[0] + 2, base[1] + 2), repr(stack.counts()))
        usage = stack.usage()
        check("tenantmailctl usage shows the two permits held by one open transaction",
              usage.get("reservations") == {"connections": 1, "permits": 2}, repr(usage))
        smtp.rset()
        # Postfix passes RSET's abort to the milter with its next milter
        # command: here the next MAIL (else the disconnect).
        smtp.mail(SENDER)
        check("RSET takes them back (the milter hears of it with the next MAIL)",
              stack.wait_counts(base) == base, repr(stack.counts()))
        smtp.rcpt("c3@example.org")
        check("and the next transaction counts afresh", stack.counts() == (base[0] + 1, base[1] + 1),
              repr(stack.counts()))

    check("QUIT in the middle of that transaction takes its permit back", stack.wait_counts(base) == base,
          repr(stack.counts()))

    smtp = stack.client(BULK)
    smtp.mail(SENDER)
    smtp.rcpt("d1@example.org")
    smtp.sock.shutdown(socket.SHUT_RDWR)
    smtp.sock.close()
    check("a client that disconnects after RCPT has its permit taken back", stack.wait_counts(base) == base,
          repr(stack.counts()))
    check("no reservation record is left behind", stack.held() == [], repr(stack.held()))

    code, _ = send(stack, TX, "Someone <ceo@other.example>", ["t1@example.org"], "foreign-tx")
    check("transactional mail (not accepted-only) refused by the milter stays counted",
          code == 550 and stack.window("transactional") == 1, f"{code} {stack.window('transactional')}")


def redis_fault_keeps_the_count(stack: Stack) -> None:
    """Redis stops answering while the milter settles: the place stays taken."""
    base = stack.counts()
    with stack.client(BULK) as smtp:
        smtp.mail(SENDER)
        smtp.rcpt("f1@example.org")
        # Longer than the milter's redis.timeout (2s): its release times out.
        pauser = threading.Thread(target=lambda: stack.redis.command("CLIENT", "PAUSE", "3500", "ALL"))
        pauser.start()
        pauser.join()
        code, _ = smtp.data(message("Someone <ceo@other.example>", "fault"))
    time.sleep(2.0)  # the pause is over
    check("with Redis not answering the milter still refuses the message", code == 550, repr(code))
    check("and the permit stays counted: a fault never frees a place",
          stack.counts() == (base[0] + 1, base[1] + 1), repr(stack.counts()))
    check("the milter says so once, precisely",
          stack.milter.log().count("cannot settle accepted-only reservations") == 1, stack.milter.log()[-1500:])
    held = stack.held()
    check("the note stays, to expire after 30 minutes", len(held) == 1 and
          0 < int(stack.redis.command("PTTL", held[0]) or 0) <= 30 * 60 * 1000, repr(held))
    for key in held:  # rather than wait for its expiry
        stack.redis.command("DEL", key)


def limit_is_exact(stack: Stack) -> None:
    before = stack.counts()
    delivered_before = len(stack.sink.message_paths())
    room = LIMIT - before[0]
    total = room + 4
    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda n: send(stack, BULK, SENDER, [f"e{n}@example.org"], f"good{n}",
                                               second=n % 2 == 1), range(total)))
    queued = sum(1 for code, _ in results if code == 250)
    refused = sum(1 for code, _ in results if code == 450)
    check(f"{total} concurrent messages through two policyd with room for {room}: exactly {room} queued, the "
          "others refused at RCPT", queued == room and refused == total - room, repr(results))
    log = stack.postfix.log()
    check("both submission services (both policyd) queued some of them",
          "postfix/submission/smtpd" in log and re.search(r"postfix/submission2/smtpd\[\d+\]: \w+: client=", log)
          is not None)
    check(f"the window holds {LIMIT} members and the daily quota {LIMIT}: never more",
          stack.counts() == (LIMIT, LIMIT), repr(stack.counts()))
    check("nothing is left held after the commits", stack.held() == [], repr(stack.held()))
    stack.sink.wait_for(delivered_before + queued, timeout=30)
    check("the sink received every queued message and no other",
          len(stack.sink.message_paths()) == delivered_before + queued, repr(len(stack.sink.message_paths())))
    log = stack.postfix.log()
    check("Postfix refused the extra recipients with the rate limit's 4.7.1",
          log.count("4.7.1") >= total - room, log[-1500:])


def main() -> int:
    if len(sys.argv) != 4:
        print(f"usage: {sys.argv[0]} PATH/TO/tenantmail-milter PATH/TO/tenantmail-policyd PATH/TO/tenantmailctl",
              file=sys.stderr)
        return 2
    milter_bin, policyd_bin, ctl_bin = (os.path.abspath(a) for a in sys.argv[1:])

    def body():
        with ms.managed_workdir("tm-policyd-accepted-") as tmp:
            stack = Stack(tmp, milter_bin, policyd_bin, ctl_bin)
            try:
                stack.start()
                refusals_are_taken_back(stack)
                redis_fault_keeps_the_count(stack)
                limit_is_exact(stack)
            finally:
                stack.stop()
            for name in ("policyd", "policyd2", "milter"):
                log = open(os.path.join(tmp, f"{name}.log")).read()
                check(f"no sanitizer report in the {name} log", "Sanitizer" not in log and "runtime error" not in log)
    return REPORT.run_main(body, failure="test ran to the end", cleanup=ms.stop_all)


if __name__ == "__main__":
    sys.exit(main())
