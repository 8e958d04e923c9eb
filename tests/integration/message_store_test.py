#!/usr/bin/python3
"""Message records and outcomes in a real redis-server, and the tenantmailctl
views that read them.

Usage: message_store_test.py PATH/TO/message_store_tool PATH/TO/tenantmailctl

message_store_tool (tests/tools) runs common/message_store's own code:
  * a stored record has every field, each recipient queued, the queue id
    lookup, the tenant's index and expiries on every key;
  * record_outcome: recorded (status, reply, history, one event in
    tm:{T}:events with the record's Message-ID filled in); the same event id
    again: duplicate, nothing changes; a second bounce for a bounced
    recipient: already_final (history grows, no event); an outcome for a
    message without a record creates a minimal one; history is capped at
    20 steps; the stream is capped (MAXLEN ~); after SCRIPT FLUSH the script
    is sent again (NOSCRIPT); 8 processes recording the same fact at once
    record it exactly once;
  * record_checked_outcome: a record of another message under the queue id
    (envelope sender, Message-ID, time), a missing or minimal record: refused,
    nothing written; the record's own message: recorded; an outcome never
    points tm:qid:{QID} at another tenant; a new record of the same tenant
    under a reused queue id replaces the earlier message's;
then `tenantmailctl messages` (table, --json, --status sent|failed|deferred,
--since, --tenant), `tenantmailctl message QID` (details and --json with
history) and `tenantmailctl outbox` (a stand-in postqueue printing real
`postqueue -j` lines, joined with the records; --tenant; --json), and
`tenantmailctl check-config` on the [milter] record options. Hostile bytes
(ESC, BEL, CSI raw and UTF-8 encoded, a bidi override) in a record's
Subject and From, a recipient's reply, postqueue's output and a
suppression reason reach no terminal: the text views show them escaped
(\x1b, \u009b), --json keeps them as JSON.
Prints "message_store: N passed, M failed"; exits non-zero on any failure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import mailstack as ms  # noqa: E402
from checks import Report  # noqa: E402

NAME = "message_store"
NOW = int(time.time())


REPORT = Report(NAME)
check = REPORT.check


class Tool:
    def __init__(self, binary: str, redis: ms.RedisServer):
        self.binary = binary
        self.redis = redis

    def run(self, command: str, argument) -> tuple[int, str]:
        arg = argument if isinstance(argument, str) else json.dumps(argument)
        proc = subprocess.run([self.binary, str(self.redis.port), command, arg],
                              capture_output=True, timeout=30)
        return proc.returncode, (proc.stdout + proc.stderr).decode("utf-8", "replace").strip()

    def store(self, record: dict) -> None:
        status, out = self.run("store", record)
        if status != 0:
            raise RuntimeError(f"store failed: {out}")

    def outcome(self, queue_id, recipient, status, reply, event_id, kind, tenant="acme",
                **extra) -> str:
        event = {"id": event_id, "kind": kind, "tenant": tenant, "timestamp": extra.pop("time", NOW)}
        event.update(extra.pop("event", {}))
        rc, out = self.run("outcome", {"queue_id": queue_id, "recipient": recipient,
                                       "status": status, "reply": reply, "event": event, **extra})
        return out if rc == 0 else f"error {rc}: {out}"


def events(redis, tenant="acme") -> list[dict]:
    return [json.loads(fields[1]) for _, fields in
            (redis.command("XRANGE", f"tm:{{{tenant}}}:events", "-", "+") or [])]


def rcpt_states(redis, tenant, qid) -> dict:
    flat = redis.command("HGETALL", f"tm:{{{tenant}}}:msg:{qid}:rcpt") or []
    return {k: json.loads(v) for k, v in zip(flat[0::2], flat[1::2])}


def hash_of(redis, key) -> dict:
    flat = redis.command("HGETALL", key) or []
    return dict(zip(flat[0::2], flat[1::2]))


def record(qid, tenant="acme", subject="Hello", time_=NOW - 60, recipients=("a@example.org",),
           **fields) -> dict:
    base = {"queue_id": qid, "tenant": tenant, "message_id": f"<{qid.lower()}@{tenant}.example>",
            "class": "bulk", "mail_from": f"app@{tenant}.example",
            "bounce_address": f"bounces+x{qid.lower()}@mta.{tenant}.example",
            "header_from": f"\"App\" <app@{tenant}.example>", "header_to": recipients[0],
            "subject": subject, "time": time_, "recipients": list(recipients)}
    base.update(fields)
    return base


# ---------------------------------------------------------------------------

def test_store(tool: Tool, redis: ms.RedisServer):
    tool.store(record("QSTORE1", recipients=("a@example.org", "b@example.org"), subject="Stored"))
    fields = hash_of(redis, "tm:{acme}:msg:QSTORE1")
    want = {"queue_id": "QSTORE1", "tenant": "acme", "message_id": "<qstore1@acme.example>",
            "class": "bulk", "mail_from": "app@acme.example",
            "bounce_address": "bounces+xqstore1@mta.acme.example",
            "header_from": "\"App\" <app@acme.example>", "header_to": "a@example.org",
            "subject": "Stored", "time": str(NOW - 60)}
    check("store: message hash has every field", fields == want, fields)
    states = rcpt_states(redis, "acme", "QSTORE1")
    check("store: each recipient queued with one history step",
          sorted(states) == ["a@example.org", "b@example.org"]
          and all(s["status"] == "queued" and len(s["history"]) == 1 for s in states.values()),
          states)
    status, out = tool.run("tenant", "QSTORE1")
    check("store: the queue id names its tenant (tenant_of_queue_id)", status == 0 and out == "acme",
          out)
    status, out = tool.run("tenant", "QNOTHERE")
    check("store: an unknown queue id has no tenant", status == 0 and out == "", out)
    ttls = [redis.command("TTL", k) for k in ("tm:{acme}:msg:QSTORE1", "tm:{acme}:msg:QSTORE1:rcpt",
                                              "tm:qid:{QSTORE1}", "tm:{acme}:messages")]
    check("store: every key expires (7d)", all(7 * 86400 - 60 < t <= 7 * 86400 for t in ttls), ttls)


def test_outcomes(tool: Tool, redis: ms.RedisServer):
    tool.store(record("QOUT1", recipients=("gone@example.org", "ok@example.org")))
    before = len(events(redis))
    r1 = tool.outcome("QOUT1", "Gone@Example.org", "bounced", "550 5.1.1 user unknown", "ev-b1",
                      "bounce", event={"details": {"status": "5.1.1"}})
    evs = events(redis)
    states = rcpt_states(redis, "acme", "QOUT1")
    gone = states.get("gone@example.org", {})
    check("outcome: recorded; recipient bounced with reply and a second history step",
          r1 == "recorded" and gone.get("status") == "bounced"
          and gone.get("reply") == "550 5.1.1 user unknown"
          and [h["status"] for h in gone.get("history", [])] == ["queued", "bounced"], (r1, gone))
    ev = evs[-1] if evs else {}
    check("outcome: one event in tm:{acme}:events, Message-ID filled in from the record, queue id "
          "and recipient from the outcome, details kept",
          len(evs) == before + 1 and ev.get("id") == "ev-b1" and ev.get("kind") == "bounce"
          and ev.get("message_id") == "<qout1@acme.example>" and ev.get("queue_id") == "QOUT1"
          and ev.get("recipient") == "Gone@Example.org" and ev.get("details") == {"status": "5.1.1"}
          and ev.get("timestamp") == NOW, ev)

    r2 = tool.outcome("QOUT1", "gone@example.org", "bounced", "550 5.1.1 user unknown", "ev-b1",
                      "bounce")
    check("outcome: the same event id again is a duplicate and changes nothing",
          r2 == "duplicate" and len(events(redis)) == before + 1
          and rcpt_states(redis, "acme", "QOUT1") == states, r2)

    r3 = tool.outcome("QOUT1", "gone@example.org", "bounced", "DSN: 550 5.1.1 no such user",
                      "ev-dsn1", "bounce", time=NOW + 5)
    gone3 = rcpt_states(redis, "acme", "QOUT1").get("gone@example.org", {})
    check("outcome: a second bounce for a bounced recipient is already_final: history grows, "
          "no second event",
          r3 == "already_final" and len(events(redis)) == before + 1
          and len(gone3.get("history", [])) == 3 and gone3.get("reply") == "DSN: 550 5.1.1 no such user",
          (r3, gone3))

    r4 = tool.outcome("QOUT1", "ok@example.org", "delivered", "250 2.0.0 Ok", "ev-d1", "delivery",
                      event={"message_id": "<claimed@x>"})
    check("outcome: a Message-ID claimed by the caller (a bounce report) yields to the record's",
          r4 == "recorded" and events(redis)[-1].get("message_id") == "<qout1@acme.example>", events(redis)[-1])
    r4b = tool.outcome("QCLAIM", "ok@example.org", "delivered", "250 2.0.0 Ok", "ev-c1", "delivery",
                       event={"message_id": "<claimed@x>"})
    check("outcome: without a record the claimed Message-ID stands in",
          r4b == "recorded" and events(redis)[-1].get("message_id") == "<claimed@x>", events(redis)[-1])

    r5 = tool.outcome("QNOREC", "x@example.org", "deferred", "451 4.4.1 timeout", "ev-n1",
                      "soft_bounce", time=NOW - 30)
    fields = hash_of(redis, "tm:{acme}:msg:QNOREC")
    check("outcome without a record: recorded, minimal record (queue id, tenant, time), indexed, "
          "empty Message-ID in the event; the queue id lookup is left to the record writer",
          r5 == "recorded" and fields == {"queue_id": "QNOREC", "tenant": "acme", "time": str(NOW - 30)}
          and redis.command("ZSCORE", "tm:{acme}:messages", "QNOREC") is not None
          and redis.command("GET", "tm:qid:{QNOREC}") is None
          and events(redis)[-1].get("message_id") == "", (r5, fields))
    ttl = redis.command("TTL", "tm:{acme}:msg:QNOREC:seen")
    check("outcome: the seen set expires with the record", 7 * 86400 - 60 < ttl <= 7 * 86400, ttl)
    # A late milter record must not reset the recipient to queued.
    tool.store(record("QNOREC", recipients=("x@example.org",), subject="Late"))
    late = rcpt_states(redis, "acme", "QNOREC").get("x@example.org", {})
    check("a record stored after an outcome keeps the recipient's status (HSETNX) and fills in "
          "the fields", late.get("status") == "deferred"
          and hash_of(redis, "tm:{acme}:msg:QNOREC").get("subject") == "Late", late)

    for i in range(25):
        tool.outcome("QOUT1", "ok@example.org", "deferred", f"451 try {i}", f"ev-cap{i}",
                     "soft_bounce")
    hist = rcpt_states(redis, "acme", "QOUT1").get("ok@example.org", {}).get("history", [])
    check("history is capped at the 20 most recent steps",
          len(hist) == 20 and hist[-1]["reply"] == "451 try 24" and hist[0]["reply"] == "451 try 5",
          [h["reply"] for h in hist][:3])

    redis.command("SCRIPT", "FLUSH")
    r6 = tool.outcome("QOUT1", "ok@example.org", "delivered", "250 ok", "ev-after-flush", "delivery")
    check("after SCRIPT FLUSH the outcome is still recorded (EVAL on NOSCRIPT)", r6 == "recorded", r6)

    tool.store(record("QCAP", tenant="capped", recipients=("c@example.org",)))
    for i in range(300):
        tool.outcome("QCAP", "c@example.org", "deferred", "451", f"cap-{i}", "soft_bounce",
                     tenant="capped", stream_cap=10)
    length = redis.command("XLEN", "tm:{capped}:events")
    check("the events stream is capped (MAXLEN ~ 10 after 300 events)", length < 300, length)


def seen_ids(redis, tenant, qid) -> set:
    return set(redis.command("SMEMBERS", f"tm:{{{tenant}}}:msg:{qid}:seen") or [])


def test_identity(tool: Tool, redis: ms.RedisServer):
    """record_checked_outcome: only the message the caller names gets the outcome."""
    qid = "3F1C2A4B5C"
    tool.store(record(qid, tenant="idt", time_=NOW - 100, recipients=("r@example.org",),
                      bounce_address="bounces+a1@mta.idt.example", message_id="<m1@idt.example>"))
    snapshot = (rcpt_states(redis, "idt", qid), len(events(redis, "idt")))

    def outcome(event_id, identity, tenant="idt", queue_id=qid):
        return tool.outcome(queue_id, "r@example.org", "deferred", "451 later", event_id, "soft_bounce",
                            tenant=tenant, identity=identity)

    refusals = {
        "another envelope sender": outcome("id-s", {"sender": "bounces+b2@mta.idt.example"}),
        "another Message-ID": outcome("id-m", {"sender": "BOUNCES+A1@mta.idt.example",
                                               "message_id": "<m2@idt.example>"}),
        "a message that arrived after the record was written": outcome(
            "id-t", {"sender": "bounces+a1@mta.idt.example", "not_before": NOW - 50}),
        "the null sender": outcome("id-n", {"sender": ""}),
    }
    for what, result in refusals.items():
        check(f"identity: {what} is refused, with the reason", result.startswith("refused: "), result)
    check("identity: a refused outcome writes nothing (status, event, seen mark)",
          (rcpt_states(redis, "idt", qid), len(events(redis, "idt"))) == snapshot
          and not seen_ids(redis, "idt", qid) & {"id-s", "id-m", "id-t", "id-n"},
          (rcpt_states(redis, "idt", qid), seen_ids(redis, "idt", qid)))
    why = refusals["another envelope sender"]
    check("identity: the refusal names both senders",
          "bounces+b2@mta.idt.example" in why and "bounces+a1@mta.idt.example" in why, why)

    ok = outcome("id-ok", {"sender": "Bounces+A1@MTA.idt.example", "message_id": "<m1@idt.example>",
                           "not_before": NOW - 101})
    check("identity: the record's own message (sender without regard to case, Message-ID, time) is recorded",
          ok == "recorded" and rcpt_states(redis, "idt", qid)["r@example.org"]["status"] == "deferred"
          and len(events(redis, "idt")) == snapshot[1] + 1, ok)
    check("identity: an unknown Message-ID or time is not held against the record",
          outcome("id-ok2", {"sender": "bounces+a1@mta.idt.example"}) == "recorded")
    check("identity: the client's own sender (the MTA kept it, not rewritten) is the record's too",
          outcome("id-ok3", {"sender": "app@idt.example"}) == "recorded")

    missing = outcome("id-x", {"sender": "bounces+a1@mta.idt.example"}, queue_id="QNOTTHERE")
    check("identity: no record under the queue id: refused, and no minimal record is made",
          missing.startswith("refused: ") and not redis.command("EXISTS", "tm:{idt}:msg:QNOTTHERE"), missing)
    tool.outcome("QMINIMAL", "r@example.org", "bounced", "550", "id-min0", "bounce", tenant="idt")
    minimal = outcome("id-min", {"sender": "bounces+a1@mta.idt.example"}, queue_id="QMINIMAL")
    check("identity: a minimal record (made by an unchecked outcome) is no message's identity: refused",
          minimal.startswith("refused: "), minimal)

    tool.store(record("QNULL", tenant="idt", recipients=("n@example.org",), mail_from="", bounce_address=""))
    null = tool.outcome("QNULL", "n@example.org", "delivered", "250 ok", "id-null", "delivery", tenant="idt",
                        identity={"sender": ""})
    check("identity: a null-sender record matches qmgr's from=<>", null == "recorded", null)


def test_queue_id_pointer(tool: Tool, redis: ms.RedisServer):
    """Only the record writer points tm:qid:{QID} at a tenant."""
    qid = "4A5B6C7D8E"
    tool.store(record(qid, tenant="ptra", recipients=("a@example.org",)))
    tool.store(record(qid, tenant="ptrb", recipients=("b@example.org",)))  # the id reused by another tenant
    late = tool.outcome(qid, "a@example.org", "bounced", "550 5.1.1 gone", "ptr-late", "bounce", tenant="ptra")
    check("a late outcome of the earlier tenant's message is recorded in that tenant's record",
          late == "recorded" and rcpt_states(redis, "ptra", qid)["a@example.org"]["status"] == "bounced", late)
    check("... and does not point the queue id back at that tenant",
          redis.command("GET", f"tm:qid:{{{qid}}}") == "ptrb", redis.command("GET", f"tm:qid:{{{qid}}}"))
    redis.command("EXPIRE", f"tm:qid:{{{qid}}}", 100)
    tool.outcome(qid, "b@example.org", "delivered", "250 ok", "ptr-b", "delivery", tenant="ptrb")
    ttl = redis.command("TTL", f"tm:qid:{{{qid}}}")
    check("an outcome of the tenant it names keeps the queue id alive as long as the record",
          ttl > 7 * 86400 - 60, ttl)


def test_same_tenant_reuse(tool: Tool, redis: ms.RedisServer):
    """The record writer replaces a record of another message under the same key."""
    qid = "5C6D7E8F9A"
    first = record(qid, tenant="reuse", time_=NOW - 600, recipients=("old@example.org", "both@example.org"),
                   bounce_address="bounces+r1@mta.reuse.example", message_id="<r1@reuse.example>")
    tool.store(first)
    tool.outcome(qid, "both@example.org", "bounced", "550 5.1.1 gone", "reuse-1", "bounce", tenant="reuse")
    tool.store(first)  # the writer retrying the same batch
    check("store: writing the same record again keeps what outcomes recorded",
          rcpt_states(redis, "reuse", qid).get("both@example.org", {}).get("status") == "bounced",
          rcpt_states(redis, "reuse", qid))
    tool.store(record(qid, tenant="reuse", time_=NOW - 60, recipients=("both@example.org",),
                      bounce_address="bounces+r2@mta.reuse.example", message_id="<r2@reuse.example>",
                      subject="Second"))
    states = rcpt_states(redis, "reuse", qid)
    check("store: a new message of the same tenant under a reused queue id starts afresh (no recipient, "
          "status or seen event id of the earlier one)",
          list(states) == ["both@example.org"] and states["both@example.org"]["status"] == "queued"
          and not seen_ids(redis, "reuse", qid)
          and hash_of(redis, f"tm:{{reuse}}:msg:{qid}").get("bounce_address") == "bounces+r2@mta.reuse.example",
          (states, seen_ids(redis, "reuse", qid)))
    again = tool.outcome(qid, "both@example.org", "bounced", "550 5.1.1 gone", "reuse-2", "bounce", tenant="reuse")
    check("... so the same recipient bouncing again is a new bounce, not already_final", again == "recorded", again)


def test_concurrent(tool: Tool, redis: ms.RedisServer):
    tool.store(record("QRACE", recipients=("r@example.org",)))
    results = []

    def one():
        results.append(tool.outcome("QRACE", "r@example.org", "delivered", "250 ok", "ev-race",
                                    "delivery"))
    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    race_events = [e for e in events(redis) if e.get("id") == "ev-race"]
    check("8 processes recording the same fact at once: exactly one recorded, 7 duplicates, "
          "one event", sorted(results) == ["duplicate"] * 7 + ["recorded"] and len(race_events) == 1,
          (results, len(race_events)))


# ---------------------------------------------------------------------------
# tenantmailctl views

class Ctl:
    def __init__(self, binary: str, config: str):
        self.binary = binary
        self.config = config

    def run(self, *args) -> tuple[int, str, str]:
        proc = subprocess.run([self.binary, *args, "-c", self.config], capture_output=True,
                              timeout=30)
        return proc.returncode, proc.stdout.decode("utf-8", "replace"), \
            proc.stderr.decode("utf-8", "replace")


def write_files(directory: str, redis: ms.RedisServer) -> str:
    keys = {}
    for tenant in ("acme", "beta"):
        keys[tenant] = os.path.join(directory, f"{tenant}.pem")
        old = os.umask(0o077)
        try:
            subprocess.run([ms.OPENSSL, "genpkey", "-algorithm", "RSA", "-pkeyopt",
                            "rsa_keygen_bits:2048", "-out", keys[tenant]],
                           check=True, capture_output=True, timeout=60)
        finally:
            os.umask(old)
    tenants = os.path.join(directory, "tenants.conf")
    with open(tenants, "w") as f:
        for tenant in ("acme", "beta"):
            f.write(f"[{tenant}]\ndomains = {tenant}.example\nselector = s1\nkey = {keys[tenant]}\n"
                    f"bounce_domain = mta.{tenant}.example\n"
                    f"sasl_users = {tenant}-app\n\n")
    secret = os.path.join(directory, "bounce.secret")
    fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(fd, os.urandom(32).hex().encode() + b"\n")
    os.close(fd)
    config = os.path.join(directory, "tenantmail.conf")
    with open(config, "w") as f:
        f.write(f"tenants_file = {tenants}\nbounce_secret_file = {secret}\n"
                f"[redis]\nhost = 127.0.0.1\nport = {redis.port}\ntimeout = 2s\n"
                "[milter]\nrecord_messages = yes\nrecord_ttl = 3d\nrecord_queue_limit = 500\n"
                # a bounce address may not outlive the record it is checked against
                "[bounce]\nmax_token_age = 3d\n")
    return config


def seed_views(tool: Tool, redis: ms.RedisServer):
    """acme: QSENT (delivered), QFAIL (one bounced, one delivered), QDEF (deferred),
    QOLD (10 days old, delivered); beta: QBETA (queued)."""
    for key in redis.command("KEYS", "tm:*") or []:
        redis.command("DEL", key)
    tool.store(record("QSENT", subject="All good", time_=NOW - 300, recipients=("s@example.org",)))
    tool.store(record("QFAIL", subject="Some bad", time_=NOW - 200,
                      recipients=("bad@example.org", "fine@example.org")))
    tool.store(record("QDEF", subject="Waiting", time_=NOW - 100, recipients=("slow@example.org",)))
    tool.store(record("QOLD", subject="Old one", time_=NOW - 10 * 86400, recipients=("o@example.org",),
                      ttl=30 * 86400))
    tool.store(record("QBETA", tenant="beta", subject="Beta news", time_=NOW - 50,
                      recipients=("b@example.org",)))
    tool.outcome("QSENT", "s@example.org", "delivered", "250 2.0.0 Ok", "v1", "delivery")
    tool.outcome("QFAIL", "bad@example.org", "bounced", "550 5.1.1 <bad@example.org>: user unknown",
                 "v2", "bounce")
    tool.outcome("QFAIL", "fine@example.org", "delivered", "250 ok", "v3", "delivery")
    tool.outcome("QDEF", "slow@example.org", "deferred", "451 4.7.1 greylisted", "v4", "soft_bounce")
    tool.outcome("QOLD", "o@example.org", "delivered", "250 ok", "v5", "delivery", ttl=30 * 86400)


def test_messages_view(ctl: Ctl):
    status, out, err = ctl.run("messages")
    lines = out.splitlines()
    ids = [line.split()[2] for line in lines[1:]]
    check("messages: table header, every tenant's messages oldest first",
          status == 0 and lines and lines[0].split()[:4] == ["TIME", "(UTC)", "QUEUE", "ID"]
          and ids == ["QOLD", "QSENT", "QFAIL", "QDEF", "QBETA"], out + err)
    fail_line = next((line for line in lines if "QFAIL" in line), "")
    check("messages: failed row shows tenant, From address, subject, status and the error",
          all(t in fail_line for t in ("acme", "app@acme.example", "Some bad", "failed",
                                       "bad@example.org: 550 5.1.1 <bad@example.org>: user unknown")),
          fail_line)
    status, out, err = ctl.run("messages", "--json")
    doc = json.loads(out) if status == 0 else {}
    by_id = {m["queue_id"]: m for m in doc.get("messages", [])}
    check("messages --json: status per message, error, recipients",
          by_id.get("QSENT", {}).get("status") == "sent"
          and by_id.get("QFAIL", {}).get("status") == "failed"
          and by_id.get("QDEF", {}).get("status") == "deferred"
          and by_id.get("QBETA", {}).get("status") == "queued"
          and by_id.get("QDEF", {}).get("error") == "slow@example.org: 451 4.7.1 greylisted"
          and len(by_id.get("QFAIL", {}).get("recipients", [])) == 2, out + err)

    def ids_for(*args):
        s, o, e = ctl.run("messages", "--json", *args)
        return [m["queue_id"] for m in json.loads(o)["messages"]] if s == 0 else f"exit {s}: {e}"
    check("messages --status sent", ids_for("--status", "sent") == ["QOLD", "QSENT"],
          ids_for("--status", "sent"))
    check("messages --status failed", ids_for("--status", "failed") == ["QFAIL"],
          ids_for("--status", "failed"))
    check("messages --status deferred", ids_for("--status", "deferred") == ["QDEF"],
          ids_for("--status", "deferred"))
    check("messages --since 1d leaves out the 10-day-old message",
          ids_for("--since", "1d") == ["QSENT", "QFAIL", "QDEF", "QBETA"], ids_for("--since", "1d"))
    day = time.strftime("%Y-%m-%d", time.gmtime(NOW - 11 * 86400))
    check("messages --since DATE (UTC)", ids_for("--since", day)[:1] == ["QOLD"], ids_for("--since", day))
    check("messages --tenant beta", ids_for("--tenant", "beta") == ["QBETA"], ids_for("--tenant", "beta"))
    status, out, err = ctl.run("messages", "--tenant", "nosuch")
    check("messages --tenant with an unknown tenant: exit 1, says so",
          status == 1 and "unknown tenant" in err, err)
    status, out, err = ctl.run("messages", "--status", "lost")
    check("messages --status lost: usage error (exit 2)", status == 2, err)


def test_message_view(ctl: Ctl):
    status, out, err = ctl.run("message", "QFAIL")
    check("message QID: record fields and each recipient with its history",
          status == 0 and "queue id:        QFAIL" in out and "tenant:          acme (bulk)" in out
          and "subject:         Some bad" in out and "status:          failed" in out
          and "  bad@example.org  bounced" in out and "550 5.1.1 <bad@example.org>: user unknown" in out
          and out.count("  queued") >= 2, out + err)
    status, out, err = ctl.run("message", "QFAIL", "--json")
    doc = json.loads(out) if status == 0 else {}
    bad = next((r for r in doc.get("recipients", []) if r["recipient"] == "bad@example.org"), {})
    check("message QID --json: history per recipient",
          doc.get("queue_id") == "QFAIL" and doc.get("message_id") == "<qfail@acme.example>"
          and [h["status"] for h in bad.get("history", [])] == ["queued", "bounced"], out + err)
    status, out, err = ctl.run("message", "QNONE")
    check("message with an unknown queue id: exit 1, says there is no record",
          status == 1 and "no record of queue id QNONE" in err, err)


POSTQUEUE_LINES = [
    {"queue_name": "deferred", "queue_id": "QDEF", "arrival_time": NOW - 100, "message_size": 2048,
     "forced_expire": False, "sender": "bounces+xqdef@mta.acme.example",
     "recipients": [{"address": "slow@example.org",
                     "delay_reason": "host mx.example.org[192.0.2.7] said: 451 4.7.1 greylisted"}]},
    {"queue_name": "active", "queue_id": "QBETA", "arrival_time": NOW - 50, "message_size": 900,
     "forced_expire": False, "sender": "bounces+xqbeta@mta.beta.example",
     "recipients": [{"address": "b@example.org"}]},
    {"queue_name": "deferred", "queue_id": "QFOREIGN", "arrival_time": NOW - 20, "message_size": 500,
     "forced_expire": False, "sender": "root@localhost",
     "recipients": [{"address": "admin@example.org", "delay_reason": "connection timed out"}]},
]


def test_outbox_view(ctl: Ctl, directory: str):
    fake = os.path.join(directory, "postqueue-fake")
    data = os.path.join(directory, "postqueue.json")
    with open(data, "w") as f:
        f.write("".join(json.dumps(line) + "\n" for line in POSTQUEUE_LINES))
    with open(fake, "w") as f:
        f.write(f"#!/bin/sh\n# prints what `postqueue -j` printed\nexec cat {data}\n")
    os.chmod(fake, 0o755)
    status, out, err = ctl.run("outbox", "--postqueue", fake)
    lines = out.splitlines()
    rows = {line.split()[2]: line for line in lines[1:]}
    check("outbox: every queued message, tenant and subject from the records, '-' for mail "
          "without a record, the delay reason",
          status == 0 and set(rows) == {"QDEF", "QBETA", "QFOREIGN"}
          and "acme" in rows["QDEF"] and "Waiting" in rows["QDEF"] and "greylisted" in rows["QDEF"]
          and "beta" in rows["QBETA"] and "Beta news" in rows["QBETA"]
          and rows["QFOREIGN"].split()[4] == "-", out + err)
    status, out, err = ctl.run("outbox", "--postqueue", fake, "--tenant", "acme", "--json")
    doc = json.loads(out) if status == 0 else {}
    check("outbox --tenant acme --json: only acme's message",
          [e["queue_id"] for e in doc.get("outbox", [])] == ["QDEF"]
          and doc["outbox"][0]["tenant"] == "acme" and doc["outbox"][0]["subject"] == "Waiting",
          out + err)
    status, out, err = ctl.run("outbox", "--postqueue", fake, "--json")
    doc = json.loads(out) if status == 0 else {}
    foreign = [e for e in doc.get("outbox", []) if e["queue_id"] == "QFOREIGN"]
    check("outbox --json without --tenant: mail without a record has tenant null",
          foreign and foreign[0]["tenant"] is None, out + err)
    status, out, err = ctl.run("outbox", "--postqueue", "/bin/false")
    check("outbox: a failing postqueue command is an error (exit 1) naming it",
          status == 1 and "/bin/false" in err, err)
    real = subprocess.run(["sh", "-c", "command -v postqueue"], capture_output=True)
    if real.returncode == 0:
        info_dir = os.path.join(directory, "no-such-postfix")
        status, out, err = ctl.run("outbox", "--postfix-config", info_dir)
        check("outbox --postfix-config with a missing directory: exit 1 (postqueue failed)",
              status == 1 and "postqueue" in err, err)


# Screen clear, cursor home, a fake all-clear in green, a bell, an 8-bit CSI
# (U+009B) and a right-to-left override: what a hostile sender would put in
# a Subject to hide something from the admin.
HOSTILE = "\x1b[2J\x1b[H\x1b[32mall checks OK\x07 \u009b31m \u202etxt.exe"
HOSTILE_SHOWN = "\\x1b[2J\\x1b[H\\x1b[32mall checks OK\\x07 \\u009b31m \\u202etxt.exe"


def terminal_controls(text: str) -> list[str]:
    """Characters a terminal would act on (tabs and newlines aside)."""
    return sorted({repr(c) for c in text if (ord(c) < 0x20 and c not in "\t\n") or 0x7f <= ord(c) <= 0x9f
                   or 0x202a <= ord(c) <= 0x202e or 0x2066 <= ord(c) <= 0x2069})


def test_terminal_escapes(tool: Tool, redis: ms.RedisServer, ctl: Ctl, directory: str):
    tool.store(record("QESC", subject=HOSTILE, header_from=f"\"\x1b]0;pwned\x07\" <app@acme.example>",
                      recipients=("esc@example.org",)))
    tool.outcome("QESC", "esc@example.org", "bounced", "550 5.1.1 \x1b[1Auser unknown\x07", "vesc", "bounce")
    redis.command("HSET", "tm:{acme}:suppressed", "esc@example.org",
                  json.dumps({"reason": "hard bounce \x1b[2J" + HOSTILE, "time": NOW}))
    for args, what in ((("message", "QESC"), "message QID"), (("messages", "--tenant", "acme"), "messages"),
                       (("suppression", "list", "acme"), "suppression list")):
        status, out, err = ctl.run(*args)
        check(f"{what}: no control characters reach the terminal, they show escaped",
              status == 0 and not terminal_controls(out + err) and "\\x1b[2J" in out,
              f"exit {status}; controls {terminal_controls(out + err)}\n{out!r}")
    status, out, err = ctl.run("message", "QESC")
    check("message QID: the whole Subject, the reply and the From display name escaped",
          HOSTILE_SHOWN in out and "\\x1b[1Auser unknown\\x07" in out and "\\x1b]0;pwned\\x07" in out,
          out)
    status, out, err = ctl.run("message", "QESC", "--json")
    doc = json.loads(out) if status == 0 else {}
    check("message QID --json: the Subject as it is, JSON-escaped", doc.get("subject") == HOSTILE
          and "\\u001b" in out and "\x1b" not in out, out[:400])

    fake = os.path.join(directory, "postqueue-hostile")
    data = os.path.join(directory, "postqueue-hostile.json")
    with open(data, "w") as f:
        f.write(json.dumps({"queue_name": "deferred", "queue_id": "QESC", "arrival_time": NOW - 10,
                            "message_size": 100, "forced_expire": False, "sender": "a\x1b[8m@acme.example",
                            "recipients": [{"address": "esc@example.org",
                                            "delay_reason": "said: 451 \x1b[2J" + HOSTILE}]}) + "\n")
    with open(fake, "w") as f:
        f.write(f"#!/bin/sh\nexec cat {data}\n")
    os.chmod(fake, 0o755)
    status, out, err = ctl.run("outbox", "--postqueue", fake)
    check("outbox: postqueue's sender and delay reason and the record's Subject escaped",
          status == 0 and not terminal_controls(out + err) and "a\\x1b[8m@acme.example" in out
          and "451 \\x1b[2J" in out, f"controls {terminal_controls(out + err)}\n{out!r}")


def test_check_config(ctl: Ctl, directory: str, config: str):
    status, out, err = ctl.run("check-config")
    check("check-config knows record_messages, record_ttl, record_queue_limit in [milter]",
          status == 0, out + err)
    bad = os.path.join(directory, "bad.conf")
    with open(config) as f:
        text = f.read()
    with open(bad, "w") as f:
        f.write(text.replace("record_ttl = 3d", "record_ttl = soon"))
    line = text.splitlines().index("record_ttl = 3d") + 1
    proc = subprocess.run([ctl.binary, "check-config", "-c", bad], capture_output=True, timeout=30)
    err = proc.stderr.decode()
    check("check-config: a bad record_ttl is refused with file:line",
          proc.returncode == 1 and f"{bad}:{line}:" in err, err)

    # What `postconf -h enable_long_queue_ids` answers decides the warning.
    bin_dir = os.path.join(directory, "fake-postfix-bin")
    os.makedirs(bin_dir, exist_ok=True)
    for answer, warned in (("no", True), ("yes", False), ("YES", False)):
        with open(os.path.join(bin_dir, "postconf"), "w") as f:
            f.write(f"#!/bin/sh\n[ \"$*\" = \"-h enable_long_queue_ids\" ] || exit 1\necho {answer}\n")
        os.chmod(os.path.join(bin_dir, "postconf"), 0o755)
        env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))
        proc = subprocess.run([ctl.binary, "check-config", "-c", config], capture_output=True, timeout=30, env=env)
        err = proc.stderr.decode()
        check(f"check-config with enable_long_queue_ids = {answer}: "
              + ("warns, naming the setting" if warned else "no warning"),
              proc.returncode == 0 and ("warning: Postfix has enable_long_queue_ids = no" in err) == warned, err)
    with open(os.path.join(bin_dir, "postconf"), "w") as f:
        f.write("#!/bin/sh\necho 'postconf: fatal: open /etc/postfix/main.cf: No such file' >&2\nexit 1\n")
    proc = subprocess.run([ctl.binary, "check-config", "-c", config], capture_output=True, timeout=30,
                          env=dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", "")))
    check("check-config where postconf cannot answer: no warning, postconf's error not shown",
          proc.returncode == 0 and "enable_long_queue_ids" not in proc.stderr.decode()
          and "fatal" not in proc.stderr.decode(), proc.stderr.decode())


def main() -> int:
    if len(sys.argv) != 3:
        print(f"usage: {sys.argv[0]} MESSAGE_STORE_TOOL TENANTMAILCTL", file=sys.stderr)
        return 2
    tool_bin, ctl_bin = (os.path.abspath(a) for a in sys.argv[1:])

    def body():
        with ms.managed_workdir("tm-message-store-") as directory:
            with ms.RedisServer(directory) as redis:
                tool = Tool(tool_bin, redis)
                config = write_files(directory, redis)
                ctl = Ctl(ctl_bin, config)
                for test in (lambda: test_store(tool, redis),
                             lambda: test_outcomes(tool, redis),
                             lambda: test_identity(tool, redis),
                             lambda: test_queue_id_pointer(tool, redis),
                             lambda: test_same_tenant_reuse(tool, redis),
                             lambda: test_concurrent(tool, redis),
                             lambda: seed_views(tool, redis),
                             lambda: test_messages_view(ctl),
                             lambda: test_message_view(ctl),
                             lambda: test_outbox_view(ctl, directory),
                             lambda: test_terminal_escapes(tool, redis, ctl, directory),
                             lambda: test_check_config(ctl, directory, config)):
                    with REPORT.case("test ran without an exception"):
                        test()
    return REPORT.run_main(body, failure="setup", cleanup=ms.stop_all)


if __name__ == "__main__":
    sys.exit(main())
