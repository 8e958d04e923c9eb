#!/usr/bin/python3
"""tenantmail-maillog when Postfix reuses a queue id, against a real redis-server.

Short (hex) queue ids come back within minutes on a busy host. Records are
written as the milter writes them (message_store_tool runs common/
message_store's build_store_record); the log file holds real Postfix lines
(smtpd client=, pickup uid=, cleanup message-id=, qmgr from= ... (queue
active), delivery status lines, qmgr removed) in which one queue id is used
by four messages in turn, and the real tenantmail-maillog follows it:
  * tenant acme's message, then tenant beta's under the same id: each
    outcome lands in its own tenant's record and stream (the follower must
    not keep the id's first tenant);
  * then mail of no tenant under that id (tm:qid still names beta): nothing
    is recorded anywhere, beta's record gains no recipient, and the refusal
    is logged once for the message, not once per recipient;
  * then acme's again: its new record replaces the first (no recipient
    carries over) and the same line bouncing the same recipient again is a
    new bounce event;
  * an old record (null sender, no Message-ID) under another id, reused by a
    Postfix notification with RFC 3339 stamps: refused by its time;
  * tm:qid:{QID} names the tenant whose record the writer wrote last.
Prints "maillog_reuse: N passed, M failed"; exits non-zero on any failure.

Run: /usr/bin/python3 tests/integration/maillog_reuse_test.py PATH/TO/tenantmail-maillog PATH/TO/message_store_tool
(TM_KEEP_TMP=1 keeps the temp dir.)
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import mailstack as ms  # noqa: E402
from checks import Report  # noqa: E402
from tenantmail_procs import Maillog as Follower, events  # noqa: E402

NAME = "maillog_reuse"

QID = "3F1C2A4B5C"      # short queue id, used by four messages in turn
OLD_QID = "5B6C7D8E9F"  # an old record's id, reused by a Postfix notification
NOW = int(time.time())


REPORT = Report(NAME)


def check(condition, what: str, detail: object = "") -> bool:
    """This script's argument order: the condition first."""
    return REPORT.check(what, condition, detail)


class Store:
    """Message records as the milter writes them (build_store_record)."""

    def __init__(self, tool: str, redis: ms.RedisServer):
        self.tool = tool
        self.redis = redis

    def record(self, tenant: str, qid: str, recipients: list[str], bounce_address: str, message_id: str,
               written: int, mail_from: str | None = None) -> None:
        record = {"queue_id": qid, "tenant": tenant, "message_id": message_id, "class": "bulk",
                  "mail_from": f"app@{tenant}.example" if mail_from is None else mail_from,
                  "bounce_address": bounce_address, "header_from": f"app@{tenant}.example",
                  "header_to": recipients[0], "subject": "reuse", "time": written,
                  "recipients": recipients}
        proc = subprocess.run([self.tool, str(self.redis.port), "store", json.dumps(record)],
                              capture_output=True, text=True, timeout=30)
        if proc.returncode != 0:
            raise RuntimeError(f"store failed: {proc.stdout}{proc.stderr}")

    def recipients(self, tenant: str, qid: str) -> dict[str, str]:
        flat = self.redis.command("HGETALL", f"tm:{{{tenant}}}:msg:{qid}:rcpt") or []
        return {k: json.loads(v)["status"] for k, v in zip(flat[0::2], flat[1::2])}


# ---------------------------------------------------------------------------
# Real Postfix lines

def syslog_line(t: int, service: str, body: str) -> str:
    return f"{time.strftime('%b %e %H:%M:%S', time.localtime(t))} mx1 postfix/{service}[{1000 + t % 5000}]: {body}\n"


def rfc3339_line(t: int, service: str, body: str) -> str:
    stamp = datetime.datetime.fromtimestamp(t, datetime.timezone.utc).isoformat(timespec="microseconds")
    return f"{stamp} mx1 postfix/{service}[{1000 + t % 5000}]: {body}\n"


def delivery(qid: str, rcpt: str, word: str, dsn: str, reply: str) -> str:
    return (f"{qid}: to=<{rcpt}>, relay=mx.dest.example[192.0.2.10]:25, delay=0.4, "
            f"delays=0.1/0/0.1/0.2, dsn={dsn}, status={word} ({reply})")


def sent(qid: str, rcpt: str) -> str:
    return delivery(qid, rcpt, "sent", "2.0.0", "250 2.0.0 Ok: queued as 9XYZ")


BOUNCED_ALICE = delivery(QID, "alice@dest.example", "bounced", "5.1.1",
                         "host mx.dest.example[192.0.2.10] said: 550 5.1.1 <alice@dest.example>: user unknown "
                         "(in reply to RCPT TO command)")


def append(path: str, text: str) -> None:
    with open(path, "a") as f:
        f.write(text)


def wait_for(what: str, predicate, timeout: float = 20.0) -> bool:
    try:
        ms.wait_until(predicate, timeout, what)
        return True
    except ms.MailstackError:
        return False


def kinds(evs: list[dict]) -> list[tuple[str, str]]:
    return [(e["recipient"], e["kind"]) for e in evs]


# ---------------------------------------------------------------------------

def run(binary: str, store: Store, redis: ms.RedisServer, tmp: str) -> None:
    log_file = os.path.join(tmp, "postfix.log")
    open(log_file, "w").close()
    conf = os.path.join(tmp, "tenantmail.conf")
    with open(conf, "w") as f:
        f.write(f"log_level = info\n\n[redis]\nport = {redis.port}\ntimeout = 500ms\n\n"
                f"[maillog]\nfile = {log_file}\nstate_file = {os.path.join(tmp, 'maillog.state')}\n"
                "poll_interval = 100ms\n")
    follower = Follower(binary, conf, tmp).start()
    try:
        scenario(follower, store, redis, log_file)
    finally:
        status = follower.stop()
    check(status == 0, "the follower stops cleanly", status)
    check(follower.count(r"info: stopping at .*, 3 refused \(record of another message\)") == 1,
          "its stop line counts the three refused outcomes",
          [l for l in follower.log().splitlines() if "stopping at" in l])


def scenario(follower: Follower, store: Store, redis: ms.RedisServer, log_file: str) -> None:
    t = NOW - 3000

    # 1. acme's message takes the id.
    store.record("acme", QID, ["alice@dest.example", "amy@dest.example"], "bounces+a1@mta.acme.example",
                 "<m1@acme.example>", t + 1)
    append(log_file, "".join([
        syslog_line(t, "submission/smtpd", f"{QID}: client=app.acme.example[192.0.2.99], sasl_method=PLAIN, "
                                            "sasl_username=acme-bulk"),
        syslog_line(t, "cleanup", f"{QID}: message-id=<m1@acme.example>"),
        syslog_line(t + 1, "qmgr", f"{QID}: from=<bounces+a1@mta.acme.example>, size=1200, nrcpt=2 (queue active)"),
        syslog_line(t + 2, "smtp", BOUNCED_ALICE),
        syslog_line(t + 2, "smtp", sent(QID, "amy@dest.example")),
        syslog_line(t + 2, "qmgr", f"{QID}: removed"),
    ]))
    check(wait_for("acme's two outcomes", lambda: len(events(redis, "acme")) == 2),
          "acme's message: its bounce and delivery are recorded", kinds(events(redis, "acme")))

    # 2. beta's message gets the same queue id.
    t += 60
    store.record("beta", QID, ["bob@dest.example", "bea@dest.example"], "bounces+b2@mta.beta.example",
                 "<m2@beta.example>", t + 1)
    append(log_file, "".join([
        syslog_line(t, "submission/smtpd", f"{QID}: client=app.beta.example[192.0.2.98], sasl_method=PLAIN, "
                                            "sasl_username=beta-bulk"),
        syslog_line(t, "cleanup", f"{QID}: message-id=<m2@beta.example>"),
        syslog_line(t + 1, "qmgr", f"{QID}: from=<bounces+b2@mta.beta.example>, size=1300, nrcpt=2 (queue active)"),
        syslog_line(t + 2, "smtp", delivery(QID, "bob@dest.example", "deferred", "4.2.0",
                                            "host mx.dest.example[192.0.2.10] said: 450 4.2.0 busy "
                                            "(in reply to RCPT TO command)")),
        syslog_line(t + 2, "smtp", sent(QID, "bea@dest.example")),
        syslog_line(t + 300, "qmgr", f"{QID}: from=<bounces+b2@mta.beta.example>, size=1300, nrcpt=2 "
                                     "(queue active)"),
        syslog_line(t + 301, "smtp", sent(QID, "bob@dest.example")),
        syslog_line(t + 301, "qmgr", f"{QID}: removed"),
    ]))
    wait_for("beta's three outcomes", lambda: len(events(redis, "beta")) >= 3)
    check(kinds(events(redis, "beta")) == [("bob@dest.example", "soft_bounce"), ("bea@dest.example", "delivery"),
                                           ("bob@dest.example", "delivery")],
          "beta's message under the reused id: every outcome in beta's stream", kinds(events(redis, "beta")))
    check(store.recipients("beta", QID) == {"bob@dest.example": "delivered", "bea@dest.example": "delivered"},
          "beta's record has its recipients delivered", store.recipients("beta", QID))

    # 3. Mail of no tenant (a local cron mail) under the same id: no record
    # is written, and tm:qid still names beta.
    t += 600
    append(log_file, "".join([
        syslog_line(t, "pickup", f"{QID}: uid=0 from=<root>"),
        syslog_line(t, "cleanup", f"{QID}: message-id=<{t}.ABCDE@mx1.example>"),
        syslog_line(t + 1, "qmgr", f"{QID}: from=<root@mx1.example>, size=700, nrcpt=2 (queue active)"),
        syslog_line(t + 2, "smtp", sent(QID, "carol@dest.example")),
        syslog_line(t + 2, "smtp", sent(QID, "dan@dest.example")),
        syslog_line(t + 2, "qmgr", f"{QID}: removed"),
    ]))
    follower.wait_log(f"{QID}: tenant=beta status=sent: not recorded")

    # 4. acme again under the same id: the milter's new record replaces the
    # old one (no recipient of the first message carries over), and the
    # same recipient bouncing again is a new bounce.
    t += 60
    store.record("acme", QID, ["alice@dest.example"], "bounces+a5@mta.acme.example", "<m5@acme.example>", t + 1)
    append(log_file, "".join([
        syslog_line(t, "submission/smtpd", f"{QID}: client=app.acme.example[192.0.2.99]"),
        syslog_line(t, "cleanup", f"{QID}: message-id=<m5@acme.example>"),
        syslog_line(t + 1, "qmgr", f"{QID}: from=<bounces+a5@mta.acme.example>, size=1200, nrcpt=1 (queue active)"),
        syslog_line(t + 2, "smtp", BOUNCED_ALICE),
        syslog_line(t + 2, "qmgr", f"{QID}: removed"),
    ]))

    # 5. An old record (acme, null sender, no Message-ID, three days old)
    # and a Postfix notification of its own (null sender) under that id now.
    t += 60
    store.record("acme", OLD_QID, ["old@dest.example"], "", "", NOW - 3 * 86400, mail_from="")
    append(log_file, "".join([
        rfc3339_line(t, "cleanup", f"{OLD_QID}: message-id=<{t}.F00D@mx1.example>"),
        rfc3339_line(t, "bounce", f"7E8F9A0B1C: sender non-delivery notification: {OLD_QID}"),
        rfc3339_line(t + 1, "qmgr", f"{OLD_QID}: from=<>, size=2400, nrcpt=1 (queue active)"),
        rfc3339_line(t + 2, "smtp", sent(OLD_QID, "someone@dest.example")),
        rfc3339_line(t + 2, "qmgr", f"{OLD_QID}: removed"),
    ]))
    # A last line of acme's tells when the follower is past all of it.
    t += 60
    store.record("acme", "6C7D8E9FA0", ["last@dest.example"], "bounces+a6@mta.acme.example", "<m6@acme.example>",
                 t + 1)
    append(log_file, "".join([
        rfc3339_line(t, "smtpd", "6C7D8E9FA0: client=app.acme.example[192.0.2.99]"),
        rfc3339_line(t + 1, "qmgr", "6C7D8E9FA0: from=<bounces+a6@mta.acme.example>, size=900, nrcpt=1 "
                                    "(queue active)"),
        rfc3339_line(t + 2, "smtp", sent("6C7D8E9FA0", "last@dest.example")),
    ]))
    wait_for("the last line", lambda: any(e["recipient"] == "last@dest.example" for e in events(redis, "acme")))
    time.sleep(0.5)  # anything extra would show up now

    acme, beta = events(redis, "acme"), events(redis, "beta")
    strangers = {"carol@dest.example", "dan@dest.example", "someone@dest.example"}
    check(not any(e["recipient"] in strangers for e in acme + beta),
          "mail of no tenant under a reused id: no event in any tenant's stream", kinds(acme + beta))
    check(kinds(acme) == [("alice@dest.example", "bounce"), ("amy@dest.example", "delivery"),
                          ("alice@dest.example", "bounce"), ("last@dest.example", "delivery")],
          "acme's stream has only acme's recipients, and the second message's bounce of the same recipient",
          kinds(acme))
    check(store.recipients("acme", QID) == {"alice@dest.example": "bounced"},
          "acme's second record under the id holds only its own recipient", store.recipients("acme", QID))
    check(len(beta) == 3, "beta's stream has only beta's three outcomes", kinds(beta))
    check(store.recipients("beta", QID) == {"bob@dest.example": "delivered", "bea@dest.example": "delivered"},
          "beta's record gains no recipient of the later message", store.recipients("beta", QID))
    check(store.recipients("acme", OLD_QID) == {"old@dest.example": "queued"},
          "the old record gains nothing from the notification that reused its id (refused by time)",
          store.recipients("acme", OLD_QID))
    check(redis.command("GET", f"tm:qid:{{{QID}}}") == "acme",
          "tm:qid names the tenant whose record was written last", redis.command("GET", f"tm:qid:{{{QID}}}"))
    refusals = [l for l in follower.log().splitlines() if "not recorded, the record of this queue id is another" in l]
    check(len([l for l in refusals if f"{QID}: tenant=beta" in l and "root@mx1.example" in l]) == 1,
          "one warning for the message of no tenant (two recipients), naming its sender", refusals)
    check(len([l for l in refusals if f"{OLD_QID}: tenant=acme" in l and "older than the message" in l]) == 1,
          "one warning for the old record, saying it is older than the message", refusals)
    check(len(refusals) == 2, "no other refusal", refusals)


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    binary, tool = (os.path.abspath(a) for a in sys.argv[1:])

    def body():
        with ms.managed_workdir("tenantmail-maillog-reuse-") as tmp:
            with ms.RedisServer(tmp) as redis:
                run(binary, Store(tool, redis), redis, tmp)
    return REPORT.run_main(body, failure="scenario raised", cleanup=ms.stop_all)


if __name__ == "__main__":
    sys.exit(main())
