#!/usr/bin/python3
"""Events end to end: a tenant's message through a real Postfix and Redis to
the tenant's webhook, with every tenantmail daemon in its place.

Starts, on 127.0.0.1 in a temp dir: redis-server, a signature-checking HTTP
receiver (tests/lib/webhook_receiver.py), a scripted SMTP server as the
remote side (250 for some recipients, 550 and 450 for others),
tenantmail-milter, tenantmail-policyd, and a private Postfix with the milter
(smtpd_milters), the policy service (check_policy_service), its own
maillog_file, and the tenantmail-bounce pipe transport for the tenant's
bounce domain (master.cf + relay_domains/transport_maps, as conf/ says); then
tenantmail-maillog following that log and tenantmail-webhookd posting the
tenant's events. The tenant submits over STARTTLS + SASL AUTH. Checks:

  1  [submission] one message to five recipients: the remote side accepts three, answers
     550 to one and 450 to one; Postfix relays it with the signed bounce
     address as envelope sender (the milter's record has the same).
  2  [outcomes] the receiver gets exactly one delivery / bounce / soft_bounce per
     recipient, of the right kind, with the message's Message-ID and queue
     id, and every POST's signature verifies. Postfix's own DSN for the 550
     recipient comes back to the bounce address through the pipe (logged by
     tenantmail-bounce) and, although it reports the same bounce as the log,
     adds no second bounce event; the recipient is suppressed.
  3  [reports by SMTP] a DSN (RFC 3464) and an ARF report (RFC 5965) sent by SMTP to that
     bounce address become a bounce and a complaint event at the receiver.
  4  [suppressed recipient] the hard-bounced recipient is refused by policyd when the tenant sends
     to it again (5.1.1 at RCPT, the other recipient accepted and
     delivered), and a blocked event reaches the receiver.
  5  [forged token] a DSN to a bounce address with a forged token (right form, wrong HMAC)
     is dropped by tenantmail-bounce (its log says so): the receiver, the
     events stream and the suppression list stay unchanged, also once a
     genuine report sent afterwards has come through.
  At the end: every event in the stream reached the receiver exactly once,
  the receiver saw nothing else, and no daemon logged a sanitizer report.

Prints one "ok"/"FAIL" line per check and "events_e2e: N passed, M failed";
exits non-zero on any failure. Everything started is stopped by PID.

Run (as root): /usr/bin/python3 tests/integration/events_e2e_test.py \\
    tenantmail-milter tenantmail-policyd tenantmail-maillog tenantmail-bounce \\
    tenantmail-webhookd        (paths; TM_KEEP_TMP=1 keeps the temp dir)
"""

from __future__ import annotations

import collections
import email.utils
import json
import os
import re
import smtplib
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import mailstack as ms  # noqa: E402
from checks import Report  # noqa: E402
import tenantmail_procs as tp  # noqa: E402
from managed_process import read_text  # noqa: E402
from bounce_reports import arf, bounce_address, dsn  # noqa: E402
from webhook_receiver import Receiver, write_secret  # noqa: E402

NAME = "events_e2e"
PASSWORD = "pw-" + os.urandom(6).hex()
TENANT = "acme"
LOGIN = "acme-bulk"
BOUNCE_DOMAIN = "mta.acme.example"
SENDER = "jobs@acme.example"

# The first message's recipients and what the remote side answers at RCPT.
OK, LATER, FBL = "ok@remote.example", "later@remote.example", "fbl@remote.example"
HARD, SOFT = "hard@remote.example", "soft@remote.example"
AGAIN = "again@remote.example"
REPLIES = {
    HARD: "550 5.1.1 <hard@remote.example>: Recipient address rejected: User unknown",
    SOFT: "450 4.2.0 <soft@remote.example>: Mailbox busy, try again later",
}
# Log-side outcome of the first delivery attempt, per recipient.
FIRST_KIND = {OK: "delivery", LATER: "delivery", FBL: "delivery", HARD: "bounce", SOFT: "soft_bounce"}
OUTCOME_KINDS = {"delivery", "bounce", "soft_bounce"}


REPORT = Report(NAME)
check = REPORT.check


def info(text: str) -> None:
    print(f"     {text}", flush=True)


def waited(predicate, timeout: float, what: str):
    """wait_until, but None instead of an exception: the check reports it."""
    try:
        return ms.wait_until(predicate, timeout, what, interval=0.05)
    except ms.MailstackError:
        return None


# ---------------------------------------------------------------------------

class MasterOf:
    """command() on whichever server a Sentinel group names master now."""

    def __init__(self, group):
        self.group = group

    def command(self, *args, timeout: float = 5.0):
        return self.group.server_on(self.group.master_port()).command(*args, timeout=timeout)

    def stop(self) -> None:
        pass  # the group's owner stops it


class OwnerOf:
    """command() on the master of the key's slot in a Redis Cluster (the key
    is the command's first argument, as in every command the tests send)."""

    def __init__(self, cluster):
        self.cluster = cluster

    def command(self, *args, timeout: float = 5.0):
        return self.cluster.command(self.cluster.owner_port(args[1]), *args, timeout=timeout)

    def stop(self) -> None:
        pass  # the cluster's owner stops it


class Stack:
    """Every component, configured to work together: on one redis-server,
    through a Sentinel group (tests/lib/redis_sentinel_group.py) or on a
    Redis Cluster (tests/lib/redis_cluster_group.py)."""

    def __init__(self, tmp: str, milter_bin: str, policyd_bin: str, maillog_bin: str, bounce_bin: str,
                 webhookd_bin: str, group=None, cluster=None, metrics: bool = False):
        """metrics: the milter, policyd, maillog and webhookd serve metrics
        on loopback ports, self.metrics_ports[program]."""
        self.tmp = tmp
        self.metrics_ports = {p: ms.free_port() for p in ("milter", "policyd", "maillog", "webhookd")} \
            if metrics else {}
        listen = {p: {"metrics_listen": f"{ms.LOOPBACK}:{port}"} for p, port in self.metrics_ports.items()}
        if cluster is not None:
            self.redis = OwnerOf(cluster)
            redis_lines = cluster.config_lines(timeout=None)
        elif group is None:
            self.redis = ms.RedisServer(tmp).start()
            redis_lines = f"host = {ms.LOOPBACK}\nport = {self.redis.port}\n"
        else:
            self.redis = MasterOf(group)
            redis_lines = f"sentinels = {group.sentinel_list()}\nmaster_name = {group.master_name}\n"
        self.files = tp.TenantFiles(tmp)
        self.files.bounce_secret()
        secret_path, self.webhook_secret = write_secret(self.files.dir, TENANT)
        self.receiver = Receiver({TENANT: self.webhook_secret}).start()
        self.remote = ms.ScriptedSmtpServer(os.path.join(tmp, "remote"), rcpt_replies=REPLIES,
                                            hostname="mx.remote.example").start()
        self.files.write_tenants({TENANT: {
            "domains": "acme.example", "selector": "e2e", "key": self.files.rsa_key(TENANT),
            "bounce_domain": BOUNCE_DOMAIN, "sasl_users": LOGIN,
            "webhook_url": f"{self.receiver.base}/{TENANT}", "webhook_secret": secret_path,
        }})

        wrapper, self.bounce_log = tp.bounce_pipe(self.files, tmp, bounce_bin)

        self.milter_port = ms.free_port()
        self.policyd = tp.Policyd(policyd_bin, tmp, "policyd", 0, self.files.tenants_path,
                                  redis_timeout="2s", redis_lines=redis_lines, **listen.get("policyd", {}))
        # The deferred recipient must not be retried while the test runs:
        # each retry would (rightly) be one more soft_bounce.
        config = os.path.join(self.files.dir, "tenantmail.conf")
        self.postfix = tp.BouncePostfix(
            os.path.join(tmp, "postfix"), self.remote.port, wrapper, config, bounce_domains=[BOUNCE_DOMAIN],
            milter=self.milter_port, policy=self.policyd.port,
            extra_main_cf={"local_header_rewrite_clients": "", "queue_run_delay": "300s",
                           "minimal_backoff_time": "300s", "maximal_backoff_time": "600s"})
        # One tenantmail.conf for the milter, tenantmail-maillog and
        # tenantmail-bounce, as in production.
        self.config = self.files.write_config(self.milter_port, **listen.get("milter", {}))
        assert self.config == config
        with open(self.config, "a") as f:
            f.write(f"\n[redis]\n{redis_lines}timeout = 2s\n"
                    f"\n[maillog]\nfile = {self.postfix.log_path}\n"
                    f"state_file = {os.path.join(tmp, 'maillog.state')}\npoll_interval = 100ms\n"
                    + "".join(f"{k} = {v}\n" for k, v in listen.get("maillog", {}).items())
                    + "\n[bounce]\nmax_token_age = 30d\n")
        self.postfix.add_sasl_user(LOGIN, PASSWORD)
        self.milter = tp.Milter(milter_bin, self.config, tmp, port=self.milter_port)
        self.maillog = tp.Maillog(maillog_bin, self.config, tmp)
        self.webhookd = tp.Webhookd(webhookd_bin, tmp, "webhookd", 0, self.files.tenants_path,
                                    redis_lines=redis_lines, **listen.get("webhookd", {}))

    def start(self) -> None:
        t0 = time.monotonic()
        self.milter.start()
        self.policyd.start()
        self.postfix.start()
        self.maillog.start()
        self.webhookd.start()
        info(f"stack up in {time.monotonic() - t0:.1f}s (postfix submission {self.postfix.submission_port}, "
             f"remote {self.remote.port}, receiver {self.receiver.port})")

    def stop(self) -> None:
        self.milter.terminate()  # libmilter notices SIGTERM only at its next poll
        for component in (self.webhookd, self.maillog, self.postfix, self.policyd, self.milter, self.remote,
                          self.redis):
            try:
                component.stop()
            except Exception as exc:  # keep stopping the others
                info(f"stopping {component!r}: {exc}")
        self.receiver.stop()

    # -- observation ------------------------------------------------------

    def stream(self) -> list[dict]:
        return tp.events(self.redis, TENANT)

    def received(self) -> list[dict]:
        return self.receiver.events(TENANT)

    def suppressed(self) -> dict:
        flat = self.redis.command("HGETALL", f"tm:{{{TENANT}}}:suppressed") or []
        return {k: json.loads(v) for k, v in zip(flat[0::2], flat[1::2])}

    def bounce_lines(self, pattern: str) -> list[str]:
        return [line for line in read_text(self.bounce_log).splitlines() if re.search(pattern, line)]

    def wait_received(self, predicate, timeout: float, what: str) -> list[dict]:
        """Wait until the receiver's events hold one that predicate accepts;
        return the matching ones ([] after timeout)."""
        found = waited(lambda: [e for e in self.received() if predicate(e)], timeout, what)
        return found or []

    def settle(self, timeout: float = 20.0) -> bool:
        """Wait until every event in the Redis stream has reached the receiver."""
        return waited(lambda: {e["id"] for e in self.stream()} <= {e["id"] for e in self.received()},
                      timeout, "the receiver to have every event of the stream") is not None


def submit(stack: Stack, recipients: list[str], message: bytes) -> tuple[dict, str | None, str]:
    """One transaction over submission (STARTTLS + AUTH). Returns the
    refused recipients {rcpt: (code, text)}, the queue id and the DATA reply."""
    refused: dict = {}
    with smtplib.SMTP(ms.LOOPBACK, stack.postfix.submission_port, local_hostname="app.acme.example",
                      timeout=60) as smtp:
        smtp.starttls(context=ms._insecure_tls())
        smtp.login(LOGIN, PASSWORD)
        code, text = smtp.mail(SENDER)
        if code != 250:
            return {"MAIL": (code, text.decode(errors="replace"))}, None, ""
        for rcpt in recipients:
            code, text = smtp.rcpt(rcpt)
            if code != 250:
                refused[rcpt] = (code, text.decode(errors="replace"))
        if len(refused) == len(recipients):
            return refused, None, ""
        code, text = smtp.data(message)
    reply = f"{code} {text.decode(errors='replace')}"
    m = re.search(r"queued as (\w+)", reply)
    return refused, (m.group(1) if code == 250 and m else None), reply


def message(subject: str, to: list[str], message_id: str) -> bytes:
    headers = [f'From: "Acme Jobs" <{SENDER}>', f"To: {', '.join(to)}", f"Subject: {subject}",
               f"Date: {email.utils.formatdate(localtime=False)}", f"Message-ID: {message_id}"]
    return ("\r\n".join(headers) + "\r\n\r\nHello from the events test.\r\n").encode()


def crlf(report: bytes) -> bytes:
    return report.replace(b"\n", b"\r\n")


def kinds_of(events: list[dict], queue_id: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = collections.defaultdict(list)
    for e in events:
        if e.get("queue_id") == queue_id:
            out[e["recipient"]].append(e["kind"])
    return {k: sorted(v) for k, v in out.items()}


# ---------------------------------------------------------------------------
# 1 + 2: the message, its outcomes from Postfix's log, Postfix's own DSN

def first_message(stack: Stack) -> dict:
    recipients = [OK, LATER, FBL, HARD, SOFT]
    message_id = f"<e2e-{os.urandom(6).hex()}@acme.example>"
    refused, qid, reply = submit(stack, recipients, message("events e2e", recipients, message_id))
    check("submission: all five recipients pass policyd, the message is queued",
          not refused and qid is not None, f"refused {refused}; DATA reply {reply!r}")
    if qid is None:
        raise ms.MailstackError("the first message was not queued; nothing else can be checked")
    got = stack.remote.wait_for(1, timeout=30)[0]
    check("submission: the remote side got it once, for the three recipients it accepted",
          stack.remote.count() == 1 and sorted(got.recipients) == sorted([OK, LATER, FBL]), got.recipients)
    bounce_addr = got.sender
    waited(lambda: stack.redis.command("EXISTS", f"tm:{{{TENANT}}}:msg:{qid}") == 1, 10, "the message record")
    flat = stack.redis.command("HGETALL", f"tm:{{{TENANT}}}:msg:{qid}") or []
    record = dict(zip(flat[0::2], flat[1::2]))
    check("submission: envelope sender is the signed bounce address the milter recorded for this queue id",
          re.fullmatch(rf"bounces\+[a-z2-7]+@{re.escape(BOUNCE_DOMAIN)}", bounce_addr)
          and record.get("bounce_address") == bounce_addr and record.get("message_id") == message_id,
          f"sender {bounce_addr!r}; record {record}")

    # Postfix's DSN for the 550 recipient goes to the bounce address, through
    # the pipe: wait until tenantmail-bounce has handled it.
    hard_rx = rf"queue_id={qid} report=<[^>]+> recipient=<{re.escape(HARD)}> bounce 5\.1\.1: recorded"
    dsn_lines = waited(lambda: stack.bounce_lines(hard_rx), 40,
                       "tenantmail-bounce to handle Postfix's DSN for the 550 recipient") or []
    check("outcomes: Postfix's own DSN for the 550 recipient reached tenantmail-bounce through the pipe",
          len(dsn_lines) == 1, f"{dsn_lines}\n--- postfix.log ---\n{stack.postfix.log()[-3000:]}")
    for rcpt, kind in FIRST_KIND.items():
        stack.wait_received(lambda e, r=rcpt, k=kind: e["recipient"] == r and e["kind"] == k, 30,
                            f"a {kind} event for {rcpt}")
    # Both reports of the 550 must have been handled before counting: the
    # DSN by tenantmail-bounce (above), the log line by tenantmail-maillog.
    waited(lambda: stack.maillog.count(rf"{qid}: tenant={TENANT} to=<{re.escape(HARD)}>") >= 1, 15,
           "tenantmail-maillog to handle the 550 line")
    settled = stack.settle()
    received, stream = stack.received(), stack.stream()
    outcomes = [e for e in received if e.get("queue_id") == qid and e["kind"] in OUTCOME_KINDS]
    per_rcpt = kinds_of(outcomes, qid)
    check("outcomes: the receiver has every event of the stream", settled,
          f"stream {len(stream)}, received {len(received)}")
    check("outcomes: exactly one delivery/bounce/soft_bounce per recipient, of the right kind",
          per_rcpt == {r: [k] for r, k in FIRST_KIND.items()}, per_rcpt)
    from_log = {e["recipient"]: e["details"].get("source") for e in outcomes}
    check("outcomes: the three deliveries and the soft_bounce come from Postfix's log (tenantmail-maillog)",
          all(from_log.get(r) == "maillog" for r in (OK, LATER, FBL, SOFT)), from_log)
    hard = [e for e in received if e["recipient"] == HARD]
    check("outcomes: the 550 recipient: one bounce event in all, although both the log and Postfix's DSN reported it",
          len(hard) == 1 and len([e for e in stream if e["recipient"] == HARD]) == 1
          and hard[0]["details"].get("source") in ("maillog", "dsn")
          and "5.1.1" in (hard[0]["details"].get("dsn"), hard[0]["details"].get("status")), hard)
    if hard:
        info(f"the 550 bounce event came from {hard[0]['details'].get('source')}; the other report was "
             "recognised as the same bounce")
    state = json.loads(stack.redis.command("HGET", f"tm:{{{TENANT}}}:msg:{qid}:rcpt", HARD) or "{}")
    bounced_steps = [h.get("status") for h in state.get("history", [])].count("bounced")
    check("outcomes: the 550 recipient's history holds both reports (log and DSN) as bounced",
          state.get("status") == "bounced" and bounced_steps == 2, state)
    wrong = [e for e in outcomes if e.get("message_id") != message_id or e.get("tenant") != TENANT]
    check("outcomes: every outcome event carries the message's Message-ID, queue id and tenant",
          outcomes and not wrong, wrong[:2])
    soft = [e for e in outcomes if e["recipient"] == SOFT]
    check("outcomes: the soft bounce carries the 450 reply",
          soft and soft[0]["details"].get("dsn") == "4.2.0" and "450 4.2.0" in soft[0]["details"].get("reply", ""),
          soft)
    check("outcomes: every POST's signature verified (HMAC-SHA256 over timestamp.body), nothing refused",
          stack.receiver.batches and not stack.receiver.bad, stack.receiver.bad[:3])
    supp = stack.suppressed()
    check("outcomes: the 550 recipient is suppressed (from Postfix's DSN), the others are not",
          list(supp) == [HARD] and supp[HARD]["reason"].startswith("bounce 5.1.1"), supp)
    return {"qid": qid, "message_id": message_id, "bounce_addr": bounce_addr}


# ---------------------------------------------------------------------------
# 3: a DSN and an ARF report from the outside, by SMTP to the bounce address

def reports(stack: Stack, m: dict) -> None:
    qid, bounce_addr, original_id = m["qid"], m["bounce_addr"], m["message_id"].strip("<>")
    report = dsn(bounce_addr, [(LATER, "failed", "5.2.2", "552 5.2.2 <later@remote.example>: Mailbox full")],
                 f"dsn-{os.urandom(4).hex()}@mx1.example.net", original_id, original_to=LATER)
    refused = ms.send_smtp(stack.postfix.smtp_port, "", bounce_addr, crlf(report))
    check("reports by SMTP: Postfix accepts a DSN for the bounce address", refused == {}, refused)
    feedback = arf(bounce_addr, bounce_addr, FBL, f"arf-{os.urandom(4).hex()}@isp.example", original_id)
    refused = ms.send_smtp(stack.postfix.smtp_port, "", bounce_addr, crlf(feedback))
    check("reports by SMTP: Postfix accepts an ARF report for the bounce address", refused == {}, refused)

    bounce = stack.wait_received(lambda e: e["recipient"] == LATER and e["kind"] == "bounce", 30,
                                 "the DSN's bounce event")
    complaint = stack.wait_received(lambda e: e["recipient"] == FBL and e["kind"] == "complaint", 30,
                                    "the ARF report's complaint event")
    check("reports by SMTP: the DSN became one bounce event: status, diagnostic, Message-ID, queue id",
          len(bounce) == 1 and bounce[0]["queue_id"] == qid and bounce[0]["message_id"] == m["message_id"]
          and bounce[0]["details"].get("source") == "dsn" and bounce[0]["details"].get("status") == "5.2.2"
          and "Mailbox full" in bounce[0]["details"].get("diagnostic", ""),
          f"{bounce}\n--- bounce log ---\n{stack.bounce_lines('.')[-5:]}")
    check("reports by SMTP: the ARF report became one complaint event: feedback type, Message-ID, queue id",
          len(complaint) == 1 and complaint[0]["queue_id"] == qid
          and complaint[0]["message_id"] == m["message_id"]
          and complaint[0]["details"].get("source") == "arf"
          and complaint[0]["details"].get("feedback_type") == "abuse",
          f"{complaint}\n--- bounce log ---\n{stack.bounce_lines('.')[-5:]}")
    check("reports by SMTP: both recipients are now suppressed", {LATER, FBL} <= set(stack.suppressed()), stack.suppressed())


# ---------------------------------------------------------------------------
# 4: sending to the bounced recipient again

def send_again(stack: Stack, m: dict) -> None:
    message_id = f"<e2e-again-{os.urandom(6).hex()}@acme.example>"
    refused, qid, reply = submit(stack, [AGAIN, HARD], message("events e2e again", [AGAIN, HARD], message_id))
    code, text = refused.get(HARD, (0, ""))
    check("suppressed recipient: the hard-bounced recipient is refused at RCPT with 5.1.1, naming the suppression",
          500 <= code < 600 and text.startswith("5.1.1") and f"suppressed for tenant {TENANT}" in text,
          f"{code} {text}")
    check("suppressed recipient: the other recipient is accepted and the message queued", AGAIN not in refused and qid,
          f"refused {refused}; DATA reply {reply!r}")
    blocked = stack.wait_received(lambda e: e["kind"] == "blocked" and e["recipient"] == HARD, 30,
                                  "the blocked event")
    check("suppressed recipient: one blocked event at the receiver: recipient, tenant, queue id, reason and reply",
          len(blocked) == 1 and blocked[0]["tenant"] == TENANT and blocked[0]["queue_id"] == qid
          and blocked[0]["details"].get("reason", "").startswith("bounce 5.1.1")
          and "5.1.1" in blocked[0]["details"].get("reply", ""), blocked)
    delivered = stack.wait_received(lambda e: e["recipient"] == AGAIN and e["kind"] == "delivery", 30,
                                    "the delivery event of the second message")
    check("suppressed recipient: the second message's accepted recipient is delivered (one delivery event)",
          len(delivered) == 1 and qid and delivered[0]["queue_id"] == qid
          and delivered[0]["message_id"] == message_id, delivered)
    check("suppressed recipient: policyd logged the refusal",
          re.search(rf"tenant={TENANT} class=bulk rcpt=<{re.escape(HARD)}> .*rejected: suppressed",
                    stack.policyd.log()) is not None, stack.policyd.log()[-800:])
    m["qid2"] = qid


# ---------------------------------------------------------------------------
# 5: a forged bounce address

def forged(stack: Stack, m: dict) -> None:
    qid, original_id = m["qid"], m["message_id"].strip("<>")
    # Well-formed, for the real queue id and domain, under another secret.
    address = bounce_address(os.urandom(32).hex().encode(), qid, BOUNCE_DOMAIN)
    stack.settle()
    stream_before, received_before = stack.stream(), stack.received()
    suppressed_before = stack.suppressed()
    report = dsn(address, [(OK, "failed", "5.1.1", "550 5.1.1 <ok@remote.example>: no such user")],
                 f"forged-{os.urandom(4).hex()}@evil.example", original_id, original_to=OK)
    refused = ms.send_smtp(stack.postfix.smtp_port, "", address, crlf(report))
    check("forged token: Postfix accepts the forged report (the pipe decides)", refused == {}, refused)
    drop_rx = rf"bounce address <{re.escape(address)}> refused: .*; report dropped"
    dropped = waited(lambda: stack.bounce_lines(drop_rx), 30, "tenantmail-bounce to drop the forged report")
    check("forged token: tenantmail-bounce logged the drop with the reason",
          dropped and "signature does not match" in dropped[0],
          f"{dropped}\n--- bounce log ---\n{stack.bounce_lines('.')[-5:]}")
    # Give an event that should not exist the time to show up: three of
    # webhookd's reads (block = 1s).
    time.sleep(3.0)
    check("forged token: nothing new in the events stream", stack.stream() == stream_before,
          stack.stream()[len(stream_before):])
    check("forged token: nothing new at the receiver", stack.received() == received_before,
          stack.received()[len(received_before):])
    check("forged token: the suppression list is unchanged", stack.suppressed() == suppressed_before, stack.suppressed())

    # A genuine report after it: once its event has arrived, anything the
    # forged one had caused would have arrived before it.
    report = dsn(m["bounce_addr"], [(SOFT, "delayed", "4.4.7", "451 4.4.7 Message delayed")],
                 f"delay-{os.urandom(4).hex()}@mx1.example.net", original_id, original_to=SOFT)
    ms.send_smtp(stack.postfix.smtp_port, "", m["bounce_addr"], crlf(report))
    later = stack.wait_received(lambda e: e["recipient"] == SOFT and e["details"].get("source") == "dsn", 30,
                                "the genuine delay notice's soft_bounce")
    stack.settle()
    new_stream = stack.stream()[len(stream_before):]
    new_received = stack.received()[len(received_before):]
    check("forged token: after a genuine report sent later, the only new event is that report's soft_bounce",
          len(later) == 1 and later[0]["kind"] == "soft_bounce" and new_stream == later
          and new_received == later, {"stream": new_stream, "received": new_received})


# ---------------------------------------------------------------------------

def final_checks(stack: Stack, m: dict) -> None:
    settled = stack.settle()
    stream, received = stack.stream(), stack.received()
    counts = collections.Counter(e["id"] for e in received)
    check("end: every event of the stream reached the receiver exactly once, and nothing else did",
          settled and sorted(counts) == sorted(e["id"] for e in stream) and set(counts.values()) == {1},
          f"stream {len(stream)}, received {len(received)}, duplicated "
          f"{[i for i, c in counts.items() if c > 1]}")
    want = {OK: ["delivery"], LATER: ["bounce", "delivery"], FBL: ["complaint", "delivery"],
            HARD: ["bounce"], SOFT: ["soft_bounce", "soft_bounce"]}
    check("end: per recipient of the first message, exactly the expected events",
          kinds_of(received, m["qid"]) == want, kinds_of(received, m["qid"]))
    check("end: the second message: one delivery and one blocked event",
          kinds_of(received, m.get("qid2") or "-") == {AGAIN: ["delivery"], HARD: ["blocked"]},
          kinds_of(received, m.get("qid2") or "-"))
    check("end: every signature verified", stack.receiver.batches and not stack.receiver.bad,
          stack.receiver.bad[:3])
    alive = {name: proc.alive() for name, proc in (("milter", stack.milter), ("maillog", stack.maillog))}
    alive["policyd"] = stack.policyd.proc.poll() is None
    alive["webhookd"] = stack.webhookd.proc.poll() is None
    check("end: every daemon still running", all(alive.values()), alive)
    logs = {"milter": stack.milter.log(), "policyd": stack.policyd.log(), "maillog": stack.maillog.log(),
            "webhookd": stack.webhookd.log(), "bounce": "\n".join(stack.bounce_lines(".")),
            "postfix": stack.postfix.log()}
    bad = [name for name, text in logs.items() if "Sanitizer" in text or "runtime error" in text]
    check("end: no sanitizer report in any log", not bad, "\n".join(logs[n][-2000:] for n in bad))


def main() -> int:
    if len(sys.argv) != 6:
        print(f"usage: {sys.argv[0]} MILTER POLICYD MAILLOG BOUNCE WEBHOOKD (paths of the tenantmail programs)",
              file=sys.stderr)
        return 2
    binaries = [os.path.abspath(p) for p in sys.argv[1:6]]

    def body():
        with ms.managed_workdir("tm-events-e2e-") as tmp:
            run_all(Stack(tmp, *binaries))
    return REPORT.run_main(body, failure="setup", cleanup=ms.stop_all)


def run_all(stack: Stack) -> None:
    """Every step of this test on stack (events_cluster_test.py runs them on
    a Redis Cluster)."""
    try:
        with REPORT.case("the test ran to the end"):
            stack.start()
            m = first_message(stack)
            for step in (reports, send_again, forged, final_checks):
                with REPORT.case(f"{step.__name__} ran without an exception"):
                    step(stack, m)
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
