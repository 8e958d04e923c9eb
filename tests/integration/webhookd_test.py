#!/usr/bin/python3
"""tenantmail-webhookd against a real redis-server and an HTTP receiver on
127.0.0.1 that checks every POST's signature the way the README tells
tenants to (HMAC-SHA256 over "timestamp.body", constant-time compare).

Events are appended with XADD exactly as common/events.cpp stores them, and
the test checks, with the receiver and Redis as witnesses:
  * delivery: 2 tenants, 260 events: every event arrives exactly once, in
    batches of at most max_batch, with a valid signature, Content-Type
    application/json and the events document shape; each tenant's URL gets
    only its own events; nothing stays pending in the group;
  * failures: one receiver answers 500, another tenant is served meanwhile;
    then the whole receiver is down (connection refused); once both are
    back every event has arrived, none lost, duplicates only with the same
    event id; the log says attempt and next retry;
  * SIGKILL mid-POST (the receiver holds the request): after a restart the
    batch is delivered again (same event ids) once claim_after has passed;
  * SIGTERM mid-POST: the POST is finished and acknowledged before exit; a
    second SIGTERM abandons it and hands the batch back to the group, so the
    next dispatcher delivers it at once;
  * two dispatchers in one group: every event delivered exactly once;
  * dead letters: with a short retry_for a batch that keeps failing moves to
    tm:{T}:events:dead; `tenantmailctl webhooks dead list` shows it (text
    and JSON), `dead replay --all` brings it back and it is delivered with
    the same event ids;
  * Redis stopped and started again: one log line for the outage, no busy
    loop meanwhile, events appended afterwards are delivered;
  * SIGHUP: a new tenant is served; a broken tenants file is refused;
  * with a long block, a tenant whose batch settled is read again at once;
    an idle dispatcher uses no CPU;
  * HTTPS with a certificate that does not verify gets nothing; a 302 is a
    failed attempt and is not followed;
  * a secret file readable by others is refused at start (and by
    --check-config) with a message naming the file; SIGTERM stops cleanly;
  * destinations: with a default [webhookd] (no allow_http, no
    allowed_networks) plain http, loopback (also behind the name
    localhost), link-local 169.254.169.254, RFC 1918 and ULA receivers are
    refused on the address connected to, logged with address and rule, even
    with http(s)_proxy/ALL_PROXY in the environment (the proxy sees no
    connection); such a batch fails like a dead receiver and ends as a dead
    letter naming the refusal; tenantmailctl check-config warns about the
    URLs it can tell from the text; allow_http + allowed_networks admit
    exactly what they name (localhost: ::1 refused, 127.0.0.1 used).
The other scenarios run with allow_http = yes and allowed_networks =
127.0.0.1/32 (tenantmail_procs.WEBHOOKD_TEST_DESTINATIONS).
Prints "webhookd: N passed, M failed"; exits non-zero on any failure.

Run: /usr/bin/python3 tests/integration/webhookd_test.py \
         PATH/TO/tenantmail-webhookd PATH/TO/tenantmailctl
(TM_KEEP_TMP=1 keeps the temp dir.)
"""

from __future__ import annotations

import collections
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import mailstack as ms  # noqa: E402
from checks import Report  # noqa: E402
import tenantmail_procs as tp  # noqa: E402
from tenantmail_procs import Webhookd  # noqa: E402
from webhook_receiver import Receiver, write_secret  # noqa: E402

NAME = "webhookd"
MAX_BATCH = tp.WEBHOOKD_MAX_BATCH
CLAIM_AFTER = tp.WEBHOOKD_CLAIM_AFTER
KINDS = ["delivery", "bounce", "soft_bounce", "open", "click", "complaint", "blocked"]


REPORT = Report(NAME)
check = REPORT.check


def check_waited(name, wait) -> bool:
    """check() whether wait() (a wait_until-style call) saw its condition
    before its timeout; the timeout's message is the detail."""
    try:
        wait()
    except ms.MailstackError as exc:
        return check(name, False, str(exc))
    return check(name, True)


# ---------------------------------------------------------------------------
# Events, as common/events.cpp appends them

def make_event(tenant: str, n: int) -> dict:
    return {
        "details": {"n": n, "status": "5.1.1" if n % 2 else "2.0.0"},
        "id": secrets.token_hex(16),
        "kind": KINDS[n % len(KINDS)],
        "message_id": f"msg-{n}",
        "queue_id": f"4Q{n:06X}",
        "recipient": f"user{n}@example.net",
        "tenant": tenant,
        "timestamp": int(time.time()),
    }


def _resp(*args) -> bytes:
    out = b"*%d\r\n" % len(args)
    for a in args:
        b = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(b), b)
    return out


def append(redis: ms.RedisServer, tenant: str, count: int, start: int = 0) -> list[dict]:
    """XADDs as append_event() does, inside MULTI/EXEC: a blocked reader
    wakes once, for all of them, so batch sizes do not depend on timing."""
    events = [make_event(tenant, start + i) for i in range(count)]
    request = _resp("MULTI")
    for event in events:
        # nlohmann's dump(): keys sorted, no spaces.
        request += _resp("XADD", f"tm:{{{tenant}}}:events", "MAXLEN", "~", "100000", "*", "event",
                         json.dumps(event, sort_keys=True, separators=(",", ":")))
    request += _resp("EXEC")
    with socket.create_connection(("127.0.0.1", redis.port), timeout=10) as sock:
        sock.sendall(request)
        with sock.makefile("rb") as f:
            replies = [ms._resp_read(f) for _ in range(count + 2)]
    if not isinstance(replies[-1], list) or len(replies[-1]) != count:
        raise ms.MailstackError(f"XADD in MULTI failed: {replies[-1]!r}")
    return events


def ids_of(events) -> list[str]:
    return [e["id"] for e in events]


def pending_count(redis: ms.RedisServer, tenant: str, group: str = "tenantmail-webhookd") -> int:
    try:
        summary = redis.command("XPENDING", f"tm:{{{tenant}}}:events", group)
    except ms.MailstackError:
        return -1
    return int(summary[0])


def write_tenants(path: str, receiver: Receiver, tenants: dict[str, str], extra: str = "") -> str:
    text = ""
    for tenant, secret_path in tenants.items():
        text += (f"[{tenant}]\ndomains = {tenant}.example\nfrom_rewrite = {tenant}@platform.example\n"
                 f"webhook_url = {receiver.base}/{tenant}\nwebhook_secret = {secret_path}\n\n")
    with open(path, "w") as f:
        f.write(text + extra)
    return path


def no_sanitizer_report(name: str, log: str) -> None:
    check(f"{name}: no sanitizer report in the log", "Sanitizer" not in log and "runtime error" not in log,
          log[-3000:])


# ---------------------------------------------------------------------------
# Scenarios

def test_delivery(env) -> None:
    redis, receiver, d = env["redis"], env["receiver"], env["dispatcher"]
    acme = append(redis, "acme", 180)
    beta = append(redis, "beta", 80)
    receiver.wait_ids(ids_of(acme + beta), 30, "260 events at the receiver")
    time.sleep(0.5)  # anything extra would show up now
    got = receiver.delivered_ids()
    counts = collections.Counter(got)
    check("every event delivered exactly once", len(got) == 260 and set(counts.values()) == {1},
          f"{len(got)} deliveries, {sum(1 for c in counts.values() if c > 1)} duplicated ids")
    with receiver.lock:
        sizes = [len(b["events"]) for b in receiver.batches]
        mixed = [b for b in receiver.batches if any(e["tenant"] != b["tenant"] for e in b["events"])]
    check("batches of at most max_batch, several events per POST",
          max(sizes) <= MAX_BATCH and len(sizes) < 260, f"batch sizes {sizes}")
    check("each tenant's URL gets only its own events", not mixed and
          set(receiver.delivered_ids("acme")) == set(ids_of(acme)), f"{len(mixed)} mixed batches")
    check("every signature, timestamp and Content-Type verified", not receiver.bad, "; ".join(receiver.bad[:5]))
    by_id = {e["id"]: e for b in receiver.batches for e in b["events"]}
    check("events arrive exactly as appended (all eight fields)",
          all(by_id[e["id"]] == e for e in acme + beta), json.dumps(by_id.get(acme[0]["id"]))[:300])
    check_waited("nothing left pending after the 2xx answers",
                 lambda: ms.wait_until(lambda: pending_count(redis, "acme") == 0
                                       and pending_count(redis, "beta") == 0, 5, "empty pending lists"))
    check("one log line per batch with tenant, count and HTTP status",
          d.count(r"tenant acme: \d+ events delivered \(HTTP 200\)") >= 2, d.log()[-1000:])


def test_failures(env) -> None:
    redis, receiver, d = env["redis"], env["receiver"], env["dispatcher"]
    before = len(receiver.delivered_ids())
    receiver.mode["acme"] = "fail"
    acme = append(redis, "acme", 30, start=1000)
    ms.wait_until(lambda: len(receiver.failed) >= 2, 15, "two failed attempts for acme")
    beta = append(redis, "beta", 20, start=1000)
    check_waited("another tenant is served while one receiver fails",
                 lambda: receiver.wait_ids(ids_of(beta), 10, "beta's events while acme's receiver fails"))
    check("the failure is logged with status, attempt and next retry",
          re.search(r"tenant acme: \d+ events not delivered \(HTTP 500: receiver says no\?\), attempt \d+; "
                    r"next attempt in \d+s", d.log()) is not None, d.log()[-1500:])
    # Now nobody answers at all.
    receiver.stop()
    more = append(redis, "acme", 10, start=2000) + append(redis, "beta", 10, start=2000)
    check_waited("connection refused is logged as a failed attempt",
                 lambda: d.wait_log(r"not delivered \(.*[Cc]onnect", timeout=15))
    time.sleep(2)
    receiver.mode["acme"] = "ok"
    receiver.start()
    receiver.wait_ids(ids_of(acme + more), 30, "every event after the receiver is back")
    got = receiver.delivered_ids()[before:]
    expected = set(ids_of(acme + beta + more))
    check("none lost after 500s and refused connections", expected <= set(got))
    check("duplicates only with the same event ids", set(got) <= expected, f"{set(got) - expected}")
    check("signatures still valid after retries", not receiver.bad, "; ".join(receiver.bad[:5]))
    attempts = [int(n) for n in re.findall(r"tenant acme: 30 events not delivered .*, attempt (\d+);", d.log())]
    check("attempts are counted one by one (Redis's delivery counter, touches not counted)",
          len(attempts) >= 3 and attempts == list(range(1, len(attempts) + 1)), f"{attempts}")
    ms.wait_until(lambda: pending_count(redis, "acme") == 0, 10, "acme's pending list to empty")


def test_sigkill(env, directory, tenants_file) -> None:
    redis, receiver = env["redis"], env["receiver"]
    env["dispatcher"].stop()
    receiver.release.clear()
    receiver.mode["acme"] = "hold"
    events = append(redis, "acme", 12, start=3000)  # read as one batch at start
    first = Webhookd(env["binary"], directory, "killed", redis.port, tenants_file).start()
    ms.wait_until(lambda: receiver.holding >= 1, 10, "the receiver to hold a POST")
    first.kill()
    check("dispatcher killed with SIGKILL in the middle of a POST", first.proc.returncode == -signal.SIGKILL)
    receiver.release.set()  # the held request ends; nobody reads the answer
    receiver.mode["acme"] = "ok"
    receiver.release.clear()
    ms.wait_until(lambda: receiver.holding == 0, 10, "the held request to end")
    check("the events are still pending for the dead consumer", pending_count(redis, "acme") == 12,
          f"pending {pending_count(redis, 'acme')}")
    killed_at = time.monotonic()
    with Webhookd(env["binary"], directory, "restarted", redis.port, tenants_file) as second:
        n_before = len(receiver.delivered_ids())
        check_waited("after a restart the batch is delivered again, same event ids",
                     lambda: ms.wait_until(lambda: set(ids_of(events)) <= set(receiver.delivered_ids()[n_before:]),
                                           20, "the batch to be delivered again"))
        delay = time.monotonic() - killed_at
        check(f"taken over once claim_after ({CLAIM_AFTER:g}s) had passed, not before ({delay:.1f}s)",
              delay >= CLAIM_AFTER - 1.0, f"{delay:.1f}s")
        check("the take-over is logged", second.count(r"tenant acme: took over 12 events") == 1, second.log()[-800:])
        ms.wait_until(lambda: pending_count(redis, "acme") == 0, 10, "acme's pending list to empty")
        env["dispatcher"] = second
        second_log = second.log
    no_sanitizer_report("restarted dispatcher", second_log())
    env["dispatcher"] = Webhookd(env["binary"], directory, "main2", redis.port, tenants_file).start()


def test_sigterm_in_flight(env, directory, tenants_file) -> None:
    redis, receiver = env["redis"], env["receiver"]
    env["dispatcher"].stop()
    # One SIGTERM: the POST in flight is finished and acknowledged first.
    receiver.release.clear()
    receiver.mode["acme"] = "hold"
    events = append(redis, "acme", 6, start=7000)
    d = Webhookd(env["binary"], directory, "graceful", redis.port, tenants_file).start()
    ms.wait_until(lambda: receiver.holding >= 1, 10, "the receiver to hold a POST")
    n_before = len(receiver.delivered_ids())
    d.proc.send_signal(signal.SIGTERM)
    d.wait_log(r"stopping on signal 15: finishing 1 POSTs in flight")
    time.sleep(0.5)
    check("SIGTERM waits for the POST in flight", d.proc.poll() is None)
    receiver.release.set()
    status = d.proc.wait(10)
    d.stop()
    check("then delivers, acknowledges and exits 0",
          status == 0 and sorted(receiver.delivered_ids()[n_before:]) == sorted(ids_of(events))
          and pending_count(redis, "acme") == 0, f"status {status}, pending {pending_count(redis, 'acme')}")
    # A second SIGTERM abandons the POST; the batch is handed back to the
    # group at once rather than after claim_after.
    receiver.release.clear()
    events = append(redis, "acme", 4, start=7100)
    d = Webhookd(env["binary"], directory, "impatient", redis.port, tenants_file).start()
    ms.wait_until(lambda: receiver.holding >= 1, 10, "the receiver to hold a POST")
    d.proc.send_signal(signal.SIGTERM)
    d.wait_log(r"stopping on signal 15")
    d.proc.send_signal(signal.SIGTERM)
    status = d.proc.wait(10)
    d.stop()
    check("a second SIGTERM abandons the POST and exits 0",
          status == 0 and d.count(r"tenant acme: POST of 4 events abandoned") == 1, d.log()[-800:])
    check("the abandoned events stay pending", pending_count(redis, "acme") == 4)
    receiver.mode["acme"] = "ok"
    receiver.release.set()
    ms.wait_until(lambda: receiver.holding == 0, 10, "the held request to end")
    n_before = len(receiver.delivered_ids())
    restarted_at = time.monotonic()
    env["dispatcher"] = Webhookd(env["binary"], directory, "main-after-stop", redis.port, tenants_file).start()
    ms.wait_until(lambda: set(ids_of(events)) <= set(receiver.delivered_ids()[n_before:]), 15,
                  "the abandoned batch to be delivered")
    delay = time.monotonic() - restarted_at
    check(f"and taken over by the next dispatcher without waiting claim_after ({delay:.1f}s)",
          delay < CLAIM_AFTER - 1.0, f"{delay:.1f}s")
    no_sanitizer_report("stopped dispatchers", d.log())


def test_two_dispatchers(env, directory, tenants_file) -> None:
    redis, receiver = env["redis"], env["receiver"]
    start = len(receiver.delivered_ids())
    with Webhookd(env["binary"], directory, "second", redis.port, tenants_file) as other:
        events = []
        for burst in range(6):
            events += append(redis, "acme", 25, start=4000 + 100 * burst)
            events += append(redis, "beta", 25, start=4000 + 100 * burst)
            time.sleep(0.2)
        receiver.wait_ids(ids_of(events), 30, "300 events with two dispatchers")
        time.sleep(1.5)
        got = receiver.delivered_ids()[start:]
        counts = collections.Counter(got)
        check("two dispatchers in one group: every event exactly once",
              len(got) == len(events) and set(counts.values()) == {1},
              f"{len(got)} deliveries of {len(events)} events")
        consumers = redis.command("XINFO", "CONSUMERS", "tm:{acme}:events", "tenantmail-webhookd")
        check("both dispatchers are consumers of the group", len(consumers) >= 2, repr(consumers)[:300])
        shares = (env["dispatcher"].count("events delivered"), other.count("events delivered"))
        print(f"     (batches logged by the two dispatchers: {shares})")
    check("second dispatcher stopped cleanly on SIGTERM", other.proc.returncode == 0,
          f"status {other.proc.returncode}")
    no_sanitizer_report("second dispatcher", other.log())


def test_dead_letters(env, directory, tenants_file, ctl) -> None:
    redis, receiver = env["redis"], env["receiver"]
    env["dispatcher"].stop()
    receiver.mode["acme"] = "fail"
    with Webhookd(env["binary"], directory, "shortlived", redis.port, tenants_file,
                  retry_for="4s", retry_initial="1s", retry_max="1s") as d:
        events = append(redis, "acme", 5, start=5000)
        d.wait_log(r"tenant acme: 5 events not delivered .*given up after 4s, moved to tm:\{acme\}:events:dead",
                   timeout=20)
        check("a batch failing for retry_for moves to the dead-letter stream",
              redis.command("XLEN", "tm:{acme}:events:dead") == 1)
        check("and is no longer pending", pending_count(redis, "acme") == 0)
        attempts = len([b for b in receiver.failed if b["events"][0]["id"] == events[0]["id"]])

        listed = subprocess.run([ctl, "webhooks", "dead", "list", "acme", "-c", d.config],
                                capture_output=True, text=True, timeout=30)
        check("tenantmailctl webhooks dead list shows it",
              listed.returncode == 0 and re.search(r"^\d+-\d+\t\S+Z\t5 events\t\d+ attempts\tHTTP 500",
                                                   listed.stdout, re.M) is not None,
              listed.stdout + listed.stderr)
        listed = subprocess.run([ctl, "webhooks", "dead", "list", "acme", "--json", "-c", d.config],
                                capture_output=True, text=True, timeout=30)
        doc = json.loads(listed.stdout) if listed.returncode == 0 else {}
        letters = doc.get("dead_letters", [])
        check("the JSON list has the events with their ids, the error and the attempts",
              len(letters) == 1 and [e["id"] for e in letters[0]["events"]] == ids_of(events)
              and letters[0]["error"].startswith("HTTP 500") and letters[0]["attempts"] == attempts >= 2,
              f"{listed.stdout[:600]} (receiver saw {attempts} attempts)")

        receiver.mode["acme"] = "ok"
        start = len(receiver.delivered_ids())
        replayed = subprocess.run([ctl, "webhooks", "dead", "replay", "acme", "--all", "-c", d.config],
                                  capture_output=True, text=True, timeout=30)
        check("tenantmailctl webhooks dead replay --all succeeds",
              replayed.returncode == 0 and "replayed: 5 events queued in tm:{acme}:events" in replayed.stdout,
              replayed.stdout + replayed.stderr)
        receiver.wait_ids(ids_of(events), 15, "the replayed events")
        again = receiver.delivered_ids()[start:]
        check("replayed events are delivered with the same event ids", sorted(again) == sorted(ids_of(events)),
              f"{again}")
        check("the dead-letter stream is empty after the replay", redis.command("XLEN", "tm:{acme}:events:dead") == 0)
        unknown = subprocess.run([ctl, "webhooks", "dead", "replay", "acme", "1-0", "-c", d.config],
                                 capture_output=True, text=True, timeout=30)
        check("replaying an unknown dead letter fails with a message",
              unknown.returncode == 1 and "has no dead letter 1-0" in unknown.stderr, unknown.stderr)
        usage = subprocess.run([ctl, "webhooks", "dead", "replay", "acme", "-c", d.config],
                               capture_output=True, text=True, timeout=30)
        check("replay without ENTRY_ID or --all is a usage error", usage.returncode == 2, usage.stderr)
    no_sanitizer_report("short-lived dispatcher", d.log())
    env["dispatcher"] = Webhookd(env["binary"], directory, "main3", redis.port, tenants_file).start()


def test_redis_outage(env) -> None:
    redis, receiver, d = env["redis"], env["receiver"], env["dispatcher"]
    errors_before = d.count(r"error: .*; events wait in Redis until it is back")
    redis.stop()
    before = cpu_seconds(d.proc.pid)
    time.sleep(3)
    used = cpu_seconds(d.proc.pid) - before
    check("dispatcher survives Redis going away", d.proc.poll() is None)
    check(f"no busy loop while Redis is away ({used:.2f}s CPU in 3s)", used < 0.3)
    redis.start()
    d.wait_log(r"Redis at .* is reachable again", timeout=15)
    check("the outage is logged once, not once per retry",
          d.count(r"error: .*; events wait in Redis until it is back") == errors_before + 1, d.log()[-1500:])
    # The restarted Redis is empty: groups come back with the next events.
    events = append(redis, "beta", 15, start=6000)
    check_waited("events appended after the outage are delivered",
                 lambda: receiver.wait_ids(ids_of(events), 15, "events appended after Redis came back"))


def test_reload(env, directory, tenants_file) -> None:
    redis, receiver, d = env["redis"], env["receiver"], env["dispatcher"]
    path, secret = write_secret(directory, "gamma")
    receiver.secrets["gamma"] = secret
    tenants = dict(env["tenants"])
    tenants["gamma"] = path
    write_tenants(tenants_file, receiver, tenants)
    n = d.count("reloaded: ")
    d.proc.send_signal(signal.SIGHUP)
    d.wait_log(r"info: reloaded: 3 tenants with a webhook", count=n + 1)
    events = append(redis, "gamma", 7)
    check_waited("SIGHUP: a new tenant is served",
                 lambda: receiver.wait_ids(ids_of(events), 15, "the new tenant's events"))
    write_tenants(tenants_file, receiver, tenants, extra="[broken\n")
    d.proc.send_signal(signal.SIGHUP)
    d.wait_log(r"error: reload refused, still serving the previous tenants: .*tenants.conf:\d+")
    events = append(redis, "gamma", 3, start=100)
    check_waited("SIGHUP with a broken file: refused, the old table keeps serving",
                 lambda: receiver.wait_ids(ids_of(events), 15, "events after the refused reload"))
    write_tenants(tenants_file, receiver, env["tenants"])


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat", "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_wakeup(env, directory, tenants_file) -> None:
    """With a long block, a tenant whose batch just settled must not wait
    for the blocked read of the others to time out; idle costs no CPU."""
    redis, receiver = env["redis"], env["receiver"]
    env["dispatcher"].stop()
    with Webhookd(env["binary"], directory, "longblock", redis.port, tenants_file, block="20s") as d:
        first = append(redis, "acme", 1, start=8000)
        receiver.wait_ids(ids_of(first), 5, "the first event")
        time.sleep(0.3)
        second = append(redis, "acme", 1, start=8001)
        t0 = time.monotonic()
        receiver.wait_ids(ids_of(second), 10, "the second event")
        delay = time.monotonic() - t0
        check(f"with block = 20s a new event still arrives at once ({delay:.2f}s)", delay < 2.0)
        before = cpu_seconds(d.proc.pid)
        time.sleep(3)
        used = cpu_seconds(d.proc.pid) - before
        check(f"idle for 3s costs no CPU ({used:.2f}s)", used < 0.3)
    env["dispatcher"] = Webhookd(env["binary"], directory, "main-after-wakeup", redis.port, tenants_file).start()


def test_tls_and_redirects(env, directory) -> None:
    redis, receiver = env["redis"], env["receiver"]
    cert, key = os.path.join(directory, "tls.crt"), os.path.join(directory, "tls.key")
    subprocess.run([ms.OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    tls_path, tls_secret = write_secret(directory, "tls")
    tls_receiver = Receiver({"tls": tls_secret}, tls=(cert, key)).start()
    try:
        tenants_file = os.path.join(directory, "tls-tenants.conf")
        with open(tenants_file, "w") as f:
            f.write(f"[tls]\ndomains = tls.example\nfrom_rewrite = tls@platform.example\n"
                    f"webhook_url = {tls_receiver.base}/tls\nwebhook_secret = {tls_path}\n\n"
                    f"[beta]\ndomains = beta.example\nfrom_rewrite = beta@platform.example\n"
                    f"webhook_url = {receiver.base}/beta\nwebhook_secret = {env['tenants']['beta']}\n")
        env["dispatcher"].stop()
        receiver.mode["beta"] = "redirect"
        acme_before = len(receiver.delivered_ids("acme"))
        with Webhookd(env["binary"], directory, "tls", redis.port, tenants_file) as d:
            append(redis, "tls", 1, start=9000)
            append(redis, "beta", 2, start=9000)
            d.wait_log(r"tenant tls: 1 events not delivered \(SSL certificate problem", timeout=10)
            d.wait_log(r"tenant beta: 2 events not delivered \(HTTP 302\)", timeout=10)
            time.sleep(0.5)
        check("a receiver whose certificate does not verify gets nothing",
              not tls_receiver.batches and not tls_receiver.failed)
        check("a redirect is a failed attempt, not followed",
              len(receiver.delivered_ids("acme")) == acme_before and not receiver.bad, "; ".join(receiver.bad[:3]))
        no_sanitizer_report("TLS dispatcher", d.log())
    finally:
        tls_receiver.stop()
        receiver.mode["beta"] = "ok"
    # The two redirected events are still pending for the stopped consumer.
    env["dispatcher"] = Webhookd(env["binary"], directory, "main-after-tls", redis.port,
                                 env["tenants_file"]).start()


def test_unsafe_secret(env, directory) -> None:
    path, secret = write_secret(directory, "leaky", mode=0o644)
    tenants_file = write_tenants(os.path.join(directory, "leaky-tenants.conf"), env["receiver"], {"leaky": path})
    d = Webhookd(env["binary"], directory, "leaky", env["redis"].port, tenants_file)
    d.start(wait_connected=False)
    status = d.proc.wait(15)
    d.stop()
    message = f"tenant leaky: webhook secret {path} is readable by group or others (mode 0644); chmod 600 it"
    check("a secret readable by others is refused at start, naming the file",
          status == 1 and message in d.log(), f"status {status}: {d.log()[-500:]}")
    proc = subprocess.run([env["binary"], "--check-config", "-c", d.config], capture_output=True, text=True,
                          timeout=30)
    check("--check-config refuses it too", proc.returncode == 1 and message in proc.stderr, proc.stderr)
    os.chmod(path, 0o600)
    proc = subprocess.run([env["binary"], "--check-config", "-c", d.config], capture_output=True, text=True,
                          timeout=30)
    check("--check-config accepts it once it is 0600",
          proc.returncode == 0 and "configuration OK: 1 tenants with a webhook" in proc.stdout,
          proc.stdout + proc.stderr)


class ProxyTrap:
    """A listening socket on 127.0.0.1 named as the proxy in the
    dispatcher's environment; counts the connections it is offered."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.setblocking(False)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def connections(self) -> int:
        count = 0
        while True:
            try:
                conn, _ = self.sock.accept()
            except BlockingIOError:
                return count
            conn.close()
            count += 1

    def close(self) -> None:
        self.sock.close()


def test_destinations(env, directory, ctl) -> None:
    redis, receiver = env["redis"], env["receiver"]
    env["dispatcher"].stop()
    port = receiver.port
    urls = {
        "plain": f"{receiver.base}/plain",                       # http, though on an admitted address
        "named": f"https://localhost:{port}/hook/named",         # a name that resolves to loopback
        "meta": "https://169.254.169.254/latest/meta-data/",     # the cloud metadata service
        "lan": "https://10.0.0.1/hook",
        "ula": "https://[fd00::1]/hook",
    }
    way_out = r"; list it in webhookd\.allowed_networks to allow it"
    reasons = {
        "plain": r"plain http is refused .*set webhookd\.allow_http = yes",
        "named": r"destination (127\.0\.0\.1|::1) is refused: loopback \((127\.0\.0\.0/8|::1/128)\)" + way_out,
        "meta": r"destination 169\.254\.169\.254 is refused: link-local.*\(169\.254\.0\.0/16\)" + way_out,
        "lan": r"destination 10\.0\.0\.1 is refused: private network \(RFC 1918\) \(10\.0\.0\.0/8\)" + way_out,
        "ula": r"destination fd00::1 is refused: unique local \(RFC 4193\) \(fc00::/7\)" + way_out,
    }
    text = ""
    for tenant, url in urls.items():
        path, secret = write_secret(directory, f"dest-{tenant}")
        receiver.secrets[tenant] = secret
        text += (f"[{tenant}]\ndomains = {tenant}.example\nfrom_rewrite = {tenant}@platform.example\n"
                 f"webhook_url = {url}\nwebhook_secret = {path}\n\n")
    tenants_file = os.path.join(directory, "dest-tenants.conf")
    with open(tenants_file, "w") as f:
        f.write(text)
    trap = ProxyTrap()
    before = len(receiver.batches) + len(receiver.failed)
    try:
        # Nothing widened: the options as a fresh install has them.
        d = Webhookd(env["binary"], directory, "strict", redis.port, tenants_file, allow_http="no",
                     allowed_networks="", retry_for="3s", retry_initial="1s", retry_max="1s")
        d.extra_env = {"http_proxy": trap.url, "https_proxy": trap.url, "HTTPS_PROXY": trap.url,
                       "ALL_PROXY": trap.url, "all_proxy": trap.url}
        with d:
            for tenant in urls:
                append(redis, tenant, 2, start=12000)
            for tenant, reason in reasons.items():
                check_waited(f"default config refuses {tenant} ({urls[tenant]}), the log says why",
                             lambda: d.wait_log(rf"tenant {tenant}: 2 events not delivered \({reason}\), attempt 1; "
                                                r"next attempt in", timeout=10))
            check_waited("a refused destination ends as a dead letter after retry_for, like a dead receiver",
                         lambda: d.wait_log(r"tenant meta: 2 events not delivered \(destination 169\.254\.169\.254 "
                                            r"is refused.*given up after 3s, moved to tm:\{meta\}:events:dead",
                                            timeout=15))
            listed = subprocess.run([ctl, "webhooks", "dead", "list", "meta", "-c", d.config], capture_output=True,
                                    text=True, timeout=30)
            check("webhooks dead list names the refusal", listed.returncode == 0
                  and "destination 169.254.169.254 is refused: link-local" in listed.stdout, listed.stdout + listed.stderr)
        check("refused destinations: the receiver saw nothing, the proxy in the environment no connection",
              len(receiver.batches) + len(receiver.failed) == before and trap.connections() == 0)
        no_sanitizer_report("strict dispatcher", d.log())

        secret_file = os.path.join(directory, "dest-bounce.secret")
        fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, secrets.token_hex(32).encode() + b"\n")
        os.close(fd)
        # check-config loads everything the milter would: the from_rewrite
        # tenants need a platform tenant with a key.
        platform_key = os.path.join(directory, "dest-platform.pem")
        subprocess.run([ms.OPENSSL, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out",
                        platform_key], check=True, capture_output=True, timeout=60)
        os.chmod(platform_key, 0o600)
        ctl_tenants = os.path.join(directory, "dest-ctl-tenants.conf")
        with open(ctl_tenants, "w") as f:
            f.write(text + f"[platform]\ndomains = platform.example\nselector = s1\nkey = {platform_key}\n"
                           "bounce_domain = bounce.platform.example\n")
        with open(d.config) as f:
            config_text = f.read().replace(f"tenants_file = {tenants_file}", f"tenants_file = {ctl_tenants}")
        ctl_config = os.path.join(directory, "dest-ctl.conf")
        with open(ctl_config, "w") as f:
            f.write(f"bounce_secret_file = {secret_file}\n" + config_text + "[milter]\nplatform_tenant = platform\n")
        own = subprocess.run([env["binary"], "--check-config", "-c", d.config], capture_output=True, text=True,
                             timeout=30)
        check("tenantmail-webhookd --check-config: OK, with a warning per URL it can tell is refused",
              own.returncode == 0 and len(re.findall(r"warning: tenant (plain|meta|lan|ula): webhook_url will be "
                                                     r"refused: ", own.stderr)) == 4
              and "tenant named" not in own.stderr, own.stdout + own.stderr)
        checked = subprocess.run([ctl, "check-config", "-c", ctl_config], capture_output=True, text=True, timeout=30)
        warned = {t for t in urls if re.search(rf"^warning: tenant {t}: webhook_url \S+ will be refused by "
                                                rf"tenantmail-webhookd: ", checked.stderr, re.M)}
        check("check-config warns about http and literal refused addresses, not about names (judged on connect)",
              checked.returncode == 0 and warned == {"plain", "meta", "lan", "ula"}
              and "plain http is refused" in checked.stderr
              and "destination 169.254.169.254 is refused" in checked.stderr,
              f"exit {checked.returncode}, warned {sorted(warned)}\n{checked.stderr}")

        # Widened for loopback over http: localhost's ::1 is still refused,
        # its 127.0.0.1 admitted, and the events arrive.
        with open(tenants_file, "w") as f:
            f.write(text.replace(f"https://localhost:{port}", f"http://localhost:{port}"))
        w = Webhookd(env["binary"], directory, "widened", redis.port, tenants_file, allow_http="yes",
                     allowed_networks="127.0.0.0/8")
        w.extra_env = d.extra_env
        with w:
            events = append(redis, "named", 3, start=13000) + append(redis, "plain", 3, start=13000)
            append(redis, "meta", 1, start=13000)
            check_waited("allow_http + allowed_networks 127.0.0.0/8: the http and the localhost receiver get "
                         "their events",
                         lambda: receiver.wait_ids(ids_of(events), 15, "events of the admitted tenants"))
            check_waited("... while the others stay refused",
                         lambda: w.wait_log(r"tenant meta: 1 events not delivered \(destination 169\.254", timeout=10))
            check("the admitted events' signatures verify", not receiver.bad, "; ".join(receiver.bad[:3]))
        check("and still nothing went to the proxy", trap.connections() == 0)
        no_sanitizer_report("widened dispatcher", w.log())
    finally:
        trap.close()
    env["dispatcher"] = Webhookd(env["binary"], directory, "main-after-dest", redis.port,
                                 env["tenants_file"]).start()


def main() -> int:
    if len(sys.argv) != 3:
        print(f"usage: {sys.argv[0]} PATH/TO/tenantmail-webhookd PATH/TO/tenantmailctl", file=sys.stderr)
        return 2
    binary, ctl = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    receiver = None

    def body():
        nonlocal receiver
        with ms.managed_workdir("tm-webhookd-") as directory:
            acme_path, acme_secret = write_secret(directory, "acme")
            beta_path, beta_secret = write_secret(directory, "beta")
            receiver = Receiver({"acme": acme_secret, "beta": beta_secret}).start()
            tenants = {"acme": acme_path, "beta": beta_path}
            tenants_file = write_tenants(os.path.join(directory, "tenants.conf"), receiver, tenants)
            with ms.RedisServer(directory) as redis:
                env = {"redis": redis, "receiver": receiver, "binary": binary, "tenants": tenants,
                       "tenants_file": tenants_file}
                env["dispatcher"] = Webhookd(binary, directory, "main", redis.port, tenants_file).start()
                for test in (lambda: test_delivery(env),
                             lambda: test_failures(env),
                             lambda: test_sigkill(env, directory, tenants_file),
                             lambda: test_sigterm_in_flight(env, directory, tenants_file),
                             lambda: test_two_dispatchers(env, directory, tenants_file),
                             lambda: test_dead_letters(env, directory, tenants_file, ctl),
                             lambda: test_redis_outage(env),
                             lambda: test_reload(env, directory, tenants_file),
                             lambda: test_wakeup(env, directory, tenants_file),
                             lambda: test_tls_and_redirects(env, directory),
                             lambda: test_unsafe_secret(env, directory),
                             lambda: test_destinations(env, directory, ctl)):
                    receiver.mode.clear()
                    receiver.release.set()
                    with REPORT.case("test ran without an exception"):
                        test()
                d = env["dispatcher"]
                check("dispatcher still running after all of it", d.proc.poll() is None)
                status = d.stop()
                check("dispatcher stopped cleanly on SIGTERM", status == 0 and "info: stopped" in d.log(),
                      f"status {status}\n{d.log()[-1500:]}")
                no_sanitizer_report("dispatcher", d.log())

    def stop_receiver():
        if receiver:
            receiver.stop()
    return REPORT.run_main(body, failure="setup", cleanup=stop_receiver)


if __name__ == "__main__":
    sys.exit(main())
