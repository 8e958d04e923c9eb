#!/usr/bin/python3
"""tenantmail-maillog against a real redis-server (and a real Postfix) on 127.0.0.1.

Message records are written into Redis as the milter stores them (the keys
of common/message_store.h); Postfix-style lines are appended to a log file
that tenantmail-maillog (started in the foreground, stopped by PID) follows.
Redis's tm:{TENANT}:events streams are the witness:
  * waiting for a log file that does not exist yet; sent / deferred /
    bounced lines of every delivery agent, syslog and RFC 3339 stamps,
    orig_to, qmgr's per-message expiry, lines of other messages, junk and
    an over-long line: exactly the expected events, per tenant, with kind,
    dsn, reply, relay, the record's Message-ID and the line's time; the
    recipients' status in the record; one log line per outcome;
  * restart: resumes at the saved offset, records new lines, repeats none;
    without a state file (as after a crash before saving) every line is
    read again and every outcome is recognised as already recorded;
  * rotation while running (rename, the writer still appending to the old
    file, an empty new file, then lines in the new one), truncation in
    place, and rotation while stopped (the old file at FILE.1): nothing lost,
    nothing twice;
  * Redis stopped for a while: the follower holds its offset, logs the
    outage once, and records every line written meanwhile once Redis is back;
  * --check-config, and tenantmailctl check-config knowing [maillog];
  * a private Postfix (maillog_file) relaying to smtp-sink (accepts) and a
    scripted server (550 and 450 per recipient): delivery, bounce and one
    soft_bounce per deferral line, then delivery once the 450 turns into 250.
Prints "maillog: N passed, M failed"; exits non-zero on any failure.

Run: /usr/bin/python3 tests/integration/maillog_test.py PATH/TO/tenantmail-maillog [PATH/TO/tenantmailctl]
(TM_KEEP_TMP=1 keeps the temp dir.)
"""

from __future__ import annotations

import calendar
import datetime
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import mailstack as ms  # noqa: E402
from checks import Report  # noqa: E402
from tenantmail_procs import Maillog as Follower, events  # noqa: E402

NAME = "maillog"
TTL = 7 * 24 * 3600


REPORT = Report(NAME)


def check(condition, what: str, detail: object = "") -> bool:
    """This script's argument order: the condition first."""
    return REPORT.check(what, condition, detail)


# ---------------------------------------------------------------------------
# Redis: records as the milter writes them, events as the follower appends them

def store_message(redis: ms.RedisServer, tenant: str, qid: str, recipients: list[str],
                  message_id: str | None = None) -> str:
    now = int(time.time())
    message_id = message_id or f"<{qid.lower()}@{tenant}.example>"
    redis.command("HSET", f"tm:{{{tenant}}}:msg:{qid}", "queue_id", qid, "message_id", message_id,
                  "tenant", tenant, "class", "bulk", "mail_from", f"app@{tenant}.example",
                  "bounce_address", f"bounces+x@{tenant}.example", "header_from", f"app@{tenant}.example",
                  "header_to", recipients[0], "subject", "test", "time", now)
    for rcpt in recipients:
        state = {"status": "queued", "reply": "", "time": now,
                 "history": [{"status": "queued", "reply": "", "time": now}]}
        redis.command("HSET", f"tm:{{{tenant}}}:msg:{qid}:rcpt", rcpt.lower(), json.dumps(state))
    redis.command("ZADD", f"tm:{{{tenant}}}:messages", now, qid)
    redis.command("SET", f"tm:qid:{{{qid}}}", tenant, "EX", TTL)
    return message_id


def recipient_status(redis: ms.RedisServer, tenant: str, qid: str, rcpt: str) -> str | None:
    value = redis.command("HGET", f"tm:{{{tenant}}}:msg:{qid}:rcpt", rcpt.lower())
    return json.loads(value)["status"] if value else None


def kinds_by_recipient(evs: list[dict], qid: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for e in evs:
        if e["queue_id"] == qid:
            out.setdefault(e["recipient"], []).append(e["kind"])
    return out


def wait_events(redis: ms.RedisServer, tenant: str, n: int, timeout: float = 20.0) -> list[dict]:
    try:
        return ms.wait_until(lambda: (lambda e: e if len(e) >= n else None)(events(redis, tenant)),
                             timeout, f"{n} events for {tenant}")
    except ms.MailstackError:
        return events(redis, tenant)


# ---------------------------------------------------------------------------
# Postfix-style log lines

class Clock:
    """Distinct, increasing line times (one second apart), an hour ago."""

    def __init__(self):
        self.t = int(time.time()) - 3600

    def next(self) -> int:
        self.t += 1
        return self.t


CLOCK = Clock()


def syslog_stamp(t: int) -> str:
    return time.strftime("%b %e %H:%M:%S", time.localtime(t))


def rfc3339_stamp(t: int) -> str:
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).isoformat(timespec="microseconds")


def line(body: str, service: str = "postfix/smtp", t: int | None = None, rfc3339: bool = False) -> str:
    t = t if t is not None else CLOCK.next()
    stamp = rfc3339_stamp(t) if rfc3339 else syslog_stamp(t)
    return f"{stamp} mx1 {service}[{1000 + t % 5000}]: {body}\n"


def status(qid: str, rcpt: str, word: str, dsn: str, reply: str, relay: str = "mx.dest.example[192.0.2.10]:25",
           orig_to: str | None = None, **kw) -> str:
    orig = f", orig_to=<{orig_to}>" if orig_to else ""
    return line(f"{qid}: to=<{rcpt}>{orig}, relay={relay}, delay=0.4, delays=0.1/0/0.1/0.2, dsn={dsn}, "
                f"status={word} ({reply})", **kw)


def sent(qid: str, rcpt: str, **kw) -> str:
    return status(qid, rcpt, "sent", "2.0.0", "250 2.0.0 Ok: queued as 9XYZ", **kw)


def append(path: str, text: str | bytes) -> None:
    with open(path, "ab") as f:
        f.write(text.encode() if isinstance(text, str) else text)


def state_offset(path: str) -> int | None:
    try:
        with open(path) as f:
            for row in f:
                if row.startswith("offset "):
                    return int(row.split()[1])
    except FileNotFoundError:
        return None
    return None


def wait_caught_up(state_file: str, log_file: str, timeout: float = 15.0) -> bool:
    try:
        ms.wait_until(lambda: state_offset(state_file) == os.path.getsize(log_file), timeout,
                      f"state offset to reach the end of {log_file}")
        return True
    except ms.MailstackError:
        return False


def write_config(path: str, redis_port: int, log_file: str, state_file: str, extra: str = "") -> str:
    with open(path, "w") as f:
        f.write(f"log_level = info\n\n[redis]\nport = {redis_port}\ntimeout = 500ms\n\n"
                f"[maillog]\nfile = {log_file}\nstate_file = {state_file}\npoll_interval = 100ms\n{extra}")
    return path


# ---------------------------------------------------------------------------
# Scenarios

QA1, QA2, QB1, QEXP, QFOREIGN = "4Xb2Jk0Qz1z9sQ", "3F1C2A4B5C", "5A3B4C5D6E7", "C93CEB08A046", "7D8E9F0A1B"


def basic(binary: str, redis: ms.RedisServer, tmp: str, conf: str, log_file: str, state_file: str) -> Follower:
    follower = Follower(binary, conf, tmp).start()
    follower.wait_log(r"waiting for .*postfix\.log to appear")
    check(True, "waits for a log file that does not exist yet")

    mid_a1 = store_message(redis, "acme", QA1, ["alice@dest.example", "bob@dest.example", "carol@dest.example"])
    store_message(redis, "acme", QA2, ["Dave@Dest.Example", "frank@dest.example"])
    store_message(redis, "beta", QB1, ["erin@dest.example"])
    store_message(redis, "acme", QEXP, ["late1@dest.example", "late2@dest.example", "done@dest.example"])

    bob_reply = ("host mx.dest.example[192.0.2.10] said: 550 5.1.1 <bob@dest.example>: a=b, c=d (see "
                 "https://dest.example/?x=1,y=2) status=sent (in reply to RCPT TO command)")
    frank_time, alice_time = CLOCK.next(), CLOCK.next()
    text = "".join([
        line("connect from app.acme.example[192.0.2.99]", service="postfix/submission/smtpd"),
        line(f"{QA1}: client=app.acme.example[192.0.2.99], sasl_method=PLAIN, sasl_username=acme-bulk",
             service="postfix/submission/smtpd"),
        line(f"{QA1}: message-id=<{QA1.lower()}@acme.example>", service="postfix/cleanup"),
        line(f"{QA1}: from=<bounces+x@acme.example>, size=1234, nrcpt=3 (queue active)", service="postfix/qmgr"),
        sent(QA1, "alice@dest.example", t=alice_time),
        status(QA1, "bob@dest.example", "deferred", "4.4.1",
               "connect to mx.dest.example[192.0.2.10]:25: Connection refused", relay="none"),
        status(QA1, "bob@dest.example", "bounced", "5.1.1", bob_reply),
        status(QA1, "carol@dest.example", "deferred", "4.2.0",
               "host mx.dest.example[192.0.2.10] said: 450 4.2.0 busy (in reply to RCPT TO command)"),
        status(QA1, "carol@dest.example", "sent", "2.0.0", "250 2.0.0 <carol@dest.example> Saved",
               relay="lmtp.dest.example[private/dovecot-lmtp]", service="postfix/lmtp"),
        sent(QA2, "dave.final@dest.example", orig_to="Dave@Dest.Example", relay="local", service="postfix/local"),
        sent(QA2, "frank@dest.example", t=frank_time, rfc3339=True),
        status(QB1, "erin@dest.example", "bounced", "5.0.0", "User unknown", relay="none",
               service="postfix/error"),
        sent(QFOREIGN, "someone@dest.example"),
        "this is not a log line at all\n",
        status(QEXP, "late1@dest.example", "deferred", "4.4.2",
               "conversation with mx.dest.example[192.0.2.10] timed out while receiving the initial server greeting"),
        sent(QEXP, "done@dest.example"),
        line(f"{QEXP}: from=<bounces+x@acme.example>, status=expired, returned to sender", service="postfix/qmgr"),
        line(f"{QA1}: removed", service="postfix/qmgr"),
    ])
    overlong = line("X" * 20000, service="postfix/smtp")
    junk = b"\x00\x01\xfe\xff binary junk\n" + line("\x1b[31m control characters", service="x").encode()
    append(log_file, text.encode() + overlong.encode() + junk)

    acme = wait_events(redis, "acme", 11)
    beta = wait_events(redis, "beta", 1)
    caught_up = wait_caught_up(state_file, log_file)
    time.sleep(0.5)  # anything extra would show up now
    acme, beta = events(redis, "acme"), events(redis, "beta")
    check(len(acme) == 11 and len(beta) == 1, "exactly the expected number of events per tenant (11 acme, 1 beta)",
          f"acme={len(acme)} beta={len(beta)}")
    got = kinds_by_recipient(acme, QA1)
    check(got == {"alice@dest.example": ["delivery"], "bob@dest.example": ["soft_bounce", "bounce"],
                  "carol@dest.example": ["soft_bounce", "delivery"]},
          "sent/deferred/bounced lines give delivery/soft_bounce/bounce events in order", got)
    got = kinds_by_recipient(acme, QA2)
    check(got == {"Dave@Dest.Example": ["delivery"], "frank@dest.example": ["delivery"]},
          "orig_to names the recorded recipient (local delivery to an aliased address)", got)
    got = kinds_by_recipient(acme, QEXP)
    check(got == {"late1@dest.example": ["soft_bounce", "bounce"], "done@dest.example": ["delivery"],
                  "late2@dest.example": ["bounce"]},
          "qmgr's expiry bounces the recipients still pending, not the delivered one", got)
    check(kinds_by_recipient(beta, QB1) == {"erin@dest.example": ["bounce"]},
          "the other tenant's bounce goes to its own stream")
    check(not any(e["queue_id"] == QFOREIGN for e in acme + beta), "lines of messages without a record are skipped")
    check(len({e["id"] for e in acme + beta}) == 12, "every event has its own id")

    bob = [e for e in acme if e["recipient"] == "bob@dest.example" and e["kind"] == "bounce"]
    if check(len(bob) == 1, "one bounce event for bob"):
        d = bob[0]["details"]
        check(d.get("dsn") == "5.1.1" and d.get("status") == "bounced" and d.get("source") == "maillog"
              and d.get("relay") == "mx.dest.example[192.0.2.10]:25" and d.get("reply") == bob_reply,
              "bounce details: dsn, status, source, relay and the whole reply (parentheses, commas, '=')", d)
        check(bob[0]["message_id"] == mid_a1, "the event carries the record's Message-ID", bob[0]["message_id"])
        check(bob[0]["tenant"] == "acme" and bob[0]["queue_id"] == QA1, "tenant and queue id in the event")
    frank = [e for e in acme if e["recipient"] == "frank@dest.example"]
    check(frank and frank[0]["timestamp"] == frank_time, "an RFC 3339 stamp becomes the event's exact time",
          frank[0]["timestamp"] if frank else None)
    alice = [e for e in acme if e["recipient"] == "alice@dest.example"]
    check(alice and alice[0]["timestamp"] == alice_time,
          "a syslog stamp (local time, no year) becomes the event's time", alice[0]["timestamp"] if alice else None)
    late2 = [e for e in acme if e["recipient"] == "late2@dest.example"]
    check(late2 and late2[0]["details"].get("dsn") == "5.4.7" and late2[0]["details"].get("status") == "expired",
          "expiry events say dsn 5.4.7, status expired", late2[0]["details"] if late2 else None)
    late1 = [e for e in acme if e["recipient"] == "late1@dest.example" and e["kind"] == "bounce"]
    check(late1 and "timed out" in late1[0]["details"].get("reply", ""),
          "an expired recipient's bounce carries its last deferral reason")
    statuses = {r: recipient_status(redis, "acme", QA1, r) for r in ("alice@dest.example", "bob@dest.example",
                                                                     "carol@dest.example")}
    statuses.update({r: recipient_status(redis, "acme", QEXP, r) for r in ("late1@dest.example",
                                                                           "late2@dest.example")})
    statuses["dave"] = recipient_status(redis, "acme", QA2, "dave@dest.example")
    check(statuses == {"alice@dest.example": "delivered", "bob@dest.example": "bounced",
                       "carol@dest.example": "delivered", "late1@dest.example": "bounced",
                       "late2@dest.example": "bounced", "dave": "delivered"},
          "recipient statuses in the message records", statuses)
    outcome_lines = follower.count(r"info: \w+: tenant=\w+ to=<[^>]+> status=\w+ dsn=[\d.]+ event=\w+: recorded$")
    check(outcome_lines == 12, "one log line per recorded outcome (tenant, queue id, recipient, status)",
          f"{outcome_lines} lines")
    check(follower.count(r"warning: .*skipped a line of 200\d\d bytes") == 1, "the over-long line is skipped, logged")
    check(caught_up, "state file offset reaches the end of the log once all is recorded",
          f"state {state_offset(state_file)} size {os.path.getsize(log_file)}")
    return follower


def restart(binary: str, redis: ms.RedisServer, tmp: str, conf: str, log_file: str, state_file: str,
            follower: Follower) -> Follower:
    status_code = follower.stop()
    check(status_code == 0, "SIGTERM stops the follower with status 0", status_code)
    check(state_offset(state_file) == os.path.getsize(log_file), "state saved at the end of what was read")
    check(follower.count(r"info: stopping at offset \d+ of .*: 12 outcomes recorded") == 1,
          "stop logs where it stopped and what it recorded")

    follower = Follower(binary, conf, tmp, name="maillog-restarted").start()
    follower.wait_log(rf"resuming {re.escape(log_file)} at offset {os.path.getsize(log_file)}")
    store_message(redis, "acme", "4Xb2Jk0Qz1z9sG", ["gina@dest.example"])
    append(log_file, sent("4Xb2Jk0Qz1z9sG", "gina@dest.example"))
    acme = wait_events(redis, "acme", 12)
    wait_caught_up(state_file, log_file)
    time.sleep(0.5)
    acme = events(redis, "acme")
    check(len(acme) == 12 and acme[-1]["recipient"] == "gina@dest.example",
          "after a restart only the new line is recorded", [e["recipient"] for e in acme[11:]])
    check(follower.count("already recorded") == 0, "nothing read twice after a clean restart")

    # Worst case of a crash: no state saved at all. Everything is read again,
    # and every outcome is recognised by its event id.
    follower.stop()
    os.unlink(state_file)
    follower = Follower(binary, conf, tmp, name="maillog-no-state").start()
    follower.wait_log(r"reading .*postfix\.log from the start")
    # 13 outcomes were recorded; the two bounces of qmgr's expiry are not
    # even tried again, since those recipients are no longer pending.
    follower.wait_log(r"already recorded", count=11)
    wait_caught_up(state_file, log_file)
    time.sleep(0.5)
    check(len(events(redis, "acme")) == 12 and len(events(redis, "beta")) == 1,
          "re-reading the whole log (state file lost) adds no event")
    check(follower.count(r": recorded$") == 0 and follower.count(r": already recorded$") == 11,
          "every re-read outcome is logged as already recorded", follower.count(r": already recorded$"))
    return follower


def rotation(binary: str, redis: ms.RedisServer, tmp: str, conf: str, log_file: str, state_file: str,
             follower: Follower) -> Follower:
    qid = "4Xb2Jk0Qz1z9r1"
    rcpts = [f"r{i}@dest.example" for i in range(1, 9)]
    store_message(redis, "acme", qid, rcpts)
    base = len(events(redis, "acme"))

    def delivered() -> list[str]:
        return sorted(e["recipient"] for e in events(redis, "acme") if e["queue_id"] == qid)

    append(log_file, sent(qid, "r1@dest.example"))
    ms.wait_until(lambda: len(delivered()) == 1, 10, "r1")
    # logrotate: rename; the writer keeps appending to the old file until it
    # reopens; an empty new file appears; then the writer moves to it.
    os.rename(log_file, log_file + ".1")
    append(log_file + ".1", sent(qid, "r2@dest.example"))
    time.sleep(0.4)
    open(log_file, "w").close()
    time.sleep(0.4)
    append(log_file + ".1", sent(qid, "r3@dest.example"))
    time.sleep(0.4)
    append(log_file, sent(qid, "r4@dest.example"))
    append(log_file, sent(qid, "r5@dest.example"))
    ms.wait_until(lambda: len(delivered()) >= 5, 10, "r1..r5")
    wait_caught_up(state_file, log_file)
    check(delivered() == rcpts[:5], "rotation while running: old file finished, new one read, nothing lost",
          delivered())
    check(follower.count(r"finished the previous .* at offset") >= 1, "rotation is logged")

    # copytruncate: the same file cut to zero, then a shorter line.
    with open(log_file, "r+") as f:
        f.truncate(0)
    append(log_file, sent(qid, "r6@dest.example", relay="none"))
    ms.wait_until(lambda: len(delivered()) >= 6, 10, "r6")
    check(delivered() == rcpts[:6], "truncation in place: read again from the start", delivered())
    check(follower.count(r"was truncated") == 1, "truncation is logged")
    wait_caught_up(state_file, log_file)

    # Rotation while stopped: the rest of the old file is at FILE.1.
    follower.stop()
    append(log_file, sent(qid, "r7@dest.example"))
    os.replace(log_file, log_file + ".1")
    append(log_file, sent(qid, "r8@dest.example"))
    follower = Follower(binary, conf, tmp, name="maillog-rotated").start()
    ms.wait_until(lambda: len(delivered()) >= 8, 10, "r7, r8")
    wait_caught_up(state_file, log_file)
    time.sleep(0.5)
    check(delivered() == rcpts, "rotation while stopped: FILE.1 finished first, then the new file", delivered())
    check(follower.count(r"rotated while stopped: finishing .*postfix\.log\.1 from offset") == 1,
          "resuming in the rotated file is logged")
    check(len(events(redis, "acme")) == base + 8, "rotations recorded every line exactly once")
    return follower


def redis_outage(redis: ms.RedisServer, log_file: str, state_file: str, follower: Follower) -> None:
    qid = "4Xb2Jk0Qz1z9o1"
    store_message(redis, "acme", qid, ["o1@dest.example", "o2@dest.example", "o3@dest.example"])
    base = len(events(redis, "acme"))
    redis.stop()
    append(log_file, sent(qid, "o1@dest.example"))
    append(log_file, status(qid, "o2@dest.example", "bounced", "5.7.1", "550 5.7.1 rejected"))
    time.sleep(3.0)
    append(log_file, status(qid, "o3@dest.example", "deferred", "4.7.0", "451 4.7.0 greylisted"))
    # Sent during the outage: the milter holds its record until it reaches
    # Redis again, a little after the follower may.
    late_qid = "4Xb2Jk0Qz1z9o2"
    append(log_file, sent(late_qid, "o4@dest.example"))
    append(log_file, sent("4Xb2Jk0Qz1z9oF", "stranger@dest.example"))  # no record, ever
    time.sleep(1.0)
    check(follower.alive(), "the follower keeps running while Redis is down")
    check(follower.count(r"until Redis is back") == 1, "the outage is logged once, not per retry",
          follower.count(r"until Redis is back"))
    check((state_offset(state_file) or 0) < os.path.getsize(log_file), "the offset is held during the outage")
    redis.start()
    ms.wait_until(lambda: len(events(redis, "acme")) >= base + 3, 20, "events after the outage")
    time.sleep(3.0)
    store_message(redis, "acme", late_qid, ["o4@dest.example"])
    caught_up = wait_caught_up(state_file, log_file, timeout=40)
    time.sleep(0.5)
    evs = events(redis, "acme")
    got = kinds_by_recipient(evs, qid)
    check(got == {"o1@dest.example": ["delivery"], "o2@dest.example": ["bounce"],
                  "o3@dest.example": ["soft_bounce"]},
          "lines written while Redis was down are recorded once it is back, none skipped", got)
    check(kinds_by_recipient(evs, late_qid) == {"o4@dest.example": ["delivery"]},
          "a record the milter writes after the outage still gets its line's event",
          kinds_by_recipient(evs, late_qid))
    check(caught_up, "a line whose queue id never gets a record is skipped after the wait")
    check(len(evs) == base + 4, "nothing recorded twice after the outage")
    check(follower.count(r"Redis reachable again after \d+s") == 1, "the recovery is logged")


def check_config(binary: str, ctl: str | None, tmp: str, conf: str) -> None:
    proc = subprocess.run([binary, "--check-config", "-c", conf], capture_output=True, text=True, timeout=30)
    check(proc.returncode == 0 and "configuration OK" in proc.stdout, "--check-config accepts the configuration",
          proc.stdout + proc.stderr)
    bad = os.path.join(tmp, "bad.conf")
    with open(bad, "w") as f:
        f.write("[maillog]\nfile = /var/log/postfix.log\npoll_interval = soon\n")
    proc = subprocess.run([binary, "--check-config", "-c", bad], capture_output=True, text=True, timeout=30)
    check(proc.returncode == 2 and "bad.conf:3:" in proc.stderr and "maillog.poll_interval" in proc.stderr,
          "--check-config names the bad line", proc.stderr)
    if not ctl:
        return
    proc = subprocess.run([ctl, "check-config", "-c", bad], capture_output=True, text=True, timeout=30)
    check(proc.returncode != 0 and "bad.conf:3:" in proc.stderr and "maillog.poll_interval" in proc.stderr,
          "tenantmailctl check-config checks the [maillog] section", proc.stderr)
    with open(bad, "w") as f:
        f.write("[maillog]\nfollow = yes\n")
    proc = subprocess.run([ctl, "check-config", "-c", bad], capture_output=True, text=True, timeout=30)
    check(proc.returncode != 0 and "maillog.follow" in proc.stderr,
          "tenantmailctl check-config refuses unknown [maillog] options", proc.stderr)


def postfix_run(binary: str, redis: ms.RedisServer, tmp: str) -> None:
    """A private Postfix logging to its own maillog_file."""
    pdir = os.path.join(tmp, "postfix")
    os.makedirs(pdir)
    os.chmod(pdir, 0o755)
    sink = ms.SmtpSink(os.path.join(tmp, "sink")).start()
    scripted = ms.ScriptedSmtpServer(rcpt_replies={
        "hard@remote.example": "550 5.1.1 <hard@remote.example>: Recipient address rejected: User unknown",
        "soft@remote.example": "450 4.2.0 <soft@remote.example>: mailbox busy, try again later",
    }).start()
    pf = ms.PrivatePostfix(pdir, relay_port=scripted.port, extra_main_cf={
        "transport_maps": f"inline:{{sink.example=smtp:[{ms.LOOPBACK}]:{sink.port}}}",
    })
    try:
        pf.start()
        rcpts = ["ok@sink.example", "hard@remote.example", "soft@remote.example", "ok2@remote.example"]
        message = (b"From: app@acme.example\r\nTo: ok@sink.example\r\nSubject: maillog test\r\n"
                   b"Message-ID: <pf1@acme.example>\r\n\r\nhello\r\n")
        ms.send_smtp(pf.smtp_port, "bounces+x@acme.example", rcpts, message)
        client = pf.wait_log(r"postfix/smtp-plain/smtpd\[\d+\]: \w+: client=")[0]
        qid = re.search(r"smtpd\[\d+\]: (\w+): client=", client).group(1)
        pf.wait_log(rf"{qid}: to=<soft@remote.example>.*status=deferred")
        pf.wait_log(rf"{qid}: to=<hard@remote.example>.*status=bounced")
        # The record is written after the fact here (the milter writes it
        # before Postfix queues the message); the follower starts afterwards
        # and reads the log from its start.
        store_message(redis, "acme", qid, rcpts, message_id="<pf1@acme.example>")
        conf = write_config(os.path.join(tmp, "postfix-maillog.conf"), redis.port, pf.log_path,
                            os.path.join(tmp, "postfix-maillog.state"))
        follower = Follower(binary, conf, tmp, name="maillog-postfix").start()
        try:
            ms.wait_until(lambda: any(e["recipient"] == "hard@remote.example" and e["queue_id"] == qid
                                      for e in events(redis, "acme")), 20, "the bounce from Postfix's log")
            # Let Postfix retry the 450 at least once more while we follow live.
            n_deferred = len(pf.wait_log(rf"{qid}: to=<soft@remote.example>.*status=deferred", count=2,
                                         timeout=20))
            scripted.set_rcpt_reply("soft@remote.example", "250 2.1.5 Ok")
            pf.wait_log(rf"{qid}: to=<soft@remote.example>.*status=sent", timeout=20)
            pf.wait_queue_empty()
            ms.wait_until(lambda: kinds_by_recipient(events(redis, "acme"), qid).get("soft@remote.example", [])[-1:]
                          == ["delivery"], 20, "soft@ delivery event")
            pf.stop()
            wait_caught_up(os.path.join(tmp, "postfix-maillog.state"), pf.log_path)
            time.sleep(0.5)
            n_deferred = len([l for l in pf.log().splitlines()
                              if re.search(rf"{qid}: to=<soft@remote.example>.*status=deferred", l)])
            evs = [e for e in events(redis, "acme") if e["queue_id"] == qid]
            got = kinds_by_recipient(evs, qid)
            check(got.get("ok@sink.example") == ["delivery"] and got.get("ok2@remote.example") == ["delivery"],
                  "Postfix: smtp-sink and the scripted server accepting give delivery events", got)
            check(got.get("hard@remote.example") == ["bounce"], "Postfix: 550 at RCPT gives one bounce event", got)
            check(got.get("soft@remote.example") == ["soft_bounce"] * n_deferred + ["delivery"],
                  f"Postfix: one soft_bounce per deferral line ({n_deferred}), then delivery", got)
            hard = [e for e in evs if e["recipient"] == "hard@remote.example"]
            if hard:
                d = hard[0]["details"]
                check(d.get("dsn") == "5.1.1" and "550 5.1.1" in d.get("reply", "")
                      and d.get("reply", "").endswith("(in reply to RCPT TO command)")
                      and hard[0]["message_id"] == "<pf1@acme.example>",
                      "Postfix: the bounce carries dsn, the remote reply and the Message-ID", hard[0])
            soft = [e for e in evs if e["kind"] == "soft_bounce"]
            check(all(e["details"].get("dsn") == "4.2.0" and "450 4.2.0" in e["details"].get("reply", "")
                      for e in soft), "Postfix: soft bounces carry the 450 reply")
            check(len({e["id"] for e in evs}) == len(evs), "Postfix: every event once")
            sink_rcpts = [r for m in sink.received(1) for r in m.recipients]
            check(sink_rcpts == ["ok@sink.example"], "smtp-sink received its recipient", sink_rcpts)
        finally:
            follower.stop()
    finally:
        pf.stop()
        scripted.stop()
        sink.stop()


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    binary = os.path.abspath(sys.argv[1])
    ctl = os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 else None
    with ms.workdir("tenantmail-maillog-") as tmp:
        redis = ms.RedisServer(tmp, extra_args=["--appendonly", "yes", "--appendfsync", "always"]).start()
        logs = os.path.join(tmp, "log")
        os.makedirs(logs)
        log_file = os.path.join(logs, "postfix.log")
        state_file = os.path.join(tmp, "maillog.state")
        conf = write_config(os.path.join(tmp, "tenantmail.conf"), redis.port, log_file, state_file)
        follower = None
        try:
            follower = basic(binary, redis, tmp, conf, log_file, state_file)
            follower = restart(binary, redis, tmp, conf, log_file, state_file, follower)
            follower = rotation(binary, redis, tmp, conf, log_file, state_file, follower)
            redis_outage(redis, log_file, state_file, follower)
            check_config(binary, ctl, tmp, conf)
        except Exception:
            check(False, "scenario raised", traceback.format_exc())
            if follower:
                print(follower.log()[-3000:])
        finally:
            if follower:
                follower.stop()
        try:
            postfix_run(binary, redis, tmp)
        except Exception:
            check(False, "Postfix scenario raised", traceback.format_exc())
        redis.stop()
    return REPORT.finish()


if __name__ == "__main__":
    sys.exit(main())
