#!/usr/bin/python3
"""Several limits per request, against a real redis-server and TWO
tenantmail-policyd processes sharing it, with concurrent clients on each.

Every limit kind is counted exactly (Redis is the witness):
  * daily quota 40/day across a local midnight: the tenant's time_zone is a
    fixed offset chosen so that its midnight falls ~20s after the test
    starts (the test moves the boundary, not the machine's clock): exactly
    40 of 100 before it, the refusal names the quota and the reset time in
    the tenant's zone, and exactly 40 of 100 again after it, in a new key;
  * monthly quota 30/month the same way (quota_month_start = the local day
    after the boundary, so the month turns at that midnight);
  * a login's own limit beside the tenant's: login 1 (30/1m of its own,
    tenant 50/1m) gets exactly 30 of 100 and its refusals name the login;
    login 2 then gets exactly the 20 the tenant has left;
  * messages mode (20/1m:messages): 30 messages of 3 recipients each, every
    message's recipients on one connection with one Postfix instance
    attribute: exactly 20 messages (60 recipients) permitted, whole;
  * a paused class (tm:{T}:paused): bulk deferred with the reason,
    transactional still permitted, bulk permitted again once cleared;
  * tenantmailctl usage --json shows each limit's count and headroom, the
    quota's reset time, and the pause.

Run: /usr/bin/python3 tests/integration/policyd_limits_test.py \
    PATH/TO/tenantmail-policyd PATH/TO/tenantmailctl
"""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import mailstack as ms  # noqa: E402
from checks import Report  # noqa: E402
from tenantmail_procs import Policyd, ask_concurrently  # noqa: E402

NAME = "policyd_limits"
REPORT = Report(NAME)
check = REPORT.check
COUNTING_TIMEOUT = "2s"
BOUNDARY_AFTER = 20  # seconds from the start to the quota tenants' midnight


def boundary_zone(seconds_ahead: int) -> tuple[str, datetime.datetime, datetime.date]:
    """A UTC+HH:MM:SS offset whose local midnight is seconds_ahead away.
    Returns the zone, the boundary instant (UTC) and the local date it starts."""
    now = time.time()
    boundary = int(now) + seconds_ahead
    # local = utc + offset; local midnight at boundary: offset = -boundary mod 86400.
    offset = (-boundary) % 86400
    if offset > 43200:
        offset -= 86400
    sign = "+" if offset >= 0 else "-"
    magnitude = abs(offset)
    zone = f"UTC{sign}{magnitude // 3600:02d}:{magnitude % 3600 // 60:02d}:{magnitude % 60:02d}"
    boundary_utc = datetime.datetime.fromtimestamp(boundary, datetime.timezone.utc)
    new_day = (boundary_utc + datetime.timedelta(seconds=offset)).date()
    return zone, boundary_utc, new_day


def tenants(zone: str, month_start: int) -> str:
    return f"""
[quota]
domains      = quota.example
sasl_users   = q-app
bulk_rate    = 100000/1h
bulk_quota   = 40/day
time_zone    = {zone}
from_rewrite = quota@platform.example

[month]
domains      = month.example
sasl_users   = m-app
bulk_rate    = 100000/1h
bulk_quota   = 30/month
time_zone    = {zone}
quota_month_start = {month_start}
from_rewrite = month@platform.example

[logins]
domains      = logins.example
sasl_users   = l-app1 l-app2
bulk_rate    = 50/1m
login_limits = l-app1=30/1m l-app1=1000/day
from_rewrite = logins@platform.example

[msgs]
domains      = msgs.example
sasl_users   = msg-app
bulk_rate    = 20/1m:messages 100000/1h
from_rewrite = msgs@platform.example

[pause]
domains      = pause.example
sasl_users   = p-bulk p-tx:transactional
from_rewrite = pause@platform.example
"""


def quota_phase(processes, redis, label: str, zone: str, reset_day: datetime.date):
    """Before the boundary: both quotas end at the coming local midnight."""
    for tenant, login, quota, word in (("quota", "q-app", 40, "daily"), ("month", "m-app", 30, "monthly")):
        answers = ask_concurrently(processes, 4, 100,
                          lambda k: {"sasl_username": login, "recipient": f"{label}-{k}@example.org"})
        permitted = answers.count("DUNNO")
        check(f"{label}: exactly {quota} of 100 permitted by the {word} quota across two processes",
              permitted == quota, f"permitted {permitted}")
        expected = (f"DEFER_IF_PERMIT 4.7.1 {tenant} bulk {word} quota {quota} reached; "
                    f"resets {reset_day.isoformat()} 00:00 {zone}")
        refusals = [a for a in answers if a != "DUNNO"]
        check(f"{label}: every {word} refusal names the quota and when it resets in the tenant's zone",
              refusals and all(a == expected for a in refusals), f"{set(refusals)} vs {expected}")
        keys = redis.command("KEYS", f"tm:{{{tenant}}}:quota:bulk:*")
        counters = {k: int(redis.command("GET", k)) for k in keys}
        check(f"{label}: one {word} counter holding {quota}", list(counters.values()) == [quota], str(counters))


def test_login_limits(processes, redis, ctl):
    answers = ask_concurrently(processes, 4, 100, lambda k: {"sasl_username": "l-app1", "recipient": f"a{k}@example.org"})
    check("login with its own 30/1m: exactly 30 of 100 permitted", answers.count("DUNNO") == 30,
          f"permitted {answers.count('DUNNO')}")
    refusals = set(a for a in answers if a != "DUNNO")
    rx = re.compile(r"^DEFER_IF_PERMIT 4\.7\.1 logins bulk limit 30 per 1m of login l-app1 reached; retry in \d+s$")
    check("its refusals name the login's limit", refusals and all(rx.match(a) for a in refusals), str(refusals))
    answers = ask_concurrently(processes, 4, 100, lambda k: {"sasl_username": "l-app2", "recipient": f"b{k}@example.org"})
    check("another login gets exactly the 20 left of the tenant's 50/1m", answers.count("DUNNO") == 20,
          f"permitted {answers.count('DUNNO')}")
    refusals = set(a for a in answers if a != "DUNNO")
    rx = re.compile(r"^DEFER_IF_PERMIT 4\.7\.1 logins bulk limit 50 per 1m reached; retry in \d+s$")
    check("its refusals name the tenant's limit", refusals and all(rx.match(a) for a in refusals), str(refusals))
    check("the login's own counters hold 30 (window and daily quota)",
          redis.command("ZCARD", "tm:{logins}:rate:bulk:60s:login:l-app1") == 30 and
          [int(redis.command("GET", k)) for k in redis.command("KEYS", "tm:{logins}:quota:bulk:day:*:login:l-app1")]
          == [30])
    text = ctl("usage", "logins")
    check("tenantmailctl usage lists the login's own limits beside the tenant's",
          "logins bulk (login l-app1): 30 of 30 per 1m used (full" in text.stdout and
          "logins bulk: 50 of 50 per 1m used (full" in text.stdout, text.stdout + text.stderr)


def test_messages_mode(processes, redis):
    # Each worker sends whole messages: its recipients in a row, one instance.
    clients = [p.connect() for p in processes for _ in range(3)]
    results: dict[int, list[str]] = {}
    lock = threading.Lock()
    next_message = iter(range(30))

    def run(worker, client):
        while True:
            with lock:
                m = next(next_message, None)
            if m is None:
                return
            answers = [client.ask(sasl_username="msg-app", instance=f"inst.{worker}.{m}",
                                  recipient=f"m{m}-{r}@example.org") for r in range(3)]
            with lock:
                results[m] = answers

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for c in clients:
        c.close()
    whole = [m for m, a in results.items() if a == ["DUNNO"] * 3]
    refused = [m for m, a in results.items() if all(x.startswith("DEFER_IF_PERMIT") for x in a)]
    check("messages mode: 30 messages of 3 answered", len(results) == 30, str(len(results)))
    check("exactly 20 messages permitted, each with all its 3 recipients; 10 refused whole",
          len(whole) == 20 and len(refused) == 10, f"whole {len(whole)} refused {len(refused)}")
    texts = set(x for m in refused for x in results[m])
    rx = re.compile(r"^DEFER_IF_PERMIT 4\.7\.1 msgs bulk limit 20 messages per 1m reached; retry in \d+s$")
    check("refusals name the messages limit", texts and all(rx.match(t) for t in texts), str(texts))
    check("the messages window holds 20, the recipients window 60",
          redis.command("ZCARD", "tm:{msgs}:rate:bulk:messages:60s") == 20 and
          redis.command("ZCARD", "tm:{msgs}:rate:bulk") == 60)


def test_pause(processes, redis, ctl):
    client = processes[0].connect()
    redis.command("HSET", "tm:{pause}:paused", "bulk", "complaint rate 0.41% over 24h")
    bulk = client.ask(sasl_username="p-bulk", recipient="x@example.org")
    check("a paused bulk class is deferred with the reason",
          bulk == "DEFER_IF_PERMIT 4.7.1 pause bulk mail paused: complaint rate 0.41% over 24h", bulk)
    check("transactional mail of the paused tenant still flows",
          client.ask(sasl_username="p-tx", recipient="x@example.org") == "DUNNO")
    usage = ctl("usage", "pause", "--json")
    try:
        classes = {c["class"]: c for c in json.loads(usage.stdout)["classes"]}
        shown = classes["bulk"]["paused"] == "complaint rate 0.41% over 24h" and classes["transactional"]["paused"] is None
    except (ValueError, KeyError) as exc:
        shown = False
        usage = f"{usage.stdout} {usage.stderr} {exc!r}"
    check("tenantmailctl usage --json shows the pause", shown, str(usage))
    redis.command("HDEL", "tm:{pause}:paused", "bulk")
    check("bulk is permitted again once the pause is cleared",
          client.ask(sasl_username="p-bulk", recipient="y@example.org") == "DUNNO")
    client.close()


def check_usage(ctl, zone: str, reset_day: datetime.date):
    usage = ctl("usage", "quota", "--json")
    try:
        data = json.loads(usage.stdout)
        limits = {c["class"]: c["limits"] for c in data["classes"]}
        quota = [l for l in limits["bulk"] if l["period"] == "day"][0]
        ok = (quota["count"] == 40 and quota["headroom"] == 0 and quota["limit"] == 40 and
              quota["resets_local"] == f"{reset_day.isoformat()} 00:00 {zone}" and data["time_zone"] == zone)
    except (ValueError, KeyError, IndexError) as exc:
        ok, data = False, f"{usage.stdout} {usage.stderr} {exc!r}"
    check("tenantmailctl usage --json: daily quota 40 used, headroom 0, reset time in the tenant's zone", ok, str(data))


def main() -> int:
    if len(sys.argv) != 3:
        print(f"usage: {sys.argv[0]} PATH/TO/tenantmail-policyd PATH/TO/tenantmailctl", file=sys.stderr)
        return 2
    binary, tenantmailctl = (os.path.abspath(a) for a in sys.argv[1:])

    def body():
        with ms.managed_workdir("tm-policyd-limits-") as directory:
            zone, boundary, new_day = boundary_zone(BOUNDARY_AFTER)
            tenants_file = os.path.join(directory, "tenants.conf")
            with open(tenants_file, "w") as f:
                f.write(tenants(zone, new_day.day))
            with ms.RedisServer(directory) as redis, \
                    Policyd(binary, directory, "policyd-a", redis.port, tenants_file,
                            redis_timeout=COUNTING_TIMEOUT) as first, \
                    Policyd(binary, directory, "policyd-b", redis.port, tenants_file,
                            redis_timeout=COUNTING_TIMEOUT) as second:
                processes = [first, second]

                def ctl(*args):
                    return subprocess.run([tenantmailctl, *args, "-c", first.config], capture_output=True,
                                          text=True, timeout=30)
                left = (boundary - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
                check("the quota tenants' midnight is still ahead when counting starts", left > 5, f"{left:.1f}s")
                with REPORT.case("quotas before the boundary ran"):
                    quota_phase(processes, redis, "before", zone, new_day)
                    check_usage(ctl, zone, new_day)
                for test in (lambda: test_login_limits(processes, redis, ctl),
                             lambda: test_messages_mode(processes, redis),
                             lambda: test_pause(processes, redis, ctl)):
                    with REPORT.case("test ran without an exception"):
                        test()
                wait = (boundary - datetime.datetime.now(datetime.timezone.utc)).total_seconds() + 1.5
                if wait > 0:
                    time.sleep(wait)
                next_day = new_day + datetime.timedelta(days=1)
                with REPORT.case("quotas after the boundary ran"):
                    # The monthly period now ends a month later: its reset date moves.
                    quota_phase_after(processes, redis, zone, next_day, new_day)
                for p in processes:
                    log = p.log()
                    check(f"{p.name}: no sanitizer report", "Sanitizer" not in log and "runtime error" not in log,
                          log[-2000:])
    return REPORT.run_main(body, failure="setup")


def quota_phase_after(processes, redis, zone: str, next_day: datetime.date, new_day: datetime.date):
    for tenant, login, quota, word in (("quota", "q-app", 40, "daily"), ("month", "m-app", 30, "monthly")):
        answers = ask_concurrently(processes, 4, 100,
                          lambda k: {"sasl_username": login, "recipient": f"after-{k}@example.org"})
        permitted = answers.count("DUNNO")
        check(f"after the boundary: exactly {quota} of 100 permitted again by the {word} quota",
              permitted == quota, f"permitted {permitted}")
        refusals = set(a for a in answers if a != "DUNNO")
        if word == "daily":
            reset = next_day.isoformat()
        else:
            month = new_day.month % 12 + 1
            year = new_day.year + (1 if new_day.month == 12 else 0)
            last = (datetime.date(year + (month == 12), month % 12 + 1, 1) - datetime.timedelta(days=1)).day
            reset = datetime.date(year, month, min(new_day.day, last)).isoformat()
        expected = f"DEFER_IF_PERMIT 4.7.1 {tenant} bulk {word} quota {quota} reached; resets {reset} 00:00 {zone}"
        check(f"after the boundary: the {word} refusal names the next reset", refusals == {expected},
              f"{refusals} vs {expected}")
        counts = sorted(int(redis.command("GET", k)) for k in redis.command("KEYS", f"tm:{{{tenant}}}:quota:bulk:*"))
        check(f"after the boundary: a new {word} counter beside the old one", counts == [quota, quota], str(counts))


if __name__ == "__main__":
    sys.exit(main())
