#!/usr/bin/env python3
"""redis_sentinel_test.py — tenantmail on a real Redis Sentinel group
(1 master, 2 replicas, 3 sentinels on loopback, [redis] sentinels = ...):

  * three tenantmail-policyd processes find the master through the
    sentinels, and count exactly: 100 of 150 permitted for a 100/1h tenant;
  * under load from all three, the master is killed (SIGKILL). Every request
    is answered, none later than redis.timeout (250ms) plus scheduling slack
    (the test allows 1.5 s), each with DUNNO or the configured fallback;
    after the sentinels promote a replica every process permits again by
    itself, and says it reached the new master;
  * then a planned failover (SENTINEL FAILOVER) under the same load: the
    old master becomes a replica while the processes hold connections to
    it, which stays writable until the sentinels demote it: each process
    asks the sentinels every second, follows within 5 s (it says so), and
    permits again on the new master;
  * after the failovers the exactness test passes again on a fresh tenant
    (100 of 150), and tenantmailctl (the blocking client) reads that count
    from the new master through the sentinels.
  * Counts written to the old master in the last moment before the crash
    may be lost (replication is asynchronous); the test does not count
    across the failover for that reason (README, "Redis Sentinel").

  * tenantmail-webhookd reads the events stream through the sentinels: every
    event written before a crash of the master (and replicated) and every
    event written to the promoted replica afterwards reaches the tenant's
    receiver, signed.

    redis_sentinel_test.py PATH/TO/tenantmail-policyd PATH/TO/tenantmailctl PATH/TO/tenantmail-webhookd
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import mailstack as ms  # noqa: E402
from checks import Report  # noqa: E402
from redis_sentinel_group import SentinelGroup  # noqa: E402
from tenantmail_procs import PolicyLoad, Policyd, Webhookd, ask_concurrently  # noqa: E402
from webhook_receiver import Receiver, write_secret  # noqa: E402

REPORT = Report("redis_sentinel")
check = REPORT.check

FALLBACK = "DEFER_IF_PERMIT 4.3.0 rate limit service unavailable, try again later"
REDIS_TIMEOUT = "250ms"
ANSWER_BOUND = 1.5  # seconds: redis.timeout plus a busy machine's scheduling

TENANTS = """
[before]
domains      = before.example
sasl_users   = before
bulk_rate    = 100/1h
from_rewrite = before@platform.example

[after]
domains      = after.example
sasl_users   = after
bulk_rate    = 100/1h
from_rewrite = after@platform.example

[load]
domains      = load.example
sasl_users   = load
bulk_rate    = 1000000/1h
from_rewrite = load@platform.example
"""


def ask_all(processes, login: str, count: int) -> list[str]:
    """count requests for login over 3 connections per process, concurrently."""
    return ask_concurrently(processes, 3, count,
                            lambda k: {"sasl_username": login, "recipient": f"r{k}@example.org",
                                       "queue_id": f"Q{login}{k}"})



def main() -> int:
    if len(sys.argv) != 4:
        print(f"usage: {sys.argv[0]} PATH/TO/tenantmail-policyd PATH/TO/tenantmailctl PATH/TO/tenantmail-webhookd",
              file=sys.stderr)
        return 2
    binary, tenantmailctl, webhookd_bin = (os.path.abspath(a) for a in sys.argv[1:])
    receiver = None

    def body():
        nonlocal receiver
        with ms.managed_workdir("tm-sentinel-") as directory:
            secret_path, secret = write_secret(directory, "hook")
            receiver = Receiver({"hook": secret}).start()
            tenants_file = os.path.join(directory, "tenants.conf")
            with open(tenants_file, "w") as f:
                f.write(TENANTS + f"\n[hook]\ndomains = hook.example\nfrom_rewrite = hook@platform.example\n"
                        f"webhook_url = {receiver.base}/hook\nwebhook_secret = {secret_path}\n")
            with SentinelGroup(directory, master_name="tm") as group:
                first_master = group.master_port()
                lines = f"sentinels = {group.sentinel_list()}\nmaster_name = tm\n"
                processes = [Policyd(binary, directory, f"policyd-{i}", 0, tenants_file,
                                     redis_timeout=REDIS_TIMEOUT, redis_lines=lines).start() for i in range(3)]
                try:
                    run_phases(group, processes, first_master, tenantmailctl)
                finally:
                    for p in processes:
                        p.stop()
                webhookd = Webhookd(webhookd_bin, directory, "webhookd", 0, tenants_file, redis_lines=lines).start()
                try:
                    with REPORT.case("webhookd phase ran"):
                        webhooks_through_a_crash(group, webhookd, receiver)
                finally:
                    webhookd.stop()
                log = webhookd.log()
                check("webhookd: no sanitizer report", "Sanitizer" not in log and "runtime error" not in log, log[-2000:])
                for p in processes:
                    log = p.log()
                    check(f"{p.name}: no sanitizer report", "Sanitizer" not in log and "runtime error" not in log,
                          log[-2000:])
    def stop_receiver():
        if receiver:
            receiver.stop()
    try:
        return REPORT.run_main(body, failure="setup")
    finally:
        stop_receiver()


def run_phases(group: SentinelGroup, processes, first_master: int, tenantmailctl: str) -> None:
    for p in processes:
        check(f"{p.name}: found the master through the sentinels",
              f"connected to Redis at master tm at 127.0.0.1:{first_master}" in p.log(), p.log()[-1500:])

    answers = ask_all(processes, "before", 150)
    check("before the failover: exactly 100 of 150 permitted across three processes",
          answers.count("DUNNO") == 100 and len(answers) == 150,
          {a: answers.count(a) for a in set(answers)})

    load = PolicyLoad(processes).start()
    time.sleep(1.0)
    killed_at = time.monotonic()
    group.kill_master()
    new_master = group.wait_new_master(first_master)
    promoted_at = time.monotonic()

    def permitting_again():
        with load.lock:
            return all(any(r[0] == p.name and r[1] > promoted_at and r[3] == "DUNNO" for r in load.results)
                       for p in processes)
    try:
        ms.wait_until(permitting_again, 20, "every policyd to permit again after the promotion", interval=0.1)
    except ms.MailstackError:
        pass
    time.sleep(1.0)
    load.stop()
    results = load.results
    check("the load ran without client errors (every request answered)", not load.errors, load.errors[:3])
    during = [r for r in results if r[1] >= killed_at]
    slowest = max((r[2] for r in results), default=0.0)
    check(f"every answer within {ANSWER_BOUND}s during the failover (slowest {slowest:.3f}s, "
          f"{len(during)} requests after the kill)", slowest <= ANSWER_BOUND and len(during) > 0,
          sorted(r[2] for r in results)[-5:])
    odd = {r[3] for r in results} - {"DUNNO", FALLBACK}
    check("every answer DUNNO or the configured fallback", not odd, odd)
    fallbacks = sum(1 for r in during if r[3] == FALLBACK)
    check(f"the fallback answered while there was no master ({fallbacks} times)", fallbacks > 0, fallbacks)
    for p in processes:
        again = [r for r in results if r[0] == p.name and r[1] > promoted_at and r[3] == "DUNNO"]
        check(f"{p.name}: permits again by itself after the promotion", len(again) > 0,
              f"{len(again)} DUNNO after the promotion")
        check(f"{p.name}: says it reached the new master",
              f"master tm at 127.0.0.1:{new_master} is reachable again" in p.log(), p.log()[-1500:])
    print(f"failover: {promoted_at - killed_at:.1f}s from the kill to the promotion; "
          f"{len(during)} requests meanwhile, {fallbacks} answered with the fallback", flush=True)

    # A planned failover: the master is demoted to a replica while every
    # policyd still holds its connection; READONLY answers (or the
    # connection closing) make each ask the sentinels again.
    load = PolicyLoad(processes).start()
    time.sleep(0.5)
    group.manual_failover()
    switched_at = time.monotonic()
    third_master = group.wait_new_master(new_master)
    promoted_at = time.monotonic()
    switched = f"master tm at 127.0.0.1:{third_master} is reachable again"
    try:
        ms.wait_until(lambda: all(switched in p.log() for p in processes), 10,
                      "every policyd to follow SENTINEL FAILOVER", interval=0.05)
    except ms.MailstackError:
        pass
    followed = time.monotonic() - promoted_at
    try:
        ms.wait_until(permitting_again, 20, "every policyd to permit again after SENTINEL FAILOVER", interval=0.1)
    except ms.MailstackError:
        pass
    time.sleep(0.5)
    load.stop()
    results = load.results
    check("SENTINEL FAILOVER: every request answered", not load.errors, load.errors[:3])
    slowest = max((r[2] for r in results), default=0.0)
    check(f"SENTINEL FAILOVER: every answer within {ANSWER_BOUND}s (slowest {slowest:.3f}s)", slowest <= ANSWER_BOUND,
          sorted(r[2] for r in results)[-5:])
    odd = {r[3] for r in results} - {"DUNNO", FALLBACK}
    check("SENTINEL FAILOVER: every answer DUNNO or the configured fallback", not odd, odd)
    for p in processes:
        again = [r for r in results if r[0] == p.name and r[1] > promoted_at and r[3] == "DUNNO"]
        check(f"SENTINEL FAILOVER: {p.name} permits again on the new master", len(again) > 0,
              f"{len(again)} DUNNO after it")
        check(f"SENTINEL FAILOVER: {p.name} moved to master 127.0.0.1:{third_master} by itself",
              switched in p.log(), p.log()[-1500:])
    # The sentinels are asked every second; 5 s leaves room for a busy machine.
    check(f"SENTINEL FAILOVER: all followed within 5 s of the switch ({followed:.1f}s)", followed <= 5, followed)
    print(f"SENTINEL FAILOVER: {promoted_at - switched_at:.1f}s to the switch, "
          f"{followed:.1f}s more until every policyd followed", flush=True)

    answers = ask_all(processes, "after", 150)
    check("after the failover: exactly 100 of 150 permitted across three processes",
          answers.count("DUNNO") == 100 and len(answers) == 150,
          {a: answers.count(a) for a in set(answers)})

    # tenantmailctl asks the sentinels anew, in order: once all name the new
    # master (the stale answer of one that has not heard yet is README's
    # "Redis Sentinel" caveat).
    group.wait_agreed(third_master)
    usage = subprocess.run([tenantmailctl, "usage", "after", "--json", "-c", processes[0].config],
                           capture_output=True, text=True, timeout=30)
    try:
        data = json.loads(usage.stdout)
        bulk = {c["class"]: c["limits"] for c in data["classes"]}["bulk"][0]
        ok, seen = bulk["count"] == 100, bulk
    except (ValueError, KeyError, IndexError) as exc:
        ok, seen = False, f"{usage.stdout} {usage.stderr} {exc!r}"
    check("tenantmailctl usage (blocking client) reads 100 from the new master through the sentinels", ok, seen)


def append_events(port: int, first: int, count: int) -> list[str]:
    """XADDs count events to the hook tenant's stream on the server at port,
    as common/events.cpp stores them; returns their ids."""
    ids, request = [], b""
    for n in range(first, first + count):
        event = {"details": {}, "id": f"{n:032x}", "kind": "delivery", "message_id": f"m{n}",
                 "queue_id": f"4Q{n:06X}", "recipient": f"user{n}@example.net", "tenant": "hook",
                 "timestamp": int(time.time())}
        ids.append(event["id"])
        payload = json.dumps(event, sort_keys=True, separators=(",", ":")).encode()
        args = [b"XADD", b"tm:{hook}:events", b"*", b"event", payload]
        request += b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        with sock.makefile("rb") as f:
            for _ in range(count):
                line = f.readline()
                if not line.startswith(b"$"):
                    raise ms.MailstackError(f"XADD failed: {line!r}")
                f.readline()
    return ids


def webhooks_through_a_crash(group: SentinelGroup, webhookd, receiver) -> None:
    master = group.master_port()
    before = append_events(master, 1, 20)
    receiver.wait_ids(before, 20, "the events written before the crash")
    # Written, replicated to every replica, and not yet read by webhookd
    # maybe: then the master dies.
    pending = append_events(master, 100, 20)
    group.wait_replicated()
    group.kill_master()
    promoted = group.wait_new_master(master)
    after = append_events(promoted, 200, 20)
    try:
        receiver.wait_ids(before + pending + after, 30, "every event, across the crash")
    except ms.MailstackError:
        pass
    delivered = receiver.delivered_ids("hook")
    missing = set(before + pending + after) - set(delivered)
    check(f"webhookd: all 60 events delivered across a crash of the master ({len(delivered)} deliveries, "
          f"{len(delivered) - len(set(delivered))} repeated)", not missing, sorted(missing)[:5])
    check("webhookd: says it reached the promoted master",
          f"master tm at 127.0.0.1:{promoted} is reachable again" in webhookd.log() or
          f"connected to Redis at master tm at 127.0.0.1:{promoted}" in webhookd.log(), webhookd.log()[-1500:])


if __name__ == "__main__":
    sys.exit(main())
