#!/usr/bin/env python3
"""redis_cluster_test.py — tenantmail-policyd on a real Redis Cluster
(3 masters with a replica each on loopback, [redis] cluster_nodes = ...):

  * two policyd processes count exactly: 100 of 150 permitted for a 100/1h
    tenant, and the tenant's rate key is on the master of its slot;
  * two private Postfix instances ("two hosts": distinct myhostname, long
    queue ids), each with its own policyd, share the cluster: 600
    recipients from one SASL tenant at 500/3m, sent to both at once, give
    exactly 500 accepted by the two together and 100 refused 450 4.7.1;
  * a slot moved by hand under load (CLUSTER SETSLOT MIGRATING/IMPORTING,
    MIGRATE key by key with pauses, so requests meet the migration): the
    processes meet MOVED and ASK or TRYAGAIN (they log the counts when they
    read the slot map again), every answer is DUNNO, the limit's answer or
    the configured fallback, and the tenant whose slot moved gets exactly
    its limit (1500 of its requests permitted, however many it sent);
  * `redis-cli --cluster reshard` of 400 slots under the same kind of load,
    the tenant's slot among them: the same exactness;
  * a master killed (SIGKILL) under load: every request answered within
    redis.timeout plus slack, and permits again once its replica has taken
    over its slots, without a restart;
  * tenantmailctl usage (the blocking client) reads a tenant's count through
    the cluster.

    redis_cluster_test.py PATH/TO/tenantmail-policyd PATH/TO/tenantmailctl
"""

from __future__ import annotations

import binascii
import json
import os
import re
import smtplib
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import mailstack as ms  # noqa: E402
from checks import Report  # noqa: E402
from redis_cluster_group import ClusterGroup  # noqa: E402
from tenantmail_procs import PolicyLoad, Policyd, ask_concurrently  # noqa: E402

REPORT = Report("redis_cluster")
check = REPORT.check

FALLBACK = "DEFER_IF_PERMIT 4.3.0 rate limit service unavailable, try again later"
LIMITED = "DEFER_IF_PERMIT 4.7.1 "
REDIS_TIMEOUT = "250ms"
ANSWER_BOUND = 1.5  # seconds: redis.timeout plus a busy machine's scheduling
MOVING_LIMIT = 1500


def slot_of(key: str) -> int:
    """Redis Cluster's hash slot (CRC16/XMODEM of the hash tag), computed
    here independently of the programs under test."""
    return binascii.crc_hqx(key.encode(), 0) % 16384


def tenant_in(slots: set[int], prefix: str) -> str:
    """A tenant name whose keys ({NAME}) fall in one of slots."""
    for n in range(200000):
        name = f"{prefix}{n}"
        if slot_of(name) in slots:
            return name
    raise ms.MailstackError(f"no tenant name in {len(slots)} slots")


def tenant_block(name: str, rate: str) -> str:
    return (f"[{name}]\ndomains = {name}.example\nsasl_users = {name}\nbulk_rate = {rate}\n"
            f"from_rewrite = {name}@platform.example\n")



def ask_all(processes, login: str, count: int) -> list[str]:
    return ask_concurrently(processes, 3, count,
                            lambda k: {"sasl_username": login, "recipient": f"r{k}@example.org",
                                       "queue_id": f"Q{login}{k}"})


def redirect_counts(processes) -> dict[str, int]:
    """The MOVED/ASK/TRYAGAIN counts the processes logged on reading the
    slot map again."""
    total = {"MOVED": 0, "ASK": 0, "TRYAGAIN": 0}
    for p in processes:
        for m in re.finditer(r"(\d+) MOVED, (\d+) ASK, (\d+) TRYAGAIN", p.log()):
            total["MOVED"] += int(m.group(1))
            total["ASK"] += int(m.group(2))
            total["TRYAGAIN"] += int(m.group(3))
    return total


def exact_under_moves(label: str, processes, login: str, move, expect_ask: bool) -> None:
    """A few requests for login (so its slot has keys to move), then load on
    it while move() moves its slot; then ask until the tenant has had more
    requests answered than its limit: exactly the limit must have been
    permitted, nothing else but the limit's answer or the fallback."""
    seeded = ask_all(processes, login, 50)
    before = redirect_counts(processes)
    load = PolicyLoad(processes, login, pause=0.004).start()
    try:
        time.sleep(0.3)
        move()
        time.sleep(0.5)
    finally:
        results = load.stop()
    check(f"{label}: every request answered", not load.errors, load.errors[:3])
    answers = seeded + [r[3] for r in results]
    while sum(1 for a in answers if a != FALLBACK) < MOVING_LIMIT + 20:
        answers += ask_all(processes, login, 200)
    odd = {a for a in answers if a not in ("DUNNO", FALLBACK) and not a.startswith(LIMITED)}
    check(f"{label}: every answer DUNNO, the limit's or the fallback", not odd, odd)
    permitted = answers.count("DUNNO")
    check(f"{label}: exactly {MOVING_LIMIT} permitted across two processes ({len(answers)} answers, "
          f"{answers.count(FALLBACK)} fallbacks)", permitted == MOVING_LIMIT, permitted)
    after = redirect_counts(processes)
    moved = after["MOVED"] - before["MOVED"]
    asked = after["ASK"] + after["TRYAGAIN"] - before["ASK"] - before["TRYAGAIN"]
    print(f"{label}: {moved} MOVED, {after['ASK'] - before['ASK']} ASK, "
          f"{after['TRYAGAIN'] - before['TRYAGAIN']} TRYAGAIN met", flush=True)
    check(f"{label}: the processes met MOVED", moved > 0, after)
    if expect_ask:  # redis-cli moves a slot of a few keys too fast to be sure of meeting it
        check(f"{label}: and ASK or TRYAGAIN (the slot's keys on both sides)", asked > 0, after)


PASSWORD = "tenant-pw-1"


def two_hosts(directory: str, processes) -> None:
    """Six messages of 100 recipients, three through each host at once."""
    sink = ms.SmtpSink(directory).start()
    hosts = []
    try:
        for i, p in enumerate(processes):
            pf = ms.PrivatePostfix(os.path.join(directory, f"postfix-{i}"), sink.port, policy=p.port,
                                   myhostname=f"mta{i}.platform.example",
                                   extra_main_cf={"enable_long_queue_ids": "yes", "smtpd_soft_error_limit": "1000",
                                                  "smtpd_hard_error_limit": "1000"})
            pf.add_sasl_user("shared", PASSWORD)
            hosts.append(pf.start())
        outcomes: list[dict] = []
        errors: list[str] = []

        def send(pf, n: int):
            recipients = [f"h{n}-{k}@example.org" for k in range(100)]
            body = (f"From: news@shared.example\r\nTo: undisclosed-recipients:;\r\nSubject: m{n}\r\n"
                    f"Message-ID: <m{n}@shared.example>\r\n\r\ntwo hosts\r\n").encode()
            try:
                refused = ms.send_smtp(pf.submission_port, "news@shared.example", recipients, body,
                                       starttls=True, login=("shared", PASSWORD))
            except smtplib.SMTPRecipientsRefused as exc:
                refused = exc.recipients
            except Exception as exc:  # noqa: BLE001 - counted as a failure below
                errors.append(repr(exc))
                return
            outcomes.append({"sent": len(recipients), "refused": refused})
        threads = [threading.Thread(target=lambda n=n: [send(hosts[n % 2], n)]) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        check("two hosts: every message submitted", not errors and len(outcomes) == 6, errors[:2])
        refused = [(code, text.decode(errors="replace")) for o in outcomes for code, text in o["refused"].values()]
        accepted = sum(o["sent"] - len(o["refused"]) for o in outcomes)
        check("two hosts: exactly 500 of 600 recipients accepted by the two Postfix together", accepted == 500,
              f"accepted {accepted}")
        wrong = [r for r in refused if r[0] != 450 or "shared bulk limit 500 per 3m reached" not in r[1]]
        check("two hosts: the other 100 refused 450 4.7.1 with the limit's text", len(refused) == 100 and not wrong,
              f"{len(refused)} refused; {wrong[:2]}")
        queue_ids = [m for pf in hosts for m in re.findall(r"postfix/cleanup\[\d+\]: (\w+): message-id=", pf.log())]
        check("two hosts: both queued mail, with long queue ids",
              all(re.search(r"cleanup\[\d+\]: \w{12,}: message-id=", pf.log()) for pf in hosts), queue_ids)
    finally:
        for pf in hosts:
            pf.stop()
        sink.stop()


def main() -> int:
    if len(sys.argv) != 3:
        print(f"usage: {sys.argv[0]} PATH/TO/tenantmail-policyd PATH/TO/tenantmailctl", file=sys.stderr)
        return 2
    binary, tenantmailctl = (os.path.abspath(a) for a in sys.argv[1:])

    def body():
        with ms.managed_workdir("tm-cluster-") as directory:
            with ClusterGroup(directory, masters=3, replicas_per_master=1) as cluster:
                masters = cluster.master_ports()
                migrate_from = cluster.owner_port("{moving}")
                # The slots `reshard` takes: the source's lowest-numbered ones.
                reshard_from = next(p for p in masters if p != migrate_from)
                resharded = set(sorted(cluster.slots_of(reshard_from))[:400])
                reshard_tenant = tenant_in(resharded, "r")
                tenants_file = os.path.join(directory, "tenants.conf")
                with open(tenants_file, "w") as f:
                    f.write(tenant_block("exact", "100/1h") + tenant_block("moving", f"{MOVING_LIMIT}/1h")
                            + tenant_block(reshard_tenant, f"{MOVING_LIMIT}/1h")
                            + tenant_block("load", "1000000/1h") + tenant_block("after", "100/1h")
                            + tenant_block("shared", "500/3m"))
                lines = cluster.config_lines(timeout=None)
                processes = [Policyd(binary, directory, f"policyd-{i}", 0, tenants_file,
                                     redis_timeout=REDIS_TIMEOUT, redis_lines=lines).start() for i in range(2)]
                try:
                    with REPORT.case("two hosts phase ran"):
                        two_hosts(directory, processes)
                    run_phases(cluster, processes, migrate_from, reshard_from, reshard_tenant, tenantmailctl)
                finally:
                    for p in processes:
                        p.stop()
                for p in processes:
                    log = p.log()
                    check(f"{p.name}: no sanitizer report", "Sanitizer" not in log and "runtime error" not in log,
                          log[-2000:])
    return REPORT.run_main(body, failure="setup")


def run_phases(cluster: ClusterGroup, processes, migrate_from: int, reshard_from: int, reshard_tenant: str,
               tenantmailctl: str) -> None:
    answers = ask_all(processes, "exact", 150)
    check("exactly 100 of 150 permitted across two processes",
          answers.count("DUNNO") == 100 and len(answers) == 150, {a: answers.count(a) for a in set(answers)})
    owner = cluster.owner_port("{exact}")
    check("the tenant's rate key is on the master of its slot",
          cluster.command(owner, "EXISTS", "tm:{exact}:rate:bulk") == 1, owner)

    # A slot moved by hand, key by key, with pauses: the processes send
    # commands while some of the slot's keys are on each side.
    slot = slot_of("moving")
    target = next(p for p in cluster.master_ports() if p != migrate_from)
    exact_under_moves(f"slot {slot} migrated 127.0.0.1:{migrate_from} -> {target}", processes, "moving",
                      lambda: cluster.migrate_slot(slot, target, pause_between_batches=0.3, batch=1),
                      expect_ask=True)
    check("the migrated slot is served by its new master", cluster.owner_port("{moving}") == target,
          cluster.owner_port("{moving}"))

    # redis-cli --cluster reshard of 400 slots, the tenant's among them.
    to = next(p for p in cluster.master_ports() if p != reshard_from)
    exact_under_moves(f"reshard of 400 slots 127.0.0.1:{reshard_from} -> {to}", processes, reshard_tenant,
                      lambda: cluster.reshard(reshard_from, to, 400), expect_ask=False)
    check(f"tenant {reshard_tenant}'s slot moved with the reshard", cluster.owner_port(f"{{{reshard_tenant}}}") == to,
          cluster.owner_port(f"{{{reshard_tenant}}}"))

    # A master killed under load: the load tenant's.
    victim = cluster.owner_port("{load}")
    load = PolicyLoad(processes, "load", pause=0.002).start()
    try:
        time.sleep(0.5)
        cluster.kill_master(victim)
        killed_at = time.monotonic()
        promoted = cluster.wait_failover(victim, timeout=30)
        promoted_at = time.monotonic()
        print(f"failover: 127.0.0.1:{promoted} took the slots of {victim} {promoted_at - killed_at:.1f}s "
              f"after the kill", flush=True)

        def permitting_again():
            return all(any(r[0] == p.name and r[1] > promoted_at and r[3] == "DUNNO" for r in load.results)
                       for p in processes)
        ms.wait_until(permitting_again, 15, "every policyd to permit again after the failover")
    finally:
        results = load.stop()
    check("failover: every request answered", not load.errors, load.errors[:3])
    slowest = max((r[2] for r in results), default=0.0)
    check(f"failover: every answer within {ANSWER_BOUND}s (slowest {slowest:.3f}s)", slowest <= ANSWER_BOUND,
          sorted(r[2] for r in results)[-5:])
    odd = {r[3] for r in results} - {"DUNNO", FALLBACK}
    check("failover: every answer DUNNO or the configured fallback", not odd, odd)
    during = [r for r in results if killed_at <= r[1] <= promoted_at]
    check("failover: the fallback answered while the slots had no master",
          any(r[3] == FALLBACK for r in during), f"{len(during)} answers during the failover")

    answers = ask_all(processes, "after", 150)
    check("after the failover: exactly 100 of 150 permitted", answers.count("DUNNO") == 100,
          {a: answers.count(a) for a in set(answers)})
    usage = subprocess.run([tenantmailctl, "usage", "after", "--json", "-c", processes[0].config],
                           capture_output=True, text=True, timeout=30)
    try:
        data = json.loads(usage.stdout)
        bulk = {c["class"]: c["limits"] for c in data["classes"]}["bulk"][0]
        ok, seen = bulk["count"] == 100, bulk
    except (ValueError, KeyError, IndexError) as exc:
        ok, seen = False, f"{usage.stdout} {usage.stderr} {exc!r}"
    check("tenantmailctl usage (blocking client) reads 100 through the cluster", ok, seen)


if __name__ == "__main__":
    sys.exit(main())
