#!/usr/bin/python3
"""tenantmail-bounce against a real redis-server, then behind a real Postfix.

Part 1 pipes reports into the program as Postfix's pipe(8) would (message on
stdin, recipient after "--") and checks, with Redis as the witness:
  * a Postfix-style hard bounce: one bounce event in tm:{T}:events (kind,
    recipient, message id, queue id, details), the recipient's status in the
    message record, a suppression entry; the same report again: no second
    event (deterministic ids), still exit 0;
  * Exchange-style report with three recipients: two bounces, one soft
    bounce; only the hard bounces are suppressed; a delay notice is a
    soft_bounce; delivered recipients record nothing;
  * ARF complaints: sent to the bounce address, and to another address of
    the bounce domain (the token then comes from Original-Mail-From);
  * the tenant is the token's; a report counts only for recipients of the
    record that carries this very bounce address, else it is only logged
    (no record, a reused queue id, another tenant's record); a shared
    platform bounce domain never gives the platform tenant another's report;
    version 1 tokens are attributed only through such a record;
  * caps: max_report_recipients, max_reports_per_token (also for unparsed
    reports; counted in Redis with the token's lifetime, retries pass),
    unparsed_max_bytes; a complaint naming another Message-ID is refused;
  * 1.4 million header lines (9.8 MB): refused before parsing, the child's
    peak RSS measured (getrusage) far below what GMime needed; to a forged
    token: refused without parsing;
  * automatic replies dropped and counted, DSNs with Auto-Submitted kept;
  * forged, altered, expired and foreign-domain tokens: exit 0, one log line
    with the reason, nothing recorded anywhere;
  * unreadable reports: kept in tm:{T}:unparsed (raw, reason, time), capped;
  * Redis stopped, frozen, or answering with an error: exit 75 with the
    reason on stderr; once Redis is back the same input records the result,
    exactly once;
  * a report over message_size_limit is read from its beginning;
  * --check-config; a command line without recipient exits 75;
  * mailto: unsubscribes (unsubscribe+TOKEN@bounce domain, tokens made by
    tracking_token_tool): the token's recipient suppressed (reason
    unsubscribe) with one unsubscribe event, once however often it comes;
    a from_rewrite tenant's at the platform's bounce domain; forged,
    altered, wrong-kind, recipient-less, other tenant's, unknown tenant's,
    malformed and overlong tokens: exit 0, one log line, nothing written.
Part 2 runs a private Postfix whose master.cf has the pipe transport and
whose main.cf routes the bounce domain to it (as conf/postfix-*.cf say):
  * a message relayed with MAIL FROM bounces+TOKEN@bounce-domain is refused
    by the remote side (550 5.1.1); Postfix's own DSN goes back to the bounce
    address, through the pipe, and becomes a bounce event;
  * a feedback report sent by SMTP to the bounce address becomes a complaint;
  * with Redis stopped, Postfix defers the report (our message in its log)
    and delivers it once Redis is back;
  * a message by SMTP to unsubscribe+TOKEN@bounce-domain reaches the pipe
    (the whole bounce domain is routed there, any local part) and suppresses
    the token's recipient.
Prints "bounce: N passed, M failed"; exits non-zero on any failure.

Run: /usr/bin/python3 tests/integration/bounce_test.py PATH/TO/tenantmail-bounce [PATH/TO/tenantmailctl
     [PATH/TO/tracking_token_tool]]
(with tenantmailctl: its check-config refuses max_token_age > record_ttl;
with tracking_token_tool: the unsubscribe cases)
(TM_KEEP_TMP=1 keeps the temp dir.)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import mailstack as ms  # noqa: E402
from checks import Report  # noqa: E402
import tenantmail_procs as tp  # noqa: E402
from bounce_reports import arf, bounce_address, dsn  # noqa: E402

NAME = "bounce"
EX_TEMPFAIL = 75
ACME_DOMAIN = "mta.acme.example"
BETA_DOMAIN = "bounces.beta.example"
# The platform tenant's bounce domain, shared by from_rewrite tenants that
# have none of their own (gamma).
PLATFORM_DOMAIN = "bounces.platform.example"
DOMAIN_TENANT = {ACME_DOMAIN: "acme", BETA_DOMAIN: "beta", PLATFORM_DOMAIN: "platform"}
PIPE_USER = tp.PIPE_USER


REPORT = Report(NAME)
check = REPORT.check


PLAIN_BOUNCE = b"""From: MAILER-DAEMON@old.example
Subject: failure notice

Hi. This is the qmail-send program at old.example.
I'm afraid I wasn't able to deliver your message to the following addresses.

<gone@old.example>:
Sorry, no mailbox here by that name. (#5.1.1)
"""


# ---------------------------------------------------------------------------
# Running the program and reading Redis

class Env:
    def __init__(self, binary: str, directory: str, redis: ms.RedisServer):
        self.binary = binary
        self.ctl: str | None = None  # tenantmailctl, when given
        self.token_tool: str | None = None  # tracking_token_tool, when given
        self.directory = directory
        self.redis = redis
        self.files = tp.TenantFiles(directory)
        self.files.bounce_secret()
        with open(self.files.secret_path, "rb") as f:
            self.secret = f.read().strip()
        self.tracking_secret = tp._write_private(os.path.join(self.files.dir, "tracking.secret"),
                                                 os.urandom(32).hex() + "\n")
        self.tenants = self.files.write_tenants({
            "acme": {"domains": "acme.example", "from_rewrite": "acme@platform.example",
                     "bounce_domain": ACME_DOMAIN, "tracking_domain": "click.acme.example"},
            "beta": {"domains": "beta.example", "from_rewrite": "beta@platform.example",
                     "bounce_domain": BETA_DOMAIN},
            "platform": {"domains": "platform.example", "bounce_domain": PLATFORM_DOMAIN, "selector": "s1",
                         "key": self.files.rsa_key("platform")},
            "gamma": {"domains": "gamma.example", "from_rewrite": "gamma@platform.example"},
        })
        self.config = self.write_config("bounce.conf")

    def write_config(self, name: str, redis_timeout: str = "1s", **bounce: str) -> str:
        path = os.path.join(self.files.dir, name)
        options = {"max_token_age": "30d", "unparsed_keep": "5", **bounce}
        with open(path, "w") as f:
            f.write(f"tenants_file = {self.tenants}\nbounce_secret_file = {self.files.secret_path}\n"
                    f"tracking_secret_file = {self.tracking_secret}\n"
                    f"log_level = info\n[redis]\nhost = 127.0.0.1\nport = {self.redis.port}\n"
                    f"timeout = {redis_timeout}\n[bounce]\n"
                    + "".join(f"{k} = {v}\n" for k, v in options.items()))
        return path

    def address(self, queue_id: str, domain: str = ACME_DOMAIN, sent_at: int | None = None,
                tenant: str | None = None) -> str:
        """A current (version 2) bounce address, for the domain's tenant unless told."""
        return bounce_address(self.secret, queue_id, domain, sent_at, tenant or DOMAIN_TENANT[domain])

    def legacy_address(self, queue_id: str, domain: str = ACME_DOMAIN, sent_at: int | None = None) -> str:
        """A version 1 bounce address (no tenant), as made before the upgrade."""
        return bounce_address(self.secret, queue_id, domain, sent_at)

    def store_record(self, tenant: str, queue_id: str, address: str, recipients: list[str],
                     message_id: str = "") -> None:
        """The message record as the milter writes it (message_store.h)."""
        self.redis.command("SET", f"tm:qid:{{{queue_id}}}", tenant)
        self.redis.command("HSET", f"tm:{{{tenant}}}:msg:{queue_id}", "queue_id", queue_id, "tenant", tenant,
                           "mail_from", f"app@{tenant}.example", "bounce_address", address,
                           "message_id", message_id or f"<{queue_id.lower()}@{tenant}.example>",
                           "time", str(int(time.time())))
        for recipient in recipients:
            self.redis.command("HSET", f"tm:{{{tenant}}}:msg:{queue_id}:rcpt", recipient,
                               json.dumps({"status": "queued", "time": int(time.time()), "history": []}))

    def counters(self, tenant: str) -> dict:
        flat = self.redis.command("HGETALL", f"tm:{{{tenant}}}:bounce_counters") or []
        return {k: int(v) for k, v in zip(flat[::2], flat[1::2])}

    def run(self, recipient: str | list[str] | None, message: bytes, config: str | None = None,
            foreground: bool = True, timeout: float = 60.0) -> tuple[int, str]:
        argv = [self.binary, "-c", config or self.config]
        if foreground:
            argv.append("-f")
        if recipient is not None:
            argv += ["--", *([recipient] if isinstance(recipient, str) else recipient)]
        proc = subprocess.run(argv, input=message, capture_output=True, timeout=timeout, env=ms._clean_env())
        return proc.returncode, (proc.stdout + proc.stderr).decode("utf-8", "replace")

    # -- Redis ----------------------------------------------------------------

    def events(self, tenant: str) -> list[dict]:
        entries = self.redis.command("XRANGE", f"tm:{{{tenant}}}:events", "-", "+") or []
        out = []
        for _id, fields in entries:
            pairs = dict(zip(fields[::2], fields[1::2]))
            out.append(json.loads(pairs["event"]))
        return out

    def suppressed(self, tenant: str) -> dict:
        flat = self.redis.command("HGETALL", f"tm:{{{tenant}}}:suppressed") or []
        return {k: json.loads(v) for k, v in zip(flat[::2], flat[1::2])}

    def unparsed(self, tenant: str) -> list[dict]:
        entries = self.redis.command("XRANGE", f"tm:{{{tenant}}}:unparsed", "-", "+") or []
        return [dict(zip(fields[::2], fields[1::2])) for _id, fields in entries]

    def recipient_state(self, tenant: str, queue_id: str, recipient: str) -> dict | None:
        value = self.redis.command("HGET", f"tm:{{{tenant}}}:msg:{queue_id}:rcpt", recipient)
        return json.loads(value) if value else None

    def snapshot(self, but_tokens: bool = False) -> tuple:
        """Everything the program could write, for "nothing recorded" checks
        (but_tokens: without the per-token report counts)."""
        keys = sorted(k for k in self.redis.command("KEYS", "tm:*") or []
                      if not (but_tokens and ":token:" in k))
        sizes = []
        for key in keys:
            kind = self.redis.command("TYPE", key)
            size = {"stream": "XLEN", "hash": "HLEN", "set": "SCARD", "zset": "ZCARD"}.get(kind)
            sizes.append((key, self.redis.command(size, key) if size else self.redis.command("GET", key)))
        return tuple(sizes)


def events_for(events: list[dict], recipient: str) -> list[dict]:
    return [e for e in events if e.get("recipient") == recipient]


# ---------------------------------------------------------------------------
# Part 1: the program on its own

def test_hard_bounce_and_redelivery(env: Env) -> None:
    # The message record the milter would have stored lists the recipient.
    address = env.address("QIDA1")
    env.store_record("acme", "QIDA1", address, ["gone@example.org"], "<app-1@acme.example>")
    report = dsn(address, [("Gone@Example.org", "failed", "5.1.1",
                            "550 5.1.1 <gone@example.org>: Recipient address | rejected: User unknown")],
                 "dsn-1@mx1.example.net", "app-1@acme.example", "gone@example.org")
    status, log = env.run(address, report)
    check("hard bounce: exit 0", status == 0, log)
    events = env.events("acme")
    check("hard bounce: one event in tm:{acme}:events", len(events) == 1, events)
    if events:
        e = events[0]
        check("hard bounce: kind, recipient, queue id, message id",
              (e["kind"], e["recipient"], e["queue_id"], e["message_id"], e["tenant"]) ==
              ("bounce", "gone@example.org", "QIDA1", "<app-1@acme.example>", "acme"), e)
        d = e.get("details", {})
        check("hard bounce: details status, diagnostic (unfolded), remote MTA, action, source",
              d.get("status") == "5.1.1" and d.get("action") == "failed" and d.get("source") == "dsn"
              and d.get("remote_mta") == "mx.example.org"
              and d.get("diagnostic") == "smtp; 550 5.1.1 <gone@example.org>: Recipient address "
                                         "rejected: User unknown", d)
        check("hard bounce: event id is 32 hex digits",
              len(e["id"]) == 32 and all(c in "0123456789abcdef" for c in e["id"]), e["id"])
    state = env.recipient_state("acme", "QIDA1", "gone@example.org")
    check("hard bounce: recipient status bounced in the message record",
          state is not None and state.get("status") == "bounced", state)
    supp = env.suppressed("acme").get("gone@example.org")
    check("hard bounce: recipient suppressed with reason and time",
          supp is not None and supp["reason"].startswith("bounce 5.1.1 smtp; 550 5.1.1")
          and abs(supp["time"] - time.time()) < 120, supp)
    check("hard bounce: log line names tenant, queue id, recipient, outcome",
          "tenant=acme queue_id=QIDA1" in log and "recipient=<gone@example.org> bounce 5.1.1: recorded" in log,
          log)

    status, log = env.run(address, report)
    check("redelivered report: exit 0", status == 0, log)
    check("redelivered report: no second event", len(env.events("acme")) == 1, env.events("acme"))
    check("redelivered report: logged as already recorded", "already recorded" in log, log)


def test_multi_recipient_and_delays(env: Env) -> None:
    # The tenant comes from the token (beta's).
    address = env.address("QIDB2", BETA_DOMAIN)
    env.store_record("beta", "QIDB2", address, ["alice@contoso.example", "bob@contoso.example",
                                                "carol@contoso.example", "dave@contoso.example"])
    report = dsn(address, [
        ("alice@contoso.example", "failed", "5.1.10",
         "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient | alice@contoso.example not found"),
        ("bob@contoso.example", "failed", "5.2.2", "554 5.2.2 mailbox full"),
        ("carol@contoso.example", "delayed", "4.4.7", "451 4.4.7 Message delayed"),
        ("dave@contoso.example", "delivered", "2.0.0", ""),
    ], "exchange-ndr-1@outlook.example", "news-2@beta.example", status_encoding="base64")
    status, log = env.run(address, report)
    check("multi-recipient (base64 status part): exit 0", status == 0, log)
    events = env.events("beta")
    kinds = sorted((e["recipient"], e["kind"]) for e in events)
    check("multi-recipient: two bounces and one soft bounce in beta's stream, by the token's tenant",
          kinds == [("alice@contoso.example", "bounce"), ("bob@contoso.example", "bounce"),
                    ("carol@contoso.example", "soft_bounce")], kinds)
    check("multi-recipient: folded Diagnostic-Code unfolded",
          any(e["details"].get("diagnostic") == "smtp; 550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient "
              "alice@contoso.example not found" for e in events), [e["details"] for e in events])
    supp = env.suppressed("beta")
    check("multi-recipient: hard bounces suppressed, the delayed and delivered ones not",
          sorted(supp) == ["alice@contoso.example", "bob@contoso.example"], sorted(supp))
    check("multi-recipient: delivered recipient only logged", "dave@contoso.example delivered" in log, log)
    state = env.recipient_state("beta", "QIDB2", "carol@contoso.example")
    check("delayed recipient: status deferred", state is not None and state.get("status") == "deferred", state)

    later = dsn(address, [("carol@contoso.example", "delayed", "4.4.7", "451 4.4.7 still delayed")],
                "exchange-ndr-2@outlook.example", "news-2@beta.example")
    status, log = env.run(address, later)
    check("second delay notice (another report): a second soft_bounce",
          status == 0 and len(events_for(env.events("beta"), "carol@contoso.example")) == 2, log)


def test_known_recipients(env: Env) -> None:
    # The record lists the message's recipients: a report about anyone else
    # (anyone who saw the bounce address could send one) records nothing.
    address = env.address("QIDK1")
    env.store_record("acme", "QIDK1", address, ["real@example.org", "other@example.org"], "<k1@acme.example>")
    report = dsn(address, [("stranger@example.org", "failed", "5.1.1", "550 5.1.1 gone"),
                           ("real@example.org", "failed", "5.1.1", "550 5.1.1 gone")], "known-1@x", "o@x")
    status, log = env.run(address, report)
    check("known recipients: the message's recipient is recorded, a stranger is not",
          status == 0 and len(events_for(env.events("acme"), "real@example.org")) == 1
          and not events_for(env.events("acme"), "stranger@example.org")
          and "stranger@example.org" not in env.suppressed("acme")
          and "<stranger@example.org> is not a recipient of this message" in log, log)
    # No record of the message (expired, records off, dropped by the
    # writer): a valid token alone must not let anyone report anybody.
    # Neither does the minimal record the outcome script makes (no mail_from).
    env.redis.command("SET", "tm:qid:{QIDK2}", "acme")
    env.redis.command("HSET", "tm:{acme}:msg:QIDK2", "queue_id", "QIDK2", "tenant", "acme")
    address = env.address("QIDK2")
    before = env.snapshot(but_tokens=True)
    victims = [(f"victim{i}@example.org", "failed", "5.1.1", "550 5.1.1 gone") for i in range(20)]
    status, log = env.run(address, dsn(address, victims, "k2-1@x", "o@x"))
    check("no record of the message: exit 0, nothing recorded or suppressed, the report logged",
          status == 0 and env.snapshot(but_tokens=True) == before and "no record of this message lists its recipients" in log
          and not any(k.startswith("victim") for k in env.suppressed("acme")), f"{status}\n{log}")


def test_complaints(env: Env) -> None:
    address = env.address("QIDC3")
    env.store_record("acme", "QIDC3", address, ["reader@isp.example"], "<news-3@acme.example>")
    report = arf(address, address, "Reader@ISP.example", "arf-1@arf.isp.example", "news-3@acme.example")
    status, log = env.run(address, report)
    check("complaint to the bounce address: exit 0", status == 0, log)
    events = events_for(env.events("acme"), "reader@isp.example")
    check("complaint: one complaint event with the ARF details",
          len(events) == 1 and events[0]["kind"] == "complaint"
          and events[0]["details"].get("feedback_type") == "abuse"
          and events[0]["details"].get("user_agent") == "ISP-Feedback/2.0"
          and events[0]["details"].get("source_ip") == "192.0.2.10"
          and events[0]["message_id"] == "<news-3@acme.example>", events)
    state = env.recipient_state("acme", "QIDC3", "reader@isp.example")
    check("complaint: recipient status complained", state is not None and state.get("status") == "complained",
          state)
    supp = env.suppressed("acme").get("reader@isp.example")
    check("complaint: complainant suppressed",
          supp is not None and supp["reason"] == "complaint (abuse) from ISP-Feedback/2.0", supp)

    # A feedback loop that reports to its own registered address: the token
    # comes from Original-Mail-From; the complainant from the original's To.
    address4 = env.address("QIDC4")
    env.store_record("acme", "QIDC4", address4, ["reader@isp.example", "reader2@isp.example"],
                     "<news-4@acme.example>")
    report = arf(address4, f"fbl@{ACME_DOMAIN}", None, "arf-2@arf.isp.example", "news-4@acme.example")
    status, log = env.run(f"fbl@{ACME_DOMAIN}", report)
    events = events_for(env.events("acme"), "reader@isp.example")
    check("complaint to fbl@bounce-domain: token from Original-Mail-From, recipient from the original's To",
          status == 0 and any(e["queue_id"] == "QIDC4" and e["kind"] == "complaint" for e in events), log)

    before = env.snapshot(but_tokens=True)
    report = arf(address4, address4, "reader2@isp.example", "arf-3@arf.isp.example", "news-4@acme.example",
                 feedback_type="not-spam")
    status, log = env.run(address4, report)
    check("not-spam feedback: exit 0, nothing recorded, logged",
          status == 0 and env.snapshot(but_tokens=True) == before and "feedback type not-spam" in log, log)


def test_refused_tokens(env: Env) -> None:
    good = env.address("QIDF5")
    report = dsn(good, [("victim@example.org", "failed", "5.1.1", "550 5.1.1 no")], "forged@x", "o@x")
    local, _, domain = good.partition("@")
    cases = {
        "forged (another secret)": bounce_address(b"0" * 64, "QIDF5", ACME_DOMAIN),
        "altered (one character of the token)":
            local[:-1] + ("a" if local[-1] != "a" else "b") + "@" + domain,
        "moved to another tenant's bounce domain": local + "@" + BETA_DOMAIN,
        "expired (31 days old)": env.address("QIDF5", sent_at=int(time.time()) - 31 * 86400),
        "dated in the future": env.address("QIDF5", sent_at=int(time.time()) + 86400),
        "no token at all": "postmaster@" + ACME_DOMAIN,
    }
    for what, address in cases.items():
        before = env.snapshot()
        # Without a token in the envelope the report's own Return-Path would
        # be tried: give that one no token either.
        body = report if "@" + ACME_DOMAIN not in address or address.startswith("bounces+") else \
            report.replace(good.encode(), b"jobs@acme.example")
        status, log = env.run(address, body)
        refused = [line for line in log.splitlines() if "refused" in line or "carries no bounce address" in line]
        check(f"{what}: exit 0, nothing recorded, one log line with the reason",
              status == 0 and env.snapshot() == before and len(refused) == 1, f"status {status}\n{log}")
    _status, log = env.run(cases["expired (31 days old)"], report)
    check("expired token: the log says expired", "expired" in log, log)
    _status, log = env.run(cases["forged (another secret)"], report)
    check("forged token: the log says the signature does not match", "signature does not match" in log, log)
    check("the bounce secret is never logged", env.secret.decode() not in log, log)


def test_unparsed(env: Env) -> None:
    address = env.address("QIDU6")
    env.store_record("acme", "QIDU6", address, ["x@example.org"])
    status, log = env.run(address, PLAIN_BOUNCE)
    entries = env.unparsed("acme")
    check("unparseable report: exit 0, kept in tm:{acme}:unparsed with raw, reason and time",
          status == 0 and len(entries) == 1 and entries[0].get("raw", "").startswith("From: MAILER-DAEMON")
          and "no multipart/report" in entries[0].get("reason", "")
          and abs(int(entries[0].get("time", 0)) - time.time()) < 120, f"{entries}\n{log}")
    check("unparseable report: logged", "unparsed: not a delivery status" in log, log)
    garbage = dsn(address, [("x@example.org", "failed", "garbage", "")], "garbage-1@x", "o@x")
    status, log = env.run(address, garbage)
    entries = env.unparsed("acme")
    check("garbage status only: kept as unparsed with the reason",
          status == 0 and len(entries) == 2 and "could be classified" in entries[-1].get("reason", ""),
          f"{entries}\n{log}")
    for i in range(10):
        # Each from another message: one bounce address may send only
        # max_reports_per_token reports.
        env.run(env.address(f"QIDU6{i}"), PLAIN_BOUNCE + f"\n{i}\n".encode())
    length = env.redis.command("XLEN", "tm:{acme}:unparsed")
    check("unparsed stream is capped at unparsed_keep (5)", length == 5, length)
    events_before = len(env.events("acme"))
    status, log = env.run(address, os.urandom(50000))
    check("binary junk: exit 0, unparsed, no event",
          status == 0 and len(env.events("acme")) == events_before and "unparsed" in log, log)
    status, log = env.run(address, b"")
    check("empty input: exit 0, unparsed (empty message)", status == 0 and "empty message" in log, log)


def test_size_limit(env: Env) -> None:
    small = env.write_config("small.conf", message_size_limit="4096")
    address = env.address("QIDS7")
    env.store_record("acme", "QIDS7", address, ["big@example.org"])
    report = dsn(address, [("big@example.org", "failed", "5.3.4", "552 5.3.4 message too big")],
                 "big-1@x", "o@x")
    report = report.replace(b"Subject: Your application\n",
                            b"Subject: Your application\n" + (b"X-More: " + b"q" * 70 + b"\n") * 20000)
    status, log = env.run(address, report, config=small)
    check("report over message_size_limit: status part at its start still recorded",
          status == 0 and len(events_for(env.events("acme"), "big@example.org")) == 1, log)
    check("report over message_size_limit: the cut is logged", "read the first 4096" in log, log)


def test_redis_failures(env: Env) -> None:
    address = env.address("QIDR8")
    recipients = ["later@example.org", "outage@example.org", "frozen@example.org"]
    env.store_record("acme", "QIDR8", address, recipients)
    report = dsn(address, [("later@example.org", "failed", "5.1.1", "550 5.1.1 gone")], "redis-1@x", "o@x")

    # An error reply half-way: the event is written, the suppression fails.
    env.redis.command("SET", "tm:{acme}:suppressed", "not a hash")
    status, log = env.run(address, report, foreground=False)
    check("Redis error reply: exit 75, the error on stderr",
          status == EX_TEMPFAIL and "tenantmail-bounce:" in log and "WRONGTYPE" in log, f"{status}\n{log}")
    env.redis.command("DEL", "tm:{acme}:suppressed")
    status, log = env.run(address, report)
    check("retry after the error: exit 0, one event, suppression added",
          status == 0 and len(events_for(env.events("acme"), "later@example.org")) == 1
          and "later@example.org" in env.suppressed("acme"), log)

    report2 = dsn(address, [("outage@example.org", "failed", "5.1.1", "550 5.1.1 gone")], "redis-2@x", "o@x")
    env.redis.stop()
    try:
        status, log = env.run(address, report2, foreground=False)
        check("Redis stopped: exit 75 with the reason on stderr",
              status == EX_TEMPFAIL and "tenantmail-bounce:" in log and "Redis" in log, f"{status}\n{log}")
    finally:
        env.redis.start()
    env.store_record("acme", "QIDR8", address, recipients)
    status, log = env.run(address, report2)
    check("Redis back: the same input records the event",
          status == 0 and len(events_for(env.events("acme"), "outage@example.org")) == 1, log)

    report3 = dsn(address, [("frozen@example.org", "failed", "5.1.1", "550 5.1.1 gone")], "redis-3@x", "o@x")
    quick = env.write_config("quick.conf", redis_timeout="300ms")
    os.kill(env.redis.proc.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        status, log = env.run(address, report3, config=quick, foreground=False, timeout=30)
        elapsed = time.monotonic() - started
        check("Redis frozen: exit 75 within the Redis timeout (plus start-up)",
              status == EX_TEMPFAIL and elapsed < 10, f"status {status} after {elapsed:.1f}s\n{log}")
    finally:
        os.kill(env.redis.proc.pid, signal.SIGCONT)
    status, log = env.run(address, report3)
    check("Redis thawed: recorded once",
          status == 0 and len(events_for(env.events("acme"), "frozen@example.org")) == 1, log)


def test_command_line(env: Env) -> None:
    proc = subprocess.run([env.binary, "-c", env.config, "--check-config"], capture_output=True, timeout=30,
                          env=ms._clean_env())
    check("--check-config: exit 0 and a summary", proc.returncode == 0 and b"configuration OK: 4 tenants" in
          proc.stdout, proc.stdout + proc.stderr)
    status, log = env.run(None, b"")
    check("no recipient: exit 75 and a hint", status == EX_TEMPFAIL and "${original_recipient}" in log, log)
    # Postfix passes several recipients when one report went to several
    # bounce addresses of the domain: each is handled on its own.
    first, second = env.address("QIDM1"), env.address("QIDM2")
    env.store_record("acme", "QIDM1", first, ["multi@example.org"])
    env.store_record("acme", "QIDM2", second, ["multi@example.org"])
    report = dsn(first, [("multi@example.org", "failed", "5.1.1", "550 5.1.1 gone")], "multi-1@x", "o@x")
    status, log = env.run([first, second, "bounces+forged@" + ACME_DOMAIN], report)
    queue_ids = sorted(e["queue_id"] for e in events_for(env.events("acme"), "multi@example.org"))
    check("several recipients in one run: each token's message gets its event, the forged one none",
          status == 0 and queue_ids == ["QIDM1", "QIDM2"] and "refused" in log, f"{queue_ids}\n{log}")
    if env.ctl:
        # The report needs the message's record: a token that outlives it
        # could only be logged, so check-config refuses that configuration.
        for age, refused in (("30d", True), ("7d", False)):
            path = os.path.join(env.files.dir, f"ages-{age}.conf")
            with open(path, "w") as f:
                f.write(f"tenants_file = {env.tenants}\nbounce_secret_file = {env.files.secret_path}\n"
                        f"[milter]\nrecord_ttl = 7d\n[bounce]\nmax_token_age = {age}\n")
            proc = subprocess.run([env.ctl, "check-config", "-c", path], capture_output=True, timeout=60,
                                  env=ms._clean_env())
            said = b"longer than milter.record_ttl" in proc.stderr
            check(f"tenantmailctl check-config, max_token_age {age} with record_ttl 7d: "
                  + ("refused (exit 1, says why)" if refused else "not refused for it"),
                  (proc.returncode == 1 and said) if refused else not said, proc.stdout + proc.stderr)
    broken = env.write_config("broken.conf", unparsed_keep="-3")
    status, log = env.run(env.address("QIDX9"), PLAIN_BOUNCE, config=broken)
    check("broken config: exit 75 (Postfix keeps the report) with file:line",
          status == EX_TEMPFAIL and "broken.conf:" in log, log)


def test_attribution(env: Env) -> None:
    # gamma sends with from_rewrite and has no bounce domain of its own: its
    # bounce addresses are on the platform tenant's domain.
    address = env.address("QIDG1", PLATFORM_DOMAIN, tenant="gamma")
    env.store_record("gamma", "QIDG1", address, ["g1@example.org"])
    status, log = env.run(address, dsn(address, [("g1@example.org", "failed", "5.1.1", "550 5.1.1 gone")],
                                       "g1-1@x", "o@x"))
    check("shared bounce domain: the report is gamma's (the token's tenant), the platform gets nothing",
          status == 0 and len(events_for(env.events("gamma"), "g1@example.org")) == 1
          and not env.events("platform") and "g1@example.org" in env.suppressed("gamma")
          and not env.suppressed("platform"), log)

    # Once gamma's record is gone, the report is only logged: never the
    # domain owner's (that was the platform tenant).
    address = env.address("QIDG2", PLATFORM_DOMAIN, tenant="gamma")
    before = env.snapshot(but_tokens=True)
    status, log = env.run(address, dsn(address, [("g2@example.org", "failed", "5.1.1", "550 5.1.1 gone")],
                                       "g2-1@x", "o@x"))
    check("shared bounce domain, record expired: nothing recorded for anyone, logged as gamma's",
          status == 0 and env.snapshot(but_tokens=True) == before and "tenant=gamma queue_id=QIDG2" in log
          and "not recorded" in log, log)

    # Version 1 tokens (before the upgrade) carry no tenant: only the record
    # that names this very bounce address attributes them.
    legacy = env.legacy_address("QIDG3", PLATFORM_DOMAIN)
    before = env.snapshot()
    status, log = env.run(legacy, dsn(legacy, [("g3@example.org", "failed", "5.1.1", "550 5.1.1 gone")],
                                      "g3-1@x", "o@x"))
    check("version 1 token without a record: dropped, not the bounce domain owner's",
          status == 0 and env.snapshot() == before and "version 1 bounce address" in log
          and not env.events("platform"), log)
    legacy = env.legacy_address("QIDG4", PLATFORM_DOMAIN)
    env.store_record("gamma", "QIDG4", legacy, ["g4@example.org"])
    status, log = env.run(legacy, dsn(legacy, [("g4@example.org", "failed", "5.1.1", "550 5.1.1 gone")],
                                      "g4-1@x", "o@x"))
    check("version 1 token with its message's record: attributed by the record (gamma)",
          status == 0 and len(events_for(env.events("gamma"), "g4@example.org")) == 1
          and not env.events("platform"), log)

    # A reused queue id: the record is of an older message with another
    # bounce address; it must not lend its recipients to this token.
    old = env.address("QIDQ1", sent_at=int(time.time()) - 3600)
    env.store_record("acme", "QIDQ1", old, ["old-rcpt@example.org"])
    new = env.address("QIDQ1")
    before = env.snapshot(but_tokens=True)
    status, log = env.run(new, dsn(new, [("old-rcpt@example.org", "failed", "5.1.1", "550 5.1.1 gone")],
                                   "q1-1@x", "o@x"))
    check("reused queue id: the other message's record lends no recipients, nothing recorded",
          status == 0 and env.snapshot(but_tokens=True) == before and "no record of this message" in log, log)

    # The queue id's record belongs to another tenant: the token decides.
    beta_address = env.address("QIDQ2", BETA_DOMAIN)
    env.store_record("beta", "QIDQ2", beta_address, ["shared@example.org"])
    acme_address = env.address("QIDQ2")
    before = env.snapshot(but_tokens=True)
    status, log = env.run(acme_address, dsn(acme_address, [("shared@example.org", "failed", "5.1.1", "550 gone")],
                                            "q2-1@x", "o@x"))
    check("queue id recorded for another tenant: that tenant's record and stream untouched",
          status == 0 and env.snapshot(but_tokens=True) == before and "tenant=acme queue_id=QIDQ2" in log, log)


def test_forged_report_caps(env: Env) -> None:
    caps = env.write_config("caps.conf", max_report_recipients="2", max_reports_per_token="3",
                            unparsed_max_bytes="1000")
    sent_at = int(time.time())
    address = env.address("QIDX1", sent_at=sent_at)
    recipients = ["r1@example.org", "r2@example.org", "r3@example.org"]
    env.store_record("acme", "QIDX1", address, recipients)
    report = dsn(address, [(r, "failed", "5.1.1", "550 5.1.1 gone") for r in recipients], "x1-1@x", "o@x")
    status, log = env.run(address, report, config=caps)
    recorded = sorted(r for r in recipients if events_for(env.events("acme"), r))
    check("max_report_recipients 2: two recipients recorded, the third logged",
          status == 0 and recorded == ["r1@example.org", "r2@example.org"]
          and "r3@example.org" not in env.suppressed("acme") and "past max_report_recipients" in log,
          f"{recorded}\n{log}")

    for i in range(2, 6):
        status, log = env.run(address, dsn(address, [("r3@example.org", "delayed", "4.4.7", "451 later")],
                                           f"x1-{i}@x", "o@x"), config=caps)
    delays = events_for(env.events("acme"), "r3@example.org")
    check("max_reports_per_token 3: reports 4 and 5 of one bounce address are dropped and counted",
          len(delays) == 2 and env.counters("acme").get("over_token_cap") == 2
          and "max_reports_per_token" in log, f"{len(delays)} delays, {env.counters('acme')}\n{log}")
    status, log = env.run(address, report, config=caps)
    check("the first report again (Postfix's retry) is still admitted: already recorded",
          status == 0 and "already recorded" in log and env.counters("acme").get("over_token_cap") == 2, log)
    key = f"tm:{{acme}}:token:QIDX1:{(sent_at - 1704067200) // 60 * 60 + 1704067200}:reports"
    ttl = env.redis.command("TTL", key)
    check("the per-token count lives in Redis as long as the token (30d here), no longer",
          env.redis.command("SCARD", key) == 3 and 29 * 86400 < ttl <= 30 * 86400 + 600, f"{key} ttl {ttl}")

    unparsed_address = env.address("QIDX2", BETA_DOMAIN)
    for i in range(5):
        env.run(unparsed_address, PLAIN_BOUNCE + b"x" * 5000 + f"\n{i}\n".encode(), config=caps)
    entries = env.unparsed("beta")
    check("unparsed reports count against the token too, and keep unparsed_max_bytes of each",
          len(entries) == 3 and all(len(e["raw"]) == 1000 for e in entries)
          and env.counters("beta").get("over_token_cap") == 2,
          f"{len(entries)} entries of {[len(e['raw']) for e in entries]} bytes, {env.counters('beta')}")

    # A complaint about another message than the token's.
    address = env.address("QIDX3")
    env.store_record("acme", "QIDX3", address, ["reader@isp.example"], "<real-3@acme.example>")
    before = env.snapshot(but_tokens=True)
    status, log = env.run(address, arf(address, address, "reader@isp.example", "arf-x3@isp.example",
                                       "other-3@acme.example"))
    check("complaint naming another Message-ID than the record's: nothing recorded, logged",
          status == 0 and env.snapshot(but_tokens=True) == before and "complaint is about Message-ID" in log, log)
    status, log = env.run(address, arf(address, address, "reader@isp.example", "arf-x3b@isp.example",
                                       "real-3@acme.example"))
    check("the same complaint with the record's Message-ID: recorded",
          status == 0 and any(e["queue_id"] == "QIDX3" for e in events_for(env.events("acme"),
                                                                            "reader@isp.example")), log)


MEASURE = ("import json, resource, subprocess, sys\n"
           "with open(sys.argv[1], 'rb') as f:\n"
           "    p = subprocess.run(sys.argv[2:], stdin=f, capture_output=True)\n"
           "print(json.dumps({'status': p.returncode, 'maxrss_kb': resource.getrusage(resource.RUSAGE_CHILDREN)"
           ".ru_maxrss, 'log': (p.stdout + p.stderr).decode('utf-8', 'replace')[-4000:]}))\n")


def run_measured(env: Env, recipient: str, message: bytes) -> tuple[int, int, str]:
    """Exit status, the child's peak RSS in MB, and its log."""
    path = os.path.join(env.directory, "measured.eml")
    with open(path, "wb") as f:
        f.write(message)
    argv = [sys.executable, "-c", MEASURE, path, env.binary, "-c", env.config, "-f", "--", recipient]
    proc = subprocess.run(argv, capture_output=True, timeout=300, env=ms._clean_env())
    result = json.loads(proc.stdout)
    return result["status"], result["maxrss_kb"] // 1024, result["log"]


def test_header_flood(env: Env) -> None:
    # 1.4 million header lines, 9.8 MB: GMime alone needed 0.7 GB for it.
    flood = (f"From: x@example.org\nTo: postmaster@{ACME_DOMAIN}\n".encode() + b"X-A: b\n" * 1_400_000
             + b"\nbody\n")
    _status, baseline, _log = run_measured(env, env.address("QIDH0"), PLAIN_BOUNCE)
    before = env.snapshot()
    status, rss, log = run_measured(env, f"postmaster@{ACME_DOMAIN}", flood)
    print(f"     header flood to postmaster@: peak RSS {rss} MB (a small report: {baseline} MB)")
    check("header flood to another address of the bounce domain: exit 0, refused before parsing, nothing written",
          status == 0 and "refused before parsing" in log and env.snapshot() == before, f"{status}\n{log}")
    check("header flood: peak RSS of the run far below GMime's (under 200 MB)", rss < 200, f"{rss} MB")

    address = env.address("QIDH1")
    status, rss, log = run_measured(env, address, flood)
    entries = env.unparsed("acme")
    check("header flood to a valid bounce address: kept as unparsed (first bytes), exit 0, RSS under 200 MB",
          status == 0 and rss < 200 and "refused before parsing" in entries[-1].get("reason", "")
          and len(entries[-1]["raw"]) <= 65536, f"{status} {rss} MB\n{log}")

    forged = bounce_address(b"1" * 64, "QIDH2", ACME_DOMAIN, tenant="acme")
    before = env.snapshot()
    status, rss, log = run_measured(env, forged, flood)
    check("header flood to a forged bounce address: refused by the token alone, never parsed",
          status == 0 and env.snapshot() == before and "signature does not match" in log
          and "refused before parsing" not in log and rss < 200, f"{status} {rss} MB\n{log}")


OUT_OF_OFFICE = """From: Jane Reader <jane@example.org>
To: {address}
Subject: Out of office: Your application
{marker}

I am away until Monday.
"""


def last_unparsed(env: Env) -> tuple:
    entries = env.redis.command("XREVRANGE", "tm:{acme}:unparsed", "+", "-", "COUNT", "1") or []
    return (entries[0][0], dict(zip(entries[0][1][::2], entries[0][1][1::2]))) if entries else ("", {})


def test_auto_replies(env: Env) -> None:
    before = last_unparsed(env)[0]
    markers = ["Auto-Submitted: auto-replied (vacation)", "X-Autoreply: yes", "X-Autorespond: yes",
               "Precedence: auto_reply"]
    logs = []
    for i, marker in enumerate(markers):
        address = env.address(f"QIDO{i}")
        status, log = env.run(address, OUT_OF_OFFICE.format(address=address, marker=marker).encode())
        logs.append(log)
    check("automatic replies: dropped, not kept in tm:{acme}:unparsed",
          last_unparsed(env)[0] == before, logs)
    check("automatic replies: counted in tm:{acme}:bounce_counters auto_replies, one log line each",
          env.counters("acme").get("auto_replies") == 4 and all("automatic reply" in log for log in logs),
          f"{env.counters('acme')}\n{logs}")

    # Postfix marks its DSNs auto-replied too: they are reports and count.
    address = env.address("QIDO9")
    env.store_record("acme", "QIDO9", address, ["ooo-dsn@example.org"])
    report = dsn(address, [("ooo-dsn@example.org", "failed", "5.1.1", "550 5.1.1 gone")], "o9@x", "o@x")
    report = report.replace(b"Subject: Undelivered", b"Auto-Submitted: auto-replied\nSubject: Undelivered")
    status, log = env.run(address, report)
    check("a DSN with Auto-Submitted: auto-replied is still recorded",
          status == 0 and len(events_for(env.events("acme"), "ooo-dsn@example.org")) == 1, log)
    plain = PLAIN_BOUNCE.replace(b"Subject: failure notice", b"Auto-Submitted: auto-replied\nSubject: failure notice")
    status, log = env.run(env.address("QIDO8"), plain)
    newest_id, newest = last_unparsed(env)
    check("an unreadable bounce from MAILER-DAEMON with Auto-Submitted: still kept as unparsed",
          status == 0 and newest_id != before and "Auto-Submitted: auto-replied" in newest.get("raw", "")
          and "unparsed" in log, log)


def mint(env: Env, kind: str, tenant: str, queue_id: str, recipient: str, secret: str | None = None) -> str:
    """A tracking token as the milter makes it (tracking_token_tool encode)."""
    proc = subprocess.run([env.token_tool, "encode", secret or env.tracking_secret, kind, tenant, queue_id,
                           recipient], capture_output=True, timeout=30, check=True)
    return proc.stdout.decode().strip()


def unsubscribe_address(token: str, domain: str = ACME_DOMAIN) -> str:
    return f"unsubscribe+{token}@{domain}"


def unsubscribe_events(env: Env, tenant: str, recipient: str) -> list[dict]:
    return [e for e in events_for(env.events(tenant), recipient) if e["kind"] == "unsubscribe"]


UNSUBSCRIBE_MAIL = b"From: reader@example.org\nTo: unsubscribe\nSubject: unsubscribe\n\nunsubscribe\n"


def test_unsubscribe(env: Env) -> None:
    if not env.token_tool:
        return
    token = mint(env, "u", "acme", "QIDUS1", "Reader@Example.org")
    local = "unsubscribe+" + token
    print(f"     unsubscribe local part for a 18-octet recipient: {len(local)} octets (RFC 5321 limit: 64)")
    check("an unsubscribe local part is longer than 64 octets (the README says so)", len(local) > 64, len(local))
    status, log = env.run(unsubscribe_address(token), UNSUBSCRIBE_MAIL)
    check("unsubscribe: exit 0", status == 0, log)
    entry = env.suppressed("acme").get("reader@example.org")
    check("unsubscribe: the token's recipient (normalised) suppressed with reason unsubscribe and time",
          entry is not None and entry["reason"] == "unsubscribe" and abs(entry["time"] - time.time()) < 120, entry)
    events = unsubscribe_events(env, "acme", "reader@example.org")
    check("unsubscribe: one unsubscribe event with queue id and via mailto",
          len(events) == 1 and events[0]["queue_id"] == "QIDUS1" and events[0]["tenant"] == "acme"
          and events[0]["details"] == {"via": "mailto"}, events)
    check("unsubscribe: log line names tenant, queue id, recipient",
          "tenant=acme queue_id=QIDUS1 recipient=<reader@example.org> unsubscribe via mailto: suppressed" in log, log)

    status, log = env.run(unsubscribe_address(token), UNSUBSCRIBE_MAIL)
    check("unsubscribe again: exit 0, no second event, logged as already suppressed",
          status == 0 and len(unsubscribe_events(env, "acme", "reader@example.org")) == 1
          and "already suppressed" in log, log)

    # gamma rewrites From and has no bounce domain: its mail carries the platform's.
    shared = mint(env, "u", "gamma", "QIDUS2", "g-reader@example.org")
    status, log = env.run(unsubscribe_address(shared, PLATFORM_DOMAIN), UNSUBSCRIBE_MAIL)
    check("a from_rewrite tenant's unsubscribe at the platform's bounce domain suppresses for that tenant",
          status == 0 and "g-reader@example.org" in env.suppressed("gamma")
          and "g-reader@example.org" not in env.suppressed("platform"), log)

    other_secret = tp._write_private(os.path.join(env.files.dir, "other-tracking.secret"), os.urandom(32).hex())
    cases = {
        "forged (another tracking secret)": unsubscribe_address(mint(env, "u", "acme", "Q", "v1@example.org",
                                                                     other_secret)),
        "altered (one character of the token)":
            unsubscribe_address(token[:20] + ("A" if token[20] != "A" else "B") + token[21:]),
        "case-folded (as a relay that lower-cases local parts would)": unsubscribe_address(token.lower()),
        "a click token": unsubscribe_address(mint(env, "c", "acme", "Q", "v2@example.org")),
        "an open token": unsubscribe_address(mint(env, "o", "acme", "Q", "v3@example.org")),
        "no recipient in the token": unsubscribe_address(mint(env, "u", "acme", "Q", "")),
        "another tenant's token at acme's bounce domain": unsubscribe_address(mint(env, "u", "beta", "Q",
                                                                                   "v4@example.org")),
        "a from_rewrite tenant's token at acme's bounce domain":
            unsubscribe_address(mint(env, "u", "gamma", "Q", "v5@example.org")),
        "a tenant not in the tenants file": unsubscribe_address(mint(env, "u", "zeta", "Q", "v6@example.org")),
        "characters outside base64url": unsubscribe_address(token[:30] + "!" + token[31:]),
        "an overlong token": unsubscribe_address(token * 20),
        "no token": f"unsubscribe+@{ACME_DOMAIN}",
    }
    for what, address in cases.items():
        before = env.snapshot()
        status, log = env.run(address, UNSUBSCRIBE_MAIL)
        refused = [line for line in log.splitlines() if "refused" in line]
        check(f"unsubscribe, {what}: exit 0, nothing written, one log line with the reason",
              status == 0 and env.snapshot() == before and len(refused) == 1, f"status {status}\n{log}")
    _status, log = env.run(cases["a click token"], UNSUBSCRIBE_MAIL)
    check("unsubscribe with a click token: the log names the kind", "/c/ link, not an unsubscribe" in log, log)
    with open(env.tracking_secret) as f:
        check("the tracking secret is never logged", f.read().strip() not in log, log)


# ---------------------------------------------------------------------------
# Part 2: behind a real Postfix

def wait_events(env: Env, tenant: str, recipient: str, n: int = 1, timeout: float = 30.0) -> list[dict]:
    def enough():
        found = events_for(env.events(tenant), recipient)
        return found if len(found) >= n else None
    return ms.wait_until(enough, timeout, f"{n} event(s) for {recipient}", interval=0.1)


def test_postfix(env: Env) -> None:
    # Minted while the secret is still root's: the pipe's user owns it below.
    smtp_token = mint(env, "u", "acme", "QIDP3", "smtp-reader@example.org") if env.token_tool else ""
    tp.readable_by(PIPE_USER, env.files.secret_path, env.tracking_secret)
    pipe_config = env.write_config("pipe.conf", redis_timeout="2s")
    remote = ms.ScriptedSmtpServer(os.path.join(env.directory, "remote"),
                                   rcpt_replies={"gone@remote.example": "550 5.1.1 <gone@remote.example>: no such user"})
    with remote, tp.BouncePostfix(os.path.join(env.directory, "postfix"), remote.port, env.binary,
                                  pipe_config, bounce_domains=[ACME_DOMAIN]) as pf:
        sender = env.address("QIDP1")
        env.store_record("acme", "QIDP1", sender, ["gone@remote.example"], "<loop-1@acme.example>")
        message = (f"From: jobs@acme.example\r\nTo: gone@remote.example\r\nSubject: Hello\r\n"
                   f"Message-ID: <loop-1@acme.example>\r\n\r\nHi\r\n").encode()
        refused = ms.send_smtp(pf.smtp_port, sender, "gone@remote.example", message)
        check("Postfix accepted the outgoing message", refused == {}, refused)
        try:
            events = wait_events(env, "acme", "gone@remote.example")
            e = events[0]
            check("Postfix's own DSN went through the pipe and became a bounce event",
                  e["kind"] == "bounce" and e["queue_id"] == "QIDP1" and e["details"].get("status") == "5.1.1"
                  and e["message_id"] == "<loop-1@acme.example>"
                  and e["details"].get("reporting_mta") == pf.myhostname, e)
            check("Postfix logged the pipe delivery as sent",
                  bool(pf.wait_log(r"status=sent \(delivered via tenantmail-bounce service\)", 10)))
        except ms.MailstackError as exc:
            check("Postfix's own DSN went through the pipe and became a bounce event", False,
                  f"{exc}\n--- postfix.log ---\n{pf.log()[-4000:]}")

        address = env.address("QIDP2")
        p2_recipients = ["fbl-reader@isp.example", "deferred-by-us@example.org"]
        env.store_record("acme", "QIDP2", address, p2_recipients, "<news-9@acme.example>")
        report = arf(address, address, "fbl-reader@isp.example", "arf-smtp-1@isp.example", "news-9@acme.example")
        ms.send_smtp(pf.smtp_port, "", address, report.replace(b"\n", b"\r\n"))
        try:
            events = wait_events(env, "acme", "fbl-reader@isp.example")
            check("feedback report by SMTP to the bounce address: complaint recorded",
                  events[0]["kind"] == "complaint" and events[0]["queue_id"] == "QIDP2", events)
        except ms.MailstackError as exc:
            check("feedback report by SMTP to the bounce address: complaint recorded", False,
                  f"{exc}\n{pf.log()[-4000:]}")

        report = dsn(address, [("deferred-by-us@example.org", "failed", "5.1.1", "550 5.1.1 gone")],
                     "smtp-outage-1@x", "o@x")
        env.redis.stop()
        try:
            ms.send_smtp(pf.smtp_port, "", address, report.replace(b"\n", b"\r\n"))
            lines = pf.wait_log(r"status=deferred.*tenantmail-bounce", 30)
            check("Redis stopped: Postfix defers the report with our reason in its log",
                  any("Redis" in line for line in lines), lines)
        except ms.MailstackError as exc:
            check("Redis stopped: Postfix defers the report with our reason in its log", False,
                  f"{exc}\n{pf.log()[-4000:]}")
        finally:
            env.redis.start()
        env.store_record("acme", "QIDP2", address, p2_recipients, "<news-9@acme.example>")
        pf.flush()
        try:
            wait_events(env, "acme", "deferred-by-us@example.org", timeout=60)
            check("Redis back: Postfix retried and the bounce was recorded", True)
        except ms.MailstackError as exc:
            check("Redis back: Postfix retried and the bounce was recorded", False, f"{exc}\n{pf.log()[-4000:]}")
        if smtp_token:
            refused = ms.send_smtp(pf.smtp_port, "smtp-reader@example.org", unsubscribe_address(smtp_token),
                                   UNSUBSCRIBE_MAIL.replace(b"\n", b"\r\n"))
            check("Postfix accepted mail to unsubscribe+TOKEN@ the bounce domain", refused == {}, refused)
            try:
                ms.wait_until(lambda: unsubscribe_events(env, "acme", "smtp-reader@example.org") or None, 30,
                              "the unsubscribe event", interval=0.1)
                check("by SMTP, through the pipe: recipient suppressed (reason unsubscribe)",
                      env.suppressed("acme").get("smtp-reader@example.org", {}).get("reason") == "unsubscribe")
            except ms.MailstackError as exc:
                check("by SMTP, through the pipe: recipient suppressed (reason unsubscribe)", False,
                      f"{exc}\n{pf.log()[-4000:]}")
        log = pf.log()
        check("no sanitizer report in Postfix's log", "Sanitizer" not in log and "runtime error" not in log,
              log[-3000:])


def main() -> int:
    if len(sys.argv) not in (2, 3, 4):
        print(f"usage: {sys.argv[0]} PATH/TO/tenantmail-bounce [PATH/TO/tenantmailctl [PATH/TO/tracking_token_tool]]",
              file=sys.stderr)
        return 2
    binary = os.path.abspath(sys.argv[1])
    ctl = os.path.abspath(sys.argv[2]) if len(sys.argv) >= 3 else None
    token_tool = os.path.abspath(sys.argv[3]) if len(sys.argv) == 4 else None

    def body():
        with ms.managed_workdir("tm-bounce-") as directory:
            with ms.RedisServer(directory) as redis:
                env = Env(binary, directory, redis)
                env.ctl = ctl
                env.token_tool = token_tool
                for test in (test_hard_bounce_and_redelivery, test_multi_recipient_and_delays,
                             test_known_recipients, test_complaints, test_attribution, test_forged_report_caps,
                             test_refused_tokens, test_unparsed, test_header_flood, test_auto_replies,
                             test_size_limit, test_redis_failures,
                             test_command_line, test_unsubscribe, test_postfix):
                    with REPORT.case(f"{test.__name__} ran without an exception"):
                        test(env)
    return REPORT.run_main(body, failure="setup")


if __name__ == "__main__":
    sys.exit(main())
