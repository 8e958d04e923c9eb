#!/usr/bin/python3
"""Automatic and manual pause end to end: bad complaint and hard-bounce
rates, fed through tenantmail-bounce, stop a tenant's bulk mail at policyd.

Starts, on 127.0.0.1 in a temp dir: redis-server, a signature-checking HTTP
receiver, a scripted SMTP server as the remote side (550 for the "hard"
recipients), tenantmail-milter, tenantmail-policyd, a private Postfix with
both, its maillog_file and the tenantmail-bounce pipe for the bounce domain,
tenantmail-maillog and tenantmail-webhookd. The tenant has a bulk login and
a transactional one, and small thresholds so the test stays short:
pause_min_delivered = 20, pause_complaint_rate = 10%, pause_bounce_rate = 50%.

  1  [complaints] one bulk message to 20 recipients, all delivered (20
     delivery events from Postfix's log); one ARF complaint by SMTP to the
     bounce address (5%): nothing paused; a second (10%): the bulk class is
     paused, a `paused` webhook arrives (automatic, with the reason and the
     counts), the next bulk RCPT is deferred 450 4.7.1 naming the reason,
     transactional mail is still accepted and delivered.
  2  [resume] `tenantmailctl resume acme`: a `resumed` webhook, bulk
     accepted again, the rates start afresh.
  3  [hard bounces] 10 delivered, then 10 recipients the remote side
     refuses with 550: Postfix's own DSN comes back through the pipe and
     tenantmail-bounce pauses bulk at 50.00%.
  4  [by hand] `tenantmailctl pause acme --reason ...` after a resume: the
     reason is the one policyd gives, the event says automatic false; a
     reason with a line break is refused.
  At the end: every event of the stream reached the receiver exactly once,
  and no daemon logged a sanitizer report.

Run (as root): /usr/bin/python3 tests/integration/pause_e2e_test.py \\
    tenantmail-milter tenantmail-policyd tenantmail-maillog tenantmail-bounce \\
    tenantmail-webhookd tenantmailctl       (paths; TM_KEEP_TMP=1 keeps the temp dir)
"""

from __future__ import annotations

import collections
import email.utils
import json
import os
import re
import smtplib
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import mailstack as ms  # noqa: E402
from checks import Report  # noqa: E402
import tenantmail_procs as tp  # noqa: E402
from managed_process import read_text  # noqa: E402
from bounce_reports import arf  # noqa: E402
from webhook_receiver import Receiver, write_secret  # noqa: E402

NAME = "pause_e2e"
PASSWORD = "pw-" + os.urandom(6).hex()
TENANT = "acme"
BULK_LOGIN, TX_LOGIN = "acme-bulk", "acme-tx"
BOUNCE_DOMAIN = "mta.acme.example"
SENDER = "jobs@acme.example"
HARD = [f"gone{i}@remote.example" for i in range(10)]
REPLIES = {r: f"550 5.1.1 <{r}>: Recipient address rejected: User unknown" for r in HARD}

REPORT = Report(NAME)
check = REPORT.check


def info(text: str) -> None:
    print(f"     {text}", flush=True)


def waited(predicate, timeout: float, what: str):
    try:
        return ms.wait_until(predicate, timeout, what, interval=0.05)
    except ms.MailstackError:
        return None


class Stack:
    def __init__(self, tmp: str, milter_bin: str, policyd_bin: str, maillog_bin: str, bounce_bin: str,
                 webhookd_bin: str):
        self.redis = ms.RedisServer(tmp).start()
        self.files = tp.TenantFiles(tmp)
        self.files.bounce_secret()
        secret_path, webhook_secret = write_secret(self.files.dir, TENANT)
        self.receiver = Receiver({TENANT: webhook_secret}).start()
        self.remote = ms.ScriptedSmtpServer(os.path.join(tmp, "remote"), rcpt_replies=REPLIES,
                                            hostname="mx.remote.example").start()
        self.files.write_tenants({TENANT: {
            "domains": "acme.example", "selector": "pause", "key": self.files.rsa_key(TENANT),
            "bounce_domain": BOUNCE_DOMAIN, "sasl_users": f"{BULK_LOGIN}:bulk {TX_LOGIN}:transactional",
            "webhook_url": f"{self.receiver.base}/{TENANT}", "webhook_secret": secret_path,
            "pause_min_delivered": "20", "pause_complaint_rate": "10%", "pause_bounce_rate": "50%",
        }})
        wrapper, self.bounce_log = tp.bounce_pipe(self.files, tmp, bounce_bin)
        self.milter_port = ms.free_port()
        self.policyd = tp.Policyd(policyd_bin, tmp, "policyd", self.redis.port, self.files.tenants_path,
                                  redis_timeout="2s")
        config = os.path.join(self.files.dir, "tenantmail.conf")
        self.postfix = tp.BouncePostfix(
            os.path.join(tmp, "postfix"), self.remote.port, wrapper, config, bounce_domains=[BOUNCE_DOMAIN],
            milter=self.milter_port, policy=self.policyd.port,
            extra_main_cf={"local_header_rewrite_clients": ""})
        self.config = self.files.write_config(self.milter_port)
        assert self.config == config
        with open(self.config, "a") as f:
            f.write(f"\n[redis]\nhost = {ms.LOOPBACK}\nport = {self.redis.port}\ntimeout = 2s\n"
                    f"\n[maillog]\nfile = {self.postfix.log_path}\n"
                    f"state_file = {os.path.join(tmp, 'maillog.state')}\npoll_interval = 100ms\n")
        self.postfix.add_sasl_user(BULK_LOGIN, PASSWORD)
        self.postfix.add_sasl_user(TX_LOGIN, PASSWORD)
        self.milter = tp.Milter(milter_bin, self.config, tmp, port=self.milter_port)
        self.maillog = tp.Maillog(maillog_bin, self.config, tmp)
        self.webhookd = tp.Webhookd(webhookd_bin, tmp, "webhookd", self.redis.port, self.files.tenants_path)

    def start(self) -> None:
        for component in (self.milter, self.policyd, self.postfix, self.maillog, self.webhookd):
            component.start()

    def stop(self) -> None:
        self.milter.terminate()
        for component in (self.webhookd, self.maillog, self.postfix, self.policyd, self.milter, self.remote,
                          self.redis):
            try:
                component.stop()
            except Exception as exc:
                info(f"stopping {component!r}: {exc}")
        self.receiver.stop()

    def received(self, kind: str | None = None) -> list[dict]:
        return [e for e in self.receiver.events(TENANT) if kind is None or e["kind"] == kind]

    def wait_received(self, kind: str, count: int, timeout: float = 30.0) -> list[dict]:
        return waited(lambda: len(self.received(kind)) >= count and self.received(kind), timeout,
                      f"{count} {kind} events at the receiver") or self.received(kind)

    def paused(self) -> dict:
        flat = self.redis.command("HGETALL", f"tm:{{{TENANT}}}:paused") or []
        return dict(zip(flat[0::2], flat[1::2]))

    def bounce_lines(self, pattern: str) -> list[str]:
        return [line for line in read_text(self.bounce_log).splitlines() if re.search(pattern, line)]


def submit(stack: Stack, login: str, recipients: list[str], subject: str) -> tuple[dict, str | None, str, str]:
    """One transaction over submission; returns (refused, queue id, DATA
    reply, Message-ID)."""
    message_id = f"<pause-{os.urandom(6).hex()}@acme.example>"
    headers = [f'From: "Acme Jobs" <{SENDER}>', "To: undisclosed-recipients:;", f"Subject: {subject}",
               f"Date: {email.utils.formatdate()}", f"Message-ID: {message_id}"]
    body = ("\r\n".join(headers) + "\r\n\r\nHello from the pause test.\r\n").encode()
    refused: dict = {}
    with smtplib.SMTP(ms.LOOPBACK, stack.postfix.submission_port, local_hostname="app.acme.example",
                      timeout=60) as smtp:
        smtp.starttls(context=ms._insecure_tls())
        smtp.login(login, PASSWORD)
        smtp.mail(SENDER)
        for rcpt in recipients:
            code, text = smtp.rcpt(rcpt)
            if code != 250:
                refused[rcpt] = (code, text.decode(errors="replace"))
        if len(refused) == len(recipients):
            return refused, None, "", message_id
        code, text = smtp.data(body)
    reply = f"{code} {text.decode(errors='replace')}"
    m = re.search(r"queued as (\w+)", reply)
    return refused, (m.group(1) if code == 250 and m else None), reply, message_id


def complain(stack: Stack, bounce_addr: str, recipient: str, message_id: str) -> None:
    report = arf(bounce_addr, bounce_addr, recipient, f"arf-{os.urandom(4).hex()}@isp.example",
                 message_id.strip("<>"))
    refused = ms.send_smtp(stack.postfix.smtp_port, "", bounce_addr, report.replace(b"\n", b"\r\n"))
    if refused:
        raise ms.MailstackError(f"Postfix refused the ARF report: {refused}")


def ctl(tenantmailctl: str, config: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([tenantmailctl, *args, "-c", config], capture_output=True, text=True, timeout=30)


def bulk_probe(stack: Stack) -> tuple[int, str]:
    """The answer to one bulk RCPT (the transaction goes no further)."""
    with smtplib.SMTP(ms.LOOPBACK, stack.postfix.submission_port, local_hostname="app.acme.example",
                      timeout=60) as smtp:
        smtp.starttls(context=ms._insecure_tls())
        smtp.login(BULK_LOGIN, PASSWORD)
        smtp.mail(SENDER)
        code, text = smtp.rcpt(f"probe-{os.urandom(3).hex()}@remote.example")
        smtp.rset()
    return code, text.decode(errors="replace")


# ---------------------------------------------------------------------------

def complaints(stack: Stack, tenantmailctl: str) -> None:
    readers = [f"reader{i}@remote.example" for i in range(20)]
    refused, qid, reply, message_id = submit(stack, BULK_LOGIN, readers, "newsletter")
    check("complaints: a bulk message to 20 recipients is accepted", not refused and qid, f"{refused} {reply}")
    got = stack.remote.wait_for(1, timeout=30)[0]
    bounce_addr = got.sender
    deliveries = stack.wait_received("delivery", 20)
    check("complaints: 20 delivery events from Postfix's log", len(deliveries) == 20, len(deliveries))

    complain(stack, bounce_addr, readers[0], message_id)
    first = stack.wait_received("complaint", 1)
    check("complaints: the first ARF report is a complaint event", len(first) == 1, stack.bounce_lines(".")[-2:])
    time.sleep(1.0)  # what a pause would have written, it has written by now
    check("complaints: one complaint in 20 (5%) pauses nothing", stack.paused() == {} and not stack.received("paused"),
          stack.paused())
    code, text = bulk_probe(stack)
    check("complaints: bulk is still accepted at 5%", code == 250, f"{code} {text}")

    complain(stack, bounce_addr, readers[1], message_id)
    paused = stack.wait_received("paused", 1)
    reason = "complaint rate 10.00% over 24h"
    check("complaints: the second (10%) pauses bulk: tm:{acme}:paused holds the reason",
          stack.paused() == {"bulk": reason}, stack.paused())
    details = paused[0]["details"] if paused else {}
    check("complaints: a paused webhook: class bulk, the reason, automatic, the counts",
          len(paused) == 1 and details.get("class") == "bulk" and details.get("reason") == reason
          and details.get("automatic") is True and details.get("period") == "24h"
          and details.get("counts") == {"delivered": 20, "bounced": 0, "complained": 2}, paused)
    # The bounce process logs the pause after writing it to Redis, and the
    # webhook can reach the receiver first: wait for the line.
    pause_line = r"bulk mail paused: complaint rate 10\.00% over 24h .*tenantmailctl resume acme"
    waited(lambda: stack.bounce_lines(pause_line), 10, "tenantmail-bounce's pause line")
    check("complaints: tenantmail-bounce logged the pause and how to resume",
          stack.bounce_lines(pause_line), stack.bounce_lines(".")[-4:])
    usage = ctl(tenantmailctl, stack.config, "usage", TENANT, "--json")
    health = json.loads(usage.stdout).get("health", {}) if usage.returncode == 0 else {}
    check("complaints: tenantmailctl usage shows the rates against their thresholds and the pause",
          health.get("delivered") == 20 and health.get("complained") == 2 and health.get("complaint_rate") == "10.00%"
          and health.get("complaint_threshold") == "10%" and health.get("bounce_threshold") == "50%"
          and health.get("rates_apply") is True
          and json.loads(usage.stdout)["classes"][0].get("paused") == reason, usage.stdout + usage.stderr)
    text_usage = ctl(tenantmailctl, stack.config, "usage", TENANT).stdout
    check("complaints: and as text", "acme health over 24h: 20 delivered, 0 hard bounces (0.00%; pauses bulk at 50%), "
          "2 complaints (10.00%; pauses bulk at 10%); the rates apply" in text_usage, text_usage)
    code, text = bulk_probe(stack)
    check("complaints: the next bulk RCPT is deferred 450 4.7.1 with the reason",
          code == 450 and text.startswith("4.7.1") and f"acme bulk mail paused: {reason}" in text, f"{code} {text}")
    before = len(stack.received("delivery"))
    refused, qid, reply, _ = submit(stack, TX_LOGIN, ["reset@remote.example"], "password reset")
    check("complaints: transactional mail is still accepted", not refused and qid, f"{refused} {reply}")
    stack.wait_received("delivery", before + 1)
    check("complaints: and delivered", len(stack.received("delivery")) == before + 1, len(stack.received("delivery")))
    check("complaints: policyd logged the deferral",
          re.search(r"tenant=acme class=bulk rcpt=<probe-\w+@remote\.example> .*paused", stack.policyd.log()),
          stack.policyd.log()[-600:])


def resume(stack: Stack, tenantmailctl: str, what: str) -> None:
    before = len(stack.received("resumed"))
    done = ctl(tenantmailctl, stack.config, "resume", TENANT, "--json")
    out = json.loads(done.stdout or "{}") if done.returncode == 0 else {}
    check(f"{what}: tenantmailctl resume acme", out == {"tenant": TENANT, "class": "bulk", "resumed": True},
          f"{done.returncode} {done.stdout} {done.stderr}")
    resumed = stack.wait_received("resumed", before + 1)
    check(f"{what}: a resumed webhook for bulk", len(resumed) == before + 1
          and resumed[-1]["details"].get("class") == "bulk", resumed[-1:])
    code, text = bulk_probe(stack)
    check(f"{what}: bulk is accepted again", code == 250 and stack.paused() == {}, f"{code} {text}")
    again = ctl(tenantmailctl, stack.config, "resume", TENANT)
    check(f"{what}: resuming again says it was not paused",
          again.returncode == 0 and "was not paused" in again.stdout, again.stdout + again.stderr)


def hard_bounces(stack: Stack) -> None:
    deliveries = len(stack.received("delivery"))
    readers = [f"fresh{i}@remote.example" for i in range(10)]
    refused, qid, _, _ = submit(stack, BULK_LOGIN, readers, "newsletter 2")
    stack.wait_received("delivery", deliveries + 10)
    check("hard bounces: 10 delivered after the resume (the rates started afresh: nothing paused)",
          not refused and len(stack.received("delivery")) == deliveries + 10 and stack.paused() == {},
          f"{refused} {stack.paused()}")
    refused, qid, reply, _ = submit(stack, BULK_LOGIN, HARD, "newsletter 3")
    check("hard bounces: a message to 10 recipients the remote side refuses is accepted", not refused and qid, reply)
    paused = stack.wait_received("paused", 2, timeout=60)
    reason = "hard-bounce rate 50.00% over 24h"
    check("hard bounces: Postfix's DSN through tenantmail-bounce pauses bulk at 50%",
          stack.paused() == {"bulk": reason} and len(paused) == 2 and paused[-1]["details"].get("reason") == reason
          and paused[-1]["details"].get("counts", {}).get("bounced") == 10,
          f"{stack.paused()} {paused[-1:]}\n{stack.bounce_lines('.')[-4:]}")
    code, text = bulk_probe(stack)
    check("hard bounces: bulk deferred with the hard-bounce reason",
          code == 450 and f"paused: {reason}" in text, f"{code} {text}")


def by_hand(stack: Stack, tenantmailctl: str) -> None:
    bad = ctl(tenantmailctl, stack.config, "pause", TENANT, "--reason", "line\r\n250 OK")
    check("by hand: a reason with a line break is refused (it goes into an SMTP reply)",
          bad.returncode == 2 and "control" in bad.stderr and stack.paused() == {}, bad.stderr)
    reason = "list hygiene review"
    done = ctl(tenantmailctl, stack.config, "pause", TENANT, "--reason", reason)
    check("by hand: tenantmailctl pause acme --reason", done.returncode == 0 and "paused" in done.stdout,
          done.stdout + done.stderr)
    paused = stack.wait_received("paused", 3)
    check("by hand: a paused webhook with the reason, automatic false",
          len(paused) == 3 and paused[-1]["details"] == {"class": "bulk", "reason": reason, "automatic": False},
          paused[-1:])
    code, text = bulk_probe(stack)
    check("by hand: bulk deferred with that reason", code == 450 and f"paused: {reason}" in text, f"{code} {text}")
    twice = ctl(tenantmailctl, stack.config, "pause", TENANT, "--reason", reason)
    time.sleep(1.5)
    check("by hand: pausing again with the same reason changes nothing and sends no event",
          twice.returncode == 0 and "already paused" in twice.stdout and len(stack.received("paused")) == 3,
          twice.stdout)


def final_checks(stack: Stack) -> None:
    stream = tp.events(stack.redis, TENANT)
    waited(lambda: {e["id"] for e in stream} <= {e["id"] for e in stack.received()}, 20, "the receiver to settle")
    counts = collections.Counter(e["id"] for e in stack.received())
    check("end: every event of the stream reached the receiver exactly once",
          sorted(counts) == sorted(e["id"] for e in stream) and set(counts.values()) == {1}, counts.most_common(2))
    check("end: every POST's signature verified", stack.receiver.batches and not stack.receiver.bad,
          stack.receiver.bad[:2])
    for name, text in (("policyd", stack.policyd.log()), ("milter", stack.milter.log()),
                       ("bounce", read_text(stack.bounce_log)), ("maillog", stack.maillog.log()),
                       ("webhookd", stack.webhookd.log())):
        check(f"end: no sanitizer report in the {name} log", "runtime error" not in text
              and "Sanitizer" not in text, text[-400:])


def main() -> int:
    if len(sys.argv) != 7:
        print(__doc__, file=sys.stderr)
        return 2
    binaries = [os.path.abspath(p) for p in sys.argv[1:6]]
    tenantmailctl = os.path.abspath(sys.argv[6])

    def body():
        with ms.managed_workdir("tm-pause-") as tmp:
            stack = Stack(tmp, *binaries)
            try:
                with REPORT.case("the test ran to the end"):
                    stack.start()
                    complaints(stack, tenantmailctl)
                    resume(stack, tenantmailctl, "resume")
                    hard_bounces(stack)
                    resume(stack, tenantmailctl, "resume after the hard bounces")
                    by_hand(stack, tenantmailctl)
                    final_checks(stack)
            finally:
                stack.stop()
    return REPORT.run_main(body, failure="setup", cleanup=ms.stop_all)


if __name__ == "__main__":
    sys.exit(main())
