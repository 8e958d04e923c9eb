#!/usr/bin/python3
"""Integration test of tenantmail-milter behind a real private Postfix.

Usage: milter_test.py PATH/TO/tenantmail-milter PATH/TO/tenantmailctl

Starts, on 127.0.0.1 in a temp dir: smtp-sink (the remote side), a private
Postfix (plain smtpd + submission with STARTTLS and Cyrus SASL AUTH,
milter_default_action = tempfail) and tenantmail-milter (-f -c CONFIG),
with five tenants:

  acme       acme.example, RSA + Ed25519 keys, SASL acme-bulk
  beta       beta.example, RSA key (the "other tenant" of the cross-tenant check)
  platform   platform.example, RSA key; milter.platform_tenant
  smallshop  someuni.example, NO key, from_rewrite = x@platform.example
  gamma      gamma.example, RSA key, from_rewrite = gamma@platform.example
             (a tenant with a key sending outside its domains)

and checks, verifying every signature with dkimpy (tests/lib/dkim_verify.py),
never with tenantmail's own code (each check's name begins with the name of
its scenario, in brackets here):

   1  [tenant mail] tenant mail is signed rsa-sha256 + ed25519-sha256, d=/s= as configured,
      From unchanged
   2  [bounce address] envelope sender bounces+TOKEN@bounce_domain; `tenantmailctl
      bounce-decode` yields the queue id Postfix logged; a tampered token
      (and the token on another domain) is refused
   3  [cross-tenant From] cross-tenant From and a foreign From: 550 5.7.1, nothing delivered,
      no signature with the other tenant's d=
   4  [mail of no tenant] unauthenticated mail from a non-tenant client passes byte-for-byte;
      mail of no tenant (plain port, or a SASL login in no tenant) with From
      in a tenant's domain, or the envelope sender in a bounce domain:
      550 5.7.1, logged with the tenant's name
   5  [malformed From or Subject] two From fields / two From addresses / no From: 550 5.7.1; a Subject
      line of 1,509 octets: 550 5.6.0
   6  [large and 8-bit bodies] a >=200 KB base64 attachment and an 8-bit UTF-8 body verify
   7  [missing Message-ID] missing Message-ID: the milter adds one, signs it, it verifies
   8  [from_rewrite] from_rewrite (tenant without key; tenant with key outside its domains;
      a display name of an encoded word, an address and a comma: one mailbox)
   9  [reload adding networks] SIGHUP adds networks = 127.0.0.1/32; 20 concurrent smtp-source sessions;
      every message verifies
  10  [refused reload] SIGHUP with a broken tenants file: refused with file:line, old table
      kept (proved by the client network the broken file drops), still signing
  11  [require_tenant] require_tenant = yes (second milter instance): unauthenticated mail
      refused 550 5.7.1, tenant mail still signed
  12  [check-config] --check-config: 0 on the good config; file:line on a broken tenants
      file; a 0644 key file named
  13  [message record] message records in a real redis-server: the check 1 message's record
      (queue id as Postfix logged it, Message-ID, tenant, class, envelope
      sender, bounce address, From/To/Subject, recipient queued, the queue
      id lookup, expiries); a two-recipient message; the Message-ID the
      milter added; Redis stopped: mail still signed and delivered, one log
      line, and the record is stored once Redis is back

Postfix is told local_header_rewrite_clients = (empty): by default it adds
From/Date/Message-ID for 127.0.0.1 clients before the milter sees the
message, which would hide checks 5 and 7 (a real application connects from
another host).

Prints one "ok"/"FAIL" line per check and "milter integration: N passed,
M failed"; exits non-zero on any failure. Everything started is stopped by
PID, also on failure (mailstack's cleanup). TM_KEEP_TMP=1 keeps the temp dir.
Postfix runs as root (as in CI), with Debian's /usr/bin/python3.
"""

from __future__ import annotations

import email
import email.message
import email.policy
import email.utils
import json
import os
import re
import shutil
import smtplib
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import dkim_verify  # noqa: E402
import mailstack as ms  # noqa: E402
from checks import Report  # noqa: E402
import tenantmail_procs as tp  # noqa: E402

PASSWORD = "pw-" + os.urandom(6).hex()
STRANGER = "stranger"   # a SASL login that is in no tenant (check 4)


REPORT = Report("milter integration")
check = REPORT.check


def info(text: str) -> None:
    print(f"     {text}", flush=True)


# ---------------------------------------------------------------------------
# What the sink received, parsed once per file.

class Received:
    def __init__(self, sink: ms.SmtpSink):
        self.sink = sink
        self._cache: dict[str, ms.SinkMessage] = {}

    def all(self) -> list[ms.SinkMessage]:
        out = []
        for path in self.sink.message_paths():
            if path not in self._cache:
                self._cache[path] = ms.parse_sink_file(path)
            out.append(self._cache[path])
        return out

    def to(self, rcpt: str) -> list[ms.SinkMessage]:
        return [m for m in self.all() if rcpt in m.recipients]

    def wait_to(self, rcpt: str, n: int = 1, timeout: float = 20.0) -> list[ms.SinkMessage]:
        def enough():
            got = self.to(rcpt)
            return got if len(got) >= n else None
        return ms.wait_until(enough, timeout, f"{n} message(s) for {rcpt} at the sink",
                             interval=0.05)


def header(msg: ms.SinkMessage, name: str) -> list[str]:
    """Unfolded, stripped values of every header field called name.
    (SinkMessage.header() returns only the first line of a folded field.)"""
    head = msg.data.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    values: list[str] = []
    matching = False
    for line in head.split("\r\n"):
        if line[:1] in (" ", "\t"):
            if matching:
                values[-1] += line
            continue
        field, _, value = line.partition(":")
        matching = field.strip().lower() == name.lower()
        if matching:
            values.append(value)
    return [v.strip() for v in values]


def sig_tags(msg: ms.SinkMessage) -> list[dict[str, str]]:
    return [dkim_verify._tags_of(v.encode()) for v in header(msg, "DKIM-Signature")]


def describe(results) -> str:
    return "; ".join(r.line("msg") for r in results)


def signed_ok(results, domain: str, selectors: dict[str, str]) -> bool:
    """Every signature verifies, one per algorithm in selectors (alg -> s=),
    all with d=domain."""
    if len(results) != len(selectors) or not all(r.ok and r.count for r in results):
        return False
    return sorted((r.algorithm, r.selector, r.domain) for r in results) == \
        sorted((a, s, domain) for a, s in selectors.items())


def queued_as(transcript: str) -> str | None:
    m = re.search(r"250 2\.0\.0 Ok: queued as (\w+)", transcript)
    return m.group(1) if m else None


def refusal_of(fn) -> tuple[int, str]:
    """Run an smtplib send; return (code, text) of a whole-message refusal,
    (250, "") if it was accepted."""
    try:
        fn()
        return 250, ""
    except smtplib.SMTPResponseException as exc:
        err = exc.smtp_error
        return exc.smtp_code, err.decode("utf-8", "replace") if isinstance(err, bytes) else str(err)
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()))
        return code, text.decode("utf-8", "replace")


def raw_message(headers: list[str], body: str | bytes = "hello\r\n") -> bytes:
    head = "".join(h + "\r\n" for h in headers).encode()
    return head + b"\r\n" + (body.encode() if isinstance(body, str) else body)


def std_headers(frm: str, to: str, subject: str, message_id: bool = True) -> list[str]:
    h = [f"From: {frm}", f"To: {to}", f"Subject: {subject}",
         f"Date: {email.utils.formatdate(localtime=False)}"]
    if message_id:
        h.append(f"Message-ID: <{os.urandom(8).hex()}@client.tenantmail.test>")
    return h


# ---------------------------------------------------------------------------

class Env:
    """Everything the checks share."""

    def __init__(self, tmp: str, milter_bin: str, ctl_bin: str):
        self.tmp = tmp
        self.milter_bin = milter_bin
        self.ctl_bin = ctl_bin
        self.files = tp.TenantFiles(tmp)
        f = self.files
        t0 = time.monotonic()
        self.keys = {
            "acme_rsa": f.rsa_key("acme"), "acme_ed": f.ed25519_key("acme"),
            "beta_rsa": f.rsa_key("beta"), "platform_rsa": f.rsa_key("platform"),
            "gamma_rsa": f.rsa_key("gamma"),
        }
        info(f"keys generated in {time.monotonic() - t0:.2f}s")
        f.publish("acme.example", "tm2026", self.keys["acme_rsa"])
        f.publish("acme.example", "tm2026e", self.keys["acme_ed"])
        f.publish("beta.example", "beta1", self.keys["beta_rsa"])
        f.publish("platform.example", "plat1", self.keys["platform_rsa"])
        f.publish("gamma.example", "g1", self.keys["gamma_rsa"])
        f.bounce_secret()
        self.dns = tp.dns_for(f)
        self.tenants = {
            "acme": {"domains": "acme.example", "selector": "tm2026",
                     "key": self.keys["acme_rsa"], "ed25519_selector": "tm2026e",
                     "ed25519_key": self.keys["acme_ed"], "bounce_domain": "mta.acme.example",
                     "sasl_users": "acme-bulk acme-tx:transactional"},
            "beta": {"domains": "beta.example", "selector": "beta1",
                     "key": self.keys["beta_rsa"], "bounce_domain": "bounce.beta.example",
                     "sasl_users": "beta-app"},
            "platform": {"domains": "platform.example", "selector": "plat1",
                         "key": self.keys["platform_rsa"],
                         "bounce_domain": "bounces.platform.example"},
            "smallshop": {"domains": "someuni.example", "sasl_users": "shop-app",
                          "from_rewrite": "x@platform.example"},
            "gamma": {"domains": "gamma.example", "selector": "g1",
                      "key": self.keys["gamma_rsa"], "bounce_domain": "mta.gamma.example",
                      "sasl_users": "gamma-app", "from_rewrite": "gamma@platform.example"},
        }
        f.write_tenants(self.tenants)
        self.milter_port = ms.free_port()
        self.config = f.write_config(self.milter_port, platform_tenant="platform")
        self.acme_sigs = {"rsa-sha256": "tm2026", "ed25519-sha256": "tm2026e"}

    def verify(self, msg: ms.SinkMessage):
        return dkim_verify.verify_message(msg.data, self.dns)

    def ctl_decode(self, address: str) -> tuple[int, str]:
        proc = subprocess.run([self.ctl_bin, "bounce-decode", address, "--secret",
                               self.files.secret_path, "--tenants", self.files.tenants_path],
                              capture_output=True, timeout=30)
        return proc.returncode, (proc.stdout + proc.stderr).decode("utf-8", "replace").strip()


# ---------------------------------------------------------------------------
# 12. --check-config (no daemons needed)

def check_config_checks(env: Env) -> None:
    f = env.files
    status, out = tp.run_check_config(env.milter_bin, env.config)
    check("check-config: --check-config on the good config: exit 0, 'configuration OK'",
          status == 0 and "configuration OK" in out, f"status {status}: {out}")

    garbage_line = "this line is garbage"
    broken = os.path.join(f.dir, "tenants-broken.conf")
    text = f.render_tenants(env.tenants)
    lines = text.splitlines()
    insert_at = lines.index("[beta]") + 2        # inside a section, after a key line
    lines.insert(insert_at, garbage_line)
    with open(broken, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    conf = f.write_config(env.milter_port, name="broken.conf", tenants_file=broken,
                          platform_tenant="platform")
    status, out = tp.run_check_config(env.milter_bin, conf)
    where = f"{broken}:{insert_at + 1}:"
    check("check-config: --check-config on a broken tenants file: non-zero, names file:line",
          status != 0 and where in out, f"status {status}, want {where!r} in: {out}")

    loose = os.path.join(f.dir, "loose.rsa.pem")
    shutil.copyfile(env.keys["acme_rsa"], loose)
    os.chmod(loose, 0o644)
    tenants = {k: dict(v) for k, v in env.tenants.items()}
    tenants["acme"]["key"] = loose
    loose_tenants = f.write_tenants(tenants, path=os.path.join(f.dir, "tenants-loose.conf"))
    conf = f.write_config(env.milter_port, name="loose.conf", tenants_file=loose_tenants,
                          platform_tenant="platform")
    status, out = tp.run_check_config(env.milter_bin, conf)
    check("check-config: --check-config with a 0644 key file: non-zero, names the file",
          status != 0 and loose in out, f"status {status}: {out}")


# ---------------------------------------------------------------------------

def run(env: Env, milter_bin: str) -> None:
    check_config_checks(env)

    with ms.SmtpSink(env.tmp) as sink, ms.RedisServer(env.tmp) as redis:
        env.redis = redis
        with open(env.config, "a") as fh:
            fh.write(redis_section(redis))
        rx = Received(sink)
        milter = tp.Milter(milter_bin, env.config, env.tmp, port=env.milter_port)
        milter.start()
        # Postfix adds From/Date/Message-ID for clients that match
        # local_header_rewrite_clients (default permit_inet_interfaces, which
        # 127.0.0.1 does): empty it, so the milter sees mail as an
        # application on another host would send it (checks 5 and 7).
        pf = ms.PrivatePostfix(env.tmp, sink.port, milter=env.milter_port,
                               extra_main_cf={"local_header_rewrite_clients": ""})
        for login in ("acme-bulk", "beta-app", "shop-app", "gamma-app", STRANGER):
            pf.add_sasl_user(login, PASSWORD)
        t0 = time.monotonic()
        with pf:
            info(f"postfix up in {time.monotonic() - t0:.2f}s (smtp={pf.smtp_port} "
                 f"submission={pf.submission_port} sink={sink.port} milter={env.milter_port} "
                 f"pid {milter.pid})")
            run_with_postfix(env, pf, sink, rx, milter)


def redis_section(redis: ms.RedisServer) -> str:
    """[redis] for a config written by TenantFiles (which ends in [milter]);
    a generous timeout, as the machine may be busy with other tests."""
    return f"\n[redis]\nhost = {ms.LOOPBACK}\nport = {redis.port}\ntimeout = 2s\n"


def redis_hash(redis: ms.RedisServer, key: str) -> dict:
    flat = redis.command("HGETALL", key) or []
    return dict(zip(flat[0::2], flat[1::2]))


def wait_record(redis: ms.RedisServer, tenant: str, qid: str, timeout: float = 10.0) -> dict:
    """The message hash once the milter's writer has stored it ({} if never)."""
    key = f"tm:{{{tenant}}}:msg:{qid}"
    try:
        ms.wait_until(lambda: redis.command("EXISTS", key) == 1, timeout, f"record {key}")
    except ms.MailstackError:
        return {}
    return redis_hash(redis, key)


def recipients_of(redis: ms.RedisServer, tenant: str, qid: str) -> dict:
    return {r: json.loads(v) for r, v in redis_hash(redis, f"tm:{{{tenant}}}:msg:{qid}:rcpt").items()}


def record_checks_first(env: Env, pf: ms.PrivatePostfix, m1: ms.SinkMessage, qid: str | None,
                        from_value: str) -> None:
    """13: the record of check 1's message."""
    redis = env.redis
    log = pf.log()
    logged = re.search(rf"postfix/submission/smtpd\[\d+\]: {qid}: client=", log) if qid else None
    record = wait_record(redis, "acme", qid) if qid else {}
    mids = header(m1, "Message-ID")
    want = {"queue_id": qid, "tenant": "acme", "class": "bulk", "mail_from": "alice@acme.example",
            "bounce_address": m1.sender, "header_from": from_value, "header_to": "<c1@example.org>",
            "subject": "check 1", "message_id": mids[0] if mids else None}
    wrong = {k: (record.get(k), v) for k, v in want.items() if record.get(k) != v}
    # tm:{acme}:msg:QID of the first tenant-mail message
    check("message record: has the Message-ID and the queue id as Postfix logged them, the tenant, "
          "class, envelope sender, bounce address, From, To and Subject",
          logged and record and not wrong, f"logged {bool(logged)}; differing {wrong}; {record}")
    check("message record: record time is now (within 120 s)",
          record and abs(int(record.get("time", 0)) - time.time()) < 120, record.get("time"))
    rcpts = recipients_of(redis, "acme", qid) if qid else {}
    state = rcpts.get("c1@example.org", {})
    check("message record: recipient c1@example.org is queued, with one history step",
          list(rcpts) == ["c1@example.org"] and state.get("status") == "queued"
          and [h.get("status") for h in state.get("history", [])] == ["queued"], rcpts)
    lookup = redis.command("GET", f"tm:qid:{{{qid}}}") if qid else None
    index = redis.command("ZSCORE", "tm:{acme}:messages", qid) if qid else None
    check("message record: tm:qid:{QID} names the tenant; the tenant's index holds QID at the record's time",
          lookup == "acme" and index is not None and int(float(index)) == int(record.get("time", -1)),
          f"lookup {lookup!r}, index score {index!r}")
    ttls = [redis.command("TTL", k) for k in (f"tm:{{acme}}:msg:{qid}", f"tm:{{acme}}:msg:{qid}:rcpt",
                                              f"tm:qid:{{{qid}}}", "tm:{acme}:messages")] if qid else []
    check("message record: every record key expires within record_ttl (7d)",
          ttls and all(7 * 86400 - 300 < t <= 7 * 86400 for t in ttls), ttls)


def record_checks_more(env: Env, pf: ms.PrivatePostfix, rx: "Received", milter: tp.Milter) -> None:
    """13: two recipients, the milter's Message-ID, a Redis outage."""
    redis = env.redis
    msg = raw_message(std_headers("alice@acme.example", "c13a@example.org", "check 13 two",
                                  message_id=False), "two recipients\r\n")
    res = ms.send_with_swaks(pf.submission_port, "alice@acme.example",
                             ["c13a@example.org", "C13b@Example.org"], auth_user="acme-bulk",
                             auth_password=PASSWORD, data=msg)
    qid = queued_as(res.transcript)
    m = rx.wait_to("c13a@example.org")[0]
    record = wait_record(redis, "acme", qid) if qid else {}
    rcpts = recipients_of(redis, "acme", qid) if qid else {}
    check("message record: two recipients in one transaction: both in the record, queued (lower-cased)",
          sorted(rcpts) == ["c13a@example.org", "c13b@example.org"]
          and all(v.get("status") == "queued" for v in rcpts.values()), rcpts)
    check("message record: the Message-ID the milter added is the record's",
          record and header(m, "Message-ID") == [record.get("message_id")],
          f"{header(m, 'Message-ID')} vs {record.get('message_id')!r}")

    redis.stop()
    msg = raw_message(std_headers("alice@acme.example", "c13c@example.org", "check 13 outage"),
                      "while Redis is down\r\n")
    t0 = time.monotonic()
    res = ms.send_with_swaks(pf.submission_port, "alice@acme.example", "c13c@example.org",
                             auth_user="acme-bulk", auth_password=PASSWORD, data=msg)
    elapsed = time.monotonic() - t0
    qid = queued_as(res.transcript)
    m = rx.wait_to("c13c@example.org")[0]
    check("message record: Redis stopped: the message is still accepted at once, signed, and delivered",
          qid and elapsed < 5 and signed_ok(env.verify(m), "acme.example", env.acme_sigs),
          f"{elapsed:.2f}s; {res.transcript[-400:]}")
    try:
        milter.wait_log(r"cannot store message records", timeout=10)
        outage_logged = True
    except ms.MailstackError:
        outage_logged = False
    redis.start()
    record = wait_record(redis, "acme", qid, timeout=15) if qid else {}
    check("message record: the outage is logged once, and the record is stored once Redis is back",
          outage_logged and record.get("subject") == "check 13 outage"
          and len(re.findall(r"cannot store message records", milter.log())) == 1,
          f"logged {outage_logged}; record {record}")
    try:
        milter.wait_log(r"storing message records in Redis at .* again", timeout=5)
        recovered = True
    except ms.MailstackError:
        recovered = False
    check("message record: recovery is logged", recovered, milter.log()[-600:])


def auth_send(pf, login: str, sender: str, rcpt: str, message: bytes):
    return ms.send_smtp(pf.submission_port, sender, rcpt, message, starttls=True,
                        login=(login, PASSWORD))


def run_with_postfix(env: Env, pf: ms.PrivatePostfix, sink: ms.SmtpSink, rx: Received,
                     milter: tp.Milter) -> None:
    # 1. signed tenant mail -------------------------------------------------
    from_value = '"Alice Example" <alice@acme.example>'
    res = ms.send_with_swaks(pf.submission_port, "alice@acme.example", "c1@example.org",
                             auth_user="acme-bulk", auth_password=PASSWORD,
                             headers={"From": from_value, "To": "<c1@example.org>"},
                             subject="check 1", body="Hello from acme.\n")
    qid = queued_as(res.transcript)
    check("tenant mail: AUTH tenant message accepted (STARTTLS + AUTH, 250 queued)", res.ok and qid,
          res.transcript[-800:])
    m1 = rx.wait_to("c1@example.org")[0]
    r1 = env.verify(m1)
    check("tenant mail: two signatures, rsa-sha256 s=tm2026 and ed25519-sha256 s=tm2026e, d=acme.example, "
          "both verify (dkimpy)", signed_ok(r1, "acme.example", env.acme_sigs), describe(r1))
    check("tenant mail: header From unchanged", header(m1, "From") == [from_value], header(m1, "From"))
    tags = sig_tags(m1)
    check("tenant mail: c=relaxed/relaxed, no l=, From over-signed in h=",
          tags and all(t.get("c") == "relaxed/relaxed" and "l" not in t
                       and [h.strip().lower() for h in t.get("h", "").split(":")].count("from") >= 2
                       for t in tags), tags)

    msg1s = raw_message(std_headers("news@letters.acme.example", "c1s@example.org",
                                    "check 1 subdomain"), "from a subdomain\r\n")
    auth_send(pf, "acme-bulk", "news@letters.acme.example", "c1s@example.org", msg1s)
    m1s = rx.wait_to("c1s@example.org")[0]
    r1s = env.verify(m1s)
    check("tenant mail: From in a subdomain (letters.acme.example): signed d=acme.example, verifies",
          signed_ok(r1s, "acme.example", env.acme_sigs), describe(r1s))

    # 2. bounce address -----------------------------------------------------
    m = re.fullmatch(r"bounces\+([a-z2-7]+)@mta\.acme\.example", m1.sender)
    check("bounce address: envelope sender at the sink is bounces+TOKEN@mta.acme.example", m, m1.sender)
    if m and qid:
        status, out = env.ctl_decode(m1.sender)
        dm = re.fullmatch(r"queue_id=(\w+) sent_at=(\d+) tenant=acme", out)
        log = pf.log()
        client_line = re.search(rf"postfix/submission/smtpd\[\d+\]: {qid}: client=.*"
                                rf"sasl_username=acme-bulk", log)
        qmgr_line = re.search(rf"{qid}: from=<{re.escape(m1.sender)}>", log)
        check("bounce address: bounce-decode prints the queue id Postfix logged ('QID: client=... "
              "sasl_username=acme-bulk', 'queued as QID', qmgr from=<bounce>)",
              status == 0 and dm and dm.group(1) == qid and client_line and qmgr_line,
              f"decode exit {status}: {out!r}; swaks queued as {qid}; client line "
              f"{bool(client_line)}; qmgr line {bool(qmgr_line)}")
        check("bounce address: sent_at is now (the token keeps the minute: within 180 s)",
              dm and abs(int(dm.group(2)) - time.time()) < 180, out)
        token = m.group(1)
        i = len(token) // 2
        forged_char = "b" if token[i] != "b" else "c"
        forged = f"bounces+{token[:i]}{forged_char}{token[i + 1:]}@mta.acme.example"
        status_f, out_f = env.ctl_decode(forged)
        check("bounce address: token with one character changed: bounce-decode exit 1",
              status_f == 1 and "queue_id=" not in out_f, f"exit {status_f}: {out_f}")
        status_d, out_d = env.ctl_decode(f"bounces+{token}@bounce.beta.example")
        check("bounce address: same token on another tenant's bounce domain: bounce-decode exit 1",
              status_d == 1, f"exit {status_d}: {out_d}")
    record_checks_first(env, pf, m1, qid, from_value)

    # 3. cross-tenant / foreign From ---------------------------------------
    before = len(rx.all())
    cross = {}
    for rcpt, frm, what in (("c3b@example.org", "bob@beta.example", "tenant B's domain"),
                            ("c3f@example.org", "eve@foreign.example", "a foreign domain")):
        res = ms.send_with_swaks(pf.submission_port, frm, rcpt, auth_user="acme-bulk",
                                 auth_password=PASSWORD, headers={"From": f"<{frm}>"},
                                 subject="check 3", body="not yours\n")
        replies = res.server_replies()
        cross[rcpt] = what
        check(f"cross-tenant From: tenant acme, From in {what}: swaks shows 550 5.7.1",
              not res.ok and any(r.startswith("550 5.7.1") for r in replies)
              and not queued_as(res.transcript), res.transcript[-800:])
    milter.wait_log(r"tenant=acme: refused: 550 5.7.1 .*foreign\.example", timeout=5)
    # one SMTP session: a refused cross-tenant message, then a good one
    cross["c3x@example.org"] = "tenant B's domain (same session as a good message)"
    bad = raw_message(std_headers("bob@beta.example", "c3x@example.org", "check 3 bad"))
    good = raw_message(std_headers("alice@acme.example", "c3s@example.org", "check 3 good"))
    with smtplib.SMTP(ms.LOOPBACK, pf.submission_port, local_hostname="client.tenantmail.test",
                      timeout=30) as smtp:
        smtp.starttls(context=ms._insecure_tls())
        smtp.login("acme-bulk", PASSWORD)
        code, text = refusal_of(lambda: smtp.sendmail("bob@beta.example", "c3x@example.org",
                                                      bad))
        code2, text2 = refusal_of(lambda: smtp.sendmail("alice@acme.example",
                                                        "c3s@example.org", good))
    m3s = rx.wait_to("c3s@example.org")[0] if code2 == 250 else None
    r3s = env.verify(m3s) if m3s else []
    check("cross-tenant From: same SMTP session: cross-tenant message 550 5.7.1, the next one is signed as "
          "acme and verifies", code == 550 and text.startswith("5.7.1") and m3s
          and signed_ok(r3s, "acme.example", env.acme_sigs),
          f"first {code} {text}; second {code2} {text2}; {describe(r3s)}")

    # 4. unauthenticated, no tenant -----------------------------------------
    plain = raw_message(std_headers("Nobody <nobody@nobody.example>", "c4@example.org",
                                    "check 4"), "plain mail, not a tenant's\r\n")
    refused = ms.send_smtp(pf.smtp_port, "nobody@nobody.example", "c4@example.org", plain)
    m4 = rx.wait_to("c4@example.org")[0]
    check("mail of no tenant: plain port, client in no tenant's networks: delivered, no DKIM-Signature",
          refused == {} and not header(m4, "DKIM-Signature"), m4.data[:600])
    check("mail of no tenant: envelope sender unchanged, message bytes unchanged (only Received: prepended)",
          m4.sender == "nobody@nobody.example" and m4.data.endswith(plain)
          and m4.data[:len(m4.data) - len(plain)].startswith(b"Received: "),
          f"sender {m4.sender!r}; data {m4.data[:400]!r}")

    # 4. mail of no tenant using a tenant's identity --------------------------
    foreign = [
        ("c4b@example.org", "CEO <ceo@beta.example>", "nobody@nobody.example", None,
         "plain port, From in tenant beta's domain", r"From in tenant beta's domain beta\.example"),
        ("c4c@example.org", "Nobody <nobody@nobody.example>", "bounces+x@mta.acme.example", None,
         "plain port, envelope sender in tenant acme's bounce domain",
         r"envelope sender in tenant acme's bounce domain mta\.acme\.example"),
        ("c4d@example.org", "Ops <ops@platform.example>", "ops@platform.example", STRANGER,
         "SASL login in no tenant, From and sender in the platform's domain",
         r"login=stranger: no tenant, envelope sender in tenant platform's domain platform\.example"),
    ]
    for rcpt, frm, sender, login, what, logged in foreign:
        msg = raw_message(std_headers(frm, rcpt, "check 4 foreign"), "not a tenant\r\n")
        if login:
            code, text = refusal_of(lambda: auth_send(pf, login, sender, rcpt, msg))
        else:
            code, text = refusal_of(lambda: ms.send_smtp(pf.smtp_port, sender, rcpt, msg))
        try:
            milter.wait_log(logged + ": refused: 550 5.7.1", timeout=5)
            seen = True
        except ms.MailstackError:
            seen = False
        check(f"mail of no tenant: no tenant, {what}: 550 5.7.1, logged", code == 550 and text.startswith("5.7.1")
              and seen, f"{code} {text}; logged {seen}")
        cross[rcpt] = what

    # 5. From field count / address count -----------------------------------
    cases = [
        ("two From header fields",
         ["From: alice@acme.example", "From: carol@acme.example", "To: c5@example.org",
          "Subject: check 5a"]),
        ("From with two addresses",
         ["From: alice@acme.example, carol@acme.example", "To: c5@example.org",
          "Subject: check 5b"]),
        ("no From header field", ["To: c5@example.org", "Subject: check 5c"]),
    ]
    for what, headers in cases:
        msg = raw_message(headers + [f"Message-ID: <{os.urandom(6).hex()}@acme.example>"])
        code, text = refusal_of(lambda: auth_send(pf, "acme-bulk", "alice@acme.example",
                                                  "c5@example.org", msg))
        check(f"malformed From or Subject: {what}: 550 5.7.1", code == 550 and text.startswith("5.7.1"),
              f"{code} {text}")
    # Postfix's SMTP client would split a header line over 998 octets on the
    # way out, and the signature would fail at the receiver.
    msg = raw_message(std_headers("alice@acme.example", "c5@example.org", "x" * 1500))
    code, text = refusal_of(lambda: auth_send(pf, "acme-bulk", "alice@acme.example",
                                              "c5@example.org", msg))
    check("malformed From or Subject: Subject line of 1,509 octets (no whitespace to fold at): 550 5.6.0",
          code == 550 and text.startswith("5.6.0") and "1509 octets" in text, f"{code} {text}")

    # 6. big attachment and 8-bit body -------------------------------------
    big = email.message.EmailMessage()
    big["From"] = "Reports <reports@acme.example>"
    big["To"] = "c6a@example.org"
    big["Subject"] = "check 6: attachment"
    big["Date"] = email.utils.formatdate()
    big["Message-ID"] = email.utils.make_msgid(domain="acme.example")
    big.set_content("See the attachment.\n")
    payload = os.urandom(210 * 1024)
    big.add_attachment(payload, maintype="application", subtype="octet-stream",
                       filename="data.bin")
    big_bytes = big.as_bytes(policy=email.policy.SMTP)
    auth_send(pf, "acme-bulk", "reports@acme.example", "c6a@example.org", big_bytes)

    body8 = ("Grüße aus Zürich – naïve café, 日本語のテキスト ✓\r\n" * 40
             + "Trailing space line   \r\n\tand a tab line\r\n").encode("utf-8")
    msg8 = raw_message(std_headers("Jürgen <juergen@acme.example>", "c6b@example.org",
                                   "check 6: 8bit") +
                       ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
                        "Content-Transfer-Encoding: 8bit"], body8)
    auth_send(pf, "acme-bulk", "juergen@acme.example", "c6b@example.org", msg8)

    m6a = rx.wait_to("c6a@example.org")[0]
    r6a = env.verify(m6a)
    parts = [p for p in m6a.message().iter_attachments()]
    got_payload = parts[0].get_content() if parts else b""
    check(f"large and 8-bit bodies: multipart/mixed with a {len(big_bytes) // 1024} KB message "
          f"({len(payload) // 1024} KB base64 attachment): both signatures verify, "
          "attachment intact",
          len(big_bytes) >= 200 * 1024 and signed_ok(r6a, "acme.example", env.acme_sigs)
          and m6a.message().get_content_type() == "multipart/mixed" and got_payload == payload,
          describe(r6a))
    m6b = rx.wait_to("c6b@example.org")[0]
    r6b = env.verify(m6b)
    check("large and 8-bit bodies: 8-bit UTF-8 body (CTE 8bit): bytes unchanged at the sink, both signatures verify",
          m6b.data.endswith(b"\r\n\r\n" + body8) and signed_ok(r6b, "acme.example",
                                                               env.acme_sigs),
          describe(r6b) + f"; body intact: {m6b.data.endswith(body8)}")

    # 7. missing Message-ID -------------------------------------------------
    msg7 = raw_message(std_headers("alice@acme.example", "c7@example.org", "check 7",
                                   message_id=False), "no message-id here\r\n")
    auth_send(pf, "acme-bulk", "alice@acme.example", "c7@example.org", msg7)
    m7 = rx.wait_to("c7@example.org")[0]
    r7 = env.verify(m7)
    mids = header(m7, "Message-ID")
    check("missing Message-ID: no Message-ID: exactly one added, by the milter (<T.HEX@acme.example>)",
          len(mids) == 1 and re.fullmatch(r"<\d+\.[0-9a-f]+@acme\.example>", mids[0]), mids)
    check("missing Message-ID: added Message-ID is signed (h= has message-id) and both signatures verify",
          signed_ok(r7, "acme.example", env.acme_sigs)
          and all("message-id" in r.signed_headers for r in r7), describe(r7))

    # 8. from_rewrite -------------------------------------------------------
    orig_from = '"Jane Doe" <jane@someuni.example>'
    msg8 = raw_message(std_headers(orig_from, "c8@example.org", "check 8"),
                       "from a tenant without a DKIM domain\r\n")
    auth_send(pf, "shop-app", "jane@someuni.example", "c8@example.org", msg8)
    m8 = rx.wait_to("c8@example.org")[0]
    r8 = env.verify(m8)
    check("from_rewrite: no-key tenant: From is \"Jane Doe via smallshop\" <x@platform.example>",
          header(m8, "From") == ['"Jane Doe via smallshop" <x@platform.example>'],
          header(m8, "From"))
    check("from_rewrite: Reply-To is the original From", header(m8, "Reply-To") == [orig_from],
          header(m8, "Reply-To"))
    check("from_rewrite: signed d=platform.example s=plat1 (platform tenant), verifies, h= has from "
          "and reply-to",
          signed_ok(r8, "platform.example", {"rsa-sha256": "plat1"})
          and all({"from", "reply-to"} <= set(r.signed_headers) for r in r8), describe(r8))
    info(f"8 envelope sender of the no-key tenant's mail: <{m8.sender}>")

    # A display name that, copied bare, gave a From of two mailboxes (the
    # bank's first) or an invalid one.
    hostile = '"=?utf-8?q?Support?= <security@bank.example>, x" <jane@someuni.example>'
    msg8h = raw_message(std_headers(hostile, "c8h@example.org", "check 8 hostile name"),
                        "display name with an encoded word, an address and a comma\r\n")
    code, text = refusal_of(lambda: auth_send(pf, "shop-app", "jane@someuni.example",
                                              "c8h@example.org", msg8h))
    m8h = rx.wait_to("c8h@example.org")[0] if code == 250 else None
    froms = header(m8h, "From") if m8h else []
    addresses = email.utils.getaddresses(froms)
    check("from_rewrite: hostile display name: accepted, From is one mailbox <x@platform.example>, "
          "signed d=platform.example, verifies",
          m8h is not None and len(froms) == 1 and [a for _, a in addresses] == ["x@platform.example"]
          and signed_ok(env.verify(m8h), "platform.example", {"rsa-sha256": "plat1"}),
          f"{code} {text}; From {froms}; parsed {addresses}; "
          f"{describe(env.verify(m8h)) if m8h else ''}")

    msg8b = raw_message(std_headers("carol@elsewhere.example", "c8b@example.org",
                                    "check 8b"), "keyed tenant, foreign From\r\n")
    auth_send(pf, "gamma-app", "carol@elsewhere.example", "c8b@example.org", msg8b)
    m8b = rx.wait_to("c8b@example.org")[0]
    r8b = env.verify(m8b)
    check("from_rewrite: keyed tenant outside its domains: From rewritten to gamma@platform.example, "
          "Reply-To original, d=platform.example verifies",
          header(m8b, "From") == ['"carol@elsewhere.example via gamma" <gamma@platform.example>']
          and header(m8b, "Reply-To") == ["carol@elsewhere.example"]
          and signed_ok(r8b, "platform.example", {"rsa-sha256": "plat1"}),
          f"From {header(m8b, 'From')} Reply-To {header(m8b, 'Reply-To')}; {describe(r8b)}")
    check("from_rewrite: keyed tenant outside its domains: bounce address on its own bounce domain",
          re.fullmatch(r"bounces\+[a-z2-7]+@mta\.gamma\.example", m8b.sender), m8b.sender)

    # 9. reload adds networks; 20 concurrent smtp-source sessions ----------
    with_net = {k: dict(v) for k, v in env.tenants.items()}
    with_net["acme"]["networks"] = "127.0.0.1/32"
    env.files.write_tenants(with_net)
    try:
        line = milter.reload()
        check("reload adding networks: SIGHUP after adding networks = 127.0.0.1/32: milter logs 'reloaded'",
              "reloaded: 5 tenants" in line, line)
    except ms.MailstackError as exc:
        check("reload adding networks: SIGHUP after adding networks = 127.0.0.1/32: milter logs 'reloaded'",
              False, str(exc))
    n_load = 40
    cpu0 = milter.cpu_seconds()
    t0 = time.monotonic()
    proc = ms.smtp_source(pf.smtp_port, sessions=20, messages=n_load, sender="load@acme.example",
                          to="c9@example.org", size=2000, subject="check 9", timeout=90)
    check(f"reload adding networks: smtp-source -s 20 -m {n_load} on the plain port: exit 0",
          proc.returncode == 0, proc.stderr.decode(errors="replace")[-500:])
    try:
        loads = rx.wait_to("c9@example.org", n_load, timeout=60)
    except ms.MailstackError as exc:
        loads = rx.to("c9@example.org")
        info(str(exc))
    elapsed = time.monotonic() - t0
    cpu = milter.cpu_seconds() - cpu0
    bad = []
    for msg in loads:
        r = env.verify(msg)
        if not signed_ok(r, "acme.example", env.acme_sigs) or \
                not re.fullmatch(r"bounces\+[a-z2-7]+@mta\.acme\.example", msg.sender):
            bad.append(f"{os.path.basename(msg.path)}: {describe(r)} sender {msg.sender}")
    check(f"reload adding networks: all {n_load} load messages at the sink, each with two verifying signatures "
          "and a bounce address", len(loads) == n_load and not bad,
          f"{len(loads)} arrived; " + "\n".join(bad[:5]))
    # smtp-source -d sends 2 messages per session: the token must carry each
    # message's own queue id (Postfix's Received: "... with ESMTP id QID")
    wrong = []
    for msg in loads:
        rcvd = header(msg, "Received")
        qm = re.search(r"with E?SMTPS?A? id (\w+)", rcvd[0]) if rcvd else None
        status, out = env.ctl_decode(msg.sender)
        if not qm or status != 0 or out.split()[0] != f"queue_id={qm.group(1)}":
            wrong.append(f"Received id {qm.group(1) if qm else None}, decode {status}: {out}")
    check("reload adding networks: every load message's bounce token decodes to its own queue id "
          "(two messages per SMTP session)", loads and not wrong, "\n".join(wrong[:5]))
    info(f"9 {n_load} messages through Postfix + milter in {elapsed:.2f}s "
         f"({n_load / elapsed:.0f}/s), milter CPU {1000 * cpu / n_load:.2f} ms/message")

    # 10. broken reload -----------------------------------------------------
    # The broken file also drops acme's networks: if the milter took any of
    # it, plain-port mail would no longer be signed.
    text = env.files.render_tenants(env.tenants)
    lines = text.splitlines()
    bad_line = lines.index("[gamma]") + 1
    lines.insert(bad_line, "%%% garbage, not key = value")
    with open(env.files.tenants_path, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    where = f"{env.files.tenants_path}:{bad_line + 1}:"
    try:
        line = milter.reload(expect_refusal=True)
        check("refused reload: SIGHUP with a broken tenants file: 'reload refused' logged with file:line",
              where in line, f"want {where!r} in {line!r}")
    except ms.MailstackError as exc:
        check("refused reload: SIGHUP with a broken tenants file: 'reload refused' logged with file:line",
              False, str(exc))
    msg10 = raw_message(std_headers("app@acme.example", "c10@example.org", "check 10"),
                        "after the refused reload\r\n")
    ms.send_smtp(pf.smtp_port, "app@acme.example", "c10@example.org", msg10)
    m10 = rx.wait_to("c10@example.org")[0]
    r10 = env.verify(m10)
    check("refused reload: after the refused reload the previous table signs (client network it "
          "had) and both signatures verify", signed_ok(r10, "acme.example", env.acme_sigs),
          describe(r10))
    check("refused reload: milter still running (same PID alive)",
          milter.alive() and ms._pid_alive(milter.pid), milter.pid)

    # 11. require_tenant (second instance) ---------------------------------
    env.files.write_tenants(env.tenants)    # good again, 127.0.0.1 in no networks
    port2 = ms.free_port()
    conf2 = env.files.write_config(port2, name="require.conf", platform_tenant="platform",
                                   require_tenant="yes")
    with open(conf2, "a") as fh:
        fh.write(redis_section(env.redis))
    milter2 = tp.Milter(milter.binary, conf2, env.tmp, name="milter2", port=port2)
    milter2.start()
    pf.milter = port2
    pf.reload()
    res = ms.send_with_swaks(pf.smtp_port, "nobody@nobody.example", "c11@example.org",
                             tls=False, headers={"From": "<nobody@nobody.example>"},
                             subject="check 11", body="no tenant\n")
    check("require_tenant = yes: unauthenticated mail refused 550 5.7.1",
          not res.ok and any(r.startswith("550 5.7.1") for r in res.server_replies()),
          res.transcript[-800:])
    msg11 = raw_message(std_headers("alice@acme.example", "c11ok@example.org", "check 11 ok"),
                        "tenant mail with require_tenant\r\n")
    auth_send(pf, "acme-bulk", "alice@acme.example", "c11ok@example.org", msg11)
    m11 = rx.wait_to("c11ok@example.org")[0]
    r11 = env.verify(m11)
    check("require_tenant = yes: AUTH tenant mail still signed and verifies",
          signed_ok(r11, "acme.example", env.acme_sigs), describe(r11))

    record_checks_more(env, pf, rx, milter2)

    # End: nothing from the refused attempts arrived; logs clean -----------
    pf.wait_queue_empty(20)
    everything = rx.all()
    leaked = [m for m in everything if set(m.recipients) & set(cross)]
    beta_sigs = [t for m in everything for t in sig_tags(m) if t.get("d") == "beta.example"
                 or t.get("s") == "beta1"]
    check("cross-tenant From: nothing from the cross-tenant/foreign attempts reached the sink, no signature "
          "with d=beta.example/s=beta1 anywhere",
          not leaked and not beta_sigs and not rx.to("c5@example.org")
          and not rx.to("c11@example.org"),
          f"leaked {[m.recipients for m in leaked]}, beta sigs {beta_sigs}")
    # c1 c1s c3s c4 c6a c6b c7 c8 c8h c8b, load, c10 c11ok, c13a+c13b (one message), c13c
    expected_count = 10 + n_load + 2 + 2
    check(f"sink holds exactly the {expected_count} expected messages",
          len(everything) == expected_count,
          f"{len(everything)}: {[m.recipients for m in everything]}")
    suspicious = re.compile(r"internal error|signing failed|refused a header")
    mlog = milter.log() + milter2.log()
    check("milter logs: no internal error / signing failure",
          not [l for l in mlog.splitlines() if suspicious.search(l)],
          [l for l in mlog.splitlines() if suspicious.search(l)][:5])
    pwarn = [l for l in pf.log().splitlines()
             if re.search(r"warning|fatal|panic", l) and "milter" in l.lower()]
    check("postfix.log: no milter warnings", not pwarn, "\n".join(pwarn[:5]))

    # SIGTERM stops both instances cleanly (signalled together: each takes
    # up to libmilter's 5 s poll to notice)
    t_stop = time.monotonic()
    milter.terminate()
    milter2.terminate()
    statuses = [milter.stop(), milter2.stop()]
    t_stop = time.monotonic() - t_stop
    check("SIGTERM: both milters exit 0 and log 'stopped'",
          statuses == [0, 0] and all(re.search(r"info: stopped", m.log())
                                     for m in (milter, milter2)),
          f"exit {statuses}: {milter.log()[-300:]}")
    info(f"SIGTERM to exit: {t_stop:.2f}s")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: milter_test.py TENANTMAIL_MILTER TENANTMAILCTL", file=sys.stderr)
        return 2
    milter_bin, ctl_bin = (os.path.abspath(a) for a in argv)

    def body():
        with ms.managed_workdir("tenantmail-milter-test-") as tmp:
            if os.environ.get("TM_KEEP_TMP"):
                print(f"     logs in {tmp}", flush=True)
            run(Env(tmp, milter_bin, ctl_bin), milter_bin)
    return REPORT.run_main(body, failure="milter integration test ran to the end",
                           cleanup=ms.stop_all)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
