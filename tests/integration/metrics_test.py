#!/usr/bin/python3
"""Prometheus metrics of the daemons under load: the stack of
events_e2e_test.py (Postfix, milter, policyd, maillog, the bounce pipe,
webhookd, a receiver) with metrics_listen set for the milter, policyd,
maillog and webhookd. Each is scraped (GET /metrics, the text format)
before and after 4 messages of 3 recipients each that the remote side
accepts, and the counters must move by what that load implies:

  milter    4 more signed messages of tenant acme, 4 more signing times,
            its record queue empty again;
  policyd   12 more permits for acme, at least 12 more Redis round trips;
  maillog   12 more outcomes recorded, nothing left to read (lag 0);
  webhookd  12 more delivery events for acme, at least one more batch
            delivered, nothing held undelivered.

Then a login of no tenant sends From the tenant's domain: refused, and
counted for the tenant with reason foreign_sender. Redis is stopped and policyd asked once more: one more
fallback decision and one more Redis outage. Last, a daemon given a
metrics_listen that is not loopback refuses to start, saying why.

Run (as root): metrics_test.py MILTER POLICYD MAILLOG BOUNCE WEBHOOKD
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import events_e2e_test as e2e  # noqa: E402
import mailstack as ms  # noqa: E402

REPORT = e2e.REPORT
REPORT.name = "metrics"
check = REPORT.check
RECIPIENTS = [e2e.OK, e2e.LATER, e2e.FBL]
MESSAGES = 4
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$')


def scrape(port: int) -> dict[tuple[str, frozenset], float]:
    """The samples of http://127.0.0.1:PORT/metrics: (name, labels) -> value."""
    with urllib.request.urlopen(f"http://{ms.LOOPBACK}:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    samples = {}
    for line in text.splitlines():
        m = SAMPLE.match(line)
        if not m or line.startswith("#"):
            continue
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        samples[(m.group(1), labels)] = float(m.group(3))
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    """The sum of name's samples whose labels include labels."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= ls)


def scrape_all(stack) -> dict[str, dict]:
    return {program: scrape(port) for program, port in stack.metrics_ports.items()}


def delta(before: dict, after: dict, daemon: str, name: str, **labels: str) -> float:
    return value(after[daemon], name, **labels) - value(before[daemon], name, **labels)


def run(stack) -> None:
    before = scrape_all(stack)
    check("every daemon serves its metrics", all(before.values()), {p: len(s) for p, s in before.items()})
    queue_ids = []
    for n in range(MESSAGES):
        refused, qid, reply = e2e.submit(stack, RECIPIENTS, e2e.message(f"metrics {n}", RECIPIENTS,
                                                                        f"<metrics-{n}-{os.urandom(4).hex()}@acme.example>"))
        check(f"message {n}: all three recipients accepted and queued", not refused and qid, (refused, reply))
        queue_ids.append(qid)
    deliveries = lambda: [e for e in stack.received() if e["kind"] == "delivery" and e.get("queue_id") in queue_ids]
    e2e.waited(lambda: len(deliveries()) == MESSAGES * len(RECIPIENTS), 60, "the delivery events")
    stack.settle(30)
    after = scrape_all(stack)

    got = delta(before, after, "milter", "tenantmail_milter_messages_total", tenant=e2e.TENANT, result="signed")
    check(f"milter: {MESSAGES} more signed messages for {e2e.TENANT}", got == MESSAGES, got)
    got = delta(before, after, "milter", "tenantmail_milter_signing_seconds_count")
    check(f"milter: {MESSAGES} more signing times", got == MESSAGES, got)
    got = value(after["milter"], "tenantmail_milter_record_queue_depth")
    check("milter: the record queue is empty", got == 0, got)

    recipients = MESSAGES * len(RECIPIENTS)
    got = delta(before, after, "policyd", "tenantmail_policyd_decisions_total", tenant=e2e.TENANT, decision="permit")
    check(f"policyd: {recipients} more permits for {e2e.TENANT}", got == recipients, got)
    got = delta(before, after, "policyd", "tenantmail_redis_round_trip_seconds_count", program="policyd")
    check(f"policyd: at least {recipients} more Redis round trips", got >= recipients, got)

    got = delta(before, after, "maillog", "tenantmail_maillog_outcomes_total", result="recorded")
    check(f"maillog: {recipients} more outcomes recorded", got == recipients, got)
    got = value(after["maillog"], "tenantmail_maillog_lag_bytes")
    check("maillog: nothing left to read (lag 0 bytes)", got == 0, got)

    got = delta(before, after, "webhookd", "tenantmail_webhook_events_total", tenant=e2e.TENANT, kind="delivery")
    check(f"webhookd: {recipients} more delivery events for {e2e.TENANT}", got == recipients, got)
    got = delta(before, after, "webhookd", "tenantmail_webhook_batches_total", tenant=e2e.TENANT, result="delivered")
    check("webhookd: at least one more batch delivered", got >= 1, got)
    got = value(after["webhookd"], "tenantmail_webhook_oldest_undelivered_seconds")
    check("webhookd: nothing held undelivered", got == 0, got)

    # A login of no tenant sending From the tenant's domain: refused, counted.
    before = scrape_all(stack)
    stack.postfix.add_sasl_user("nobody", e2e.PASSWORD)
    try:
        ms.send_smtp(stack.postfix.submission_port, "someone@elsewhere.example", [e2e.OK],
                     e2e.message("no tenant", [e2e.OK], "<none@elsewhere.example>"), starttls=True,
                     login=("nobody", e2e.PASSWORD))
        refused = False
    except Exception as exc:  # noqa: BLE001 - the refusal is the point
        refused = "5.7.1" in str(exc)
    check("a login of no tenant sending From acme.example is refused 5.7.1", refused)
    after = scrape_all(stack)
    got = delta(before, after, "milter", "tenantmail_milter_messages_total", tenant=e2e.TENANT, result="refused",
                reason="foreign_sender")
    check("milter: the refusal counted for acme with reason foreign_sender", got == 1, got)

    # Redis gone: policyd's fallback and the outage.
    stack.redis.stop()
    client = stack.policyd.connect()
    try:
        answer = client.ask(sasl_username=e2e.LOGIN, recipient="late@remote.example")
    finally:
        client.close()
    check("policyd answers the fallback with Redis gone", answer.startswith("DEFER_IF_PERMIT 4.3.0"), answer)
    gone = scrape(stack.metrics_ports["policyd"])
    got = value(gone, "tenantmail_policyd_decisions_total", tenant=e2e.TENANT, decision="fallback") - \
        value(after["policyd"], "tenantmail_policyd_decisions_total", tenant=e2e.TENANT, decision="fallback")
    check("policyd: one more fallback decision", got == 1, got)
    got = value(gone, "tenantmail_redis_outages_total", program="policyd") - \
        value(after["policyd"], "tenantmail_redis_outages_total", program="policyd")
    check("policyd: one more Redis outage", got == 1, got)


def refuses_public_listen(policyd_bin: str, tmp: str) -> None:
    config = os.path.join(tmp, "public-metrics.conf")
    with open(config, "w") as f:
        f.write("[policyd]\nlisten = inet:10025@127.0.0.1\nmetrics_listen = 0.0.0.0:9751\n")
    run_ = subprocess.run([policyd_bin, "-c", config, "--check-config"], capture_output=True, text=True, timeout=30)
    check("metrics_listen on 0.0.0.0 is refused at its line, saying it must be loopback",
          run_.returncode != 0 and "not a loopback address" in run_.stderr and "metrics_listen" in run_.stderr,
          (run_.returncode, run_.stderr[-500:]))


def main() -> int:
    if len(sys.argv) != 6:
        print(f"usage: {sys.argv[0]} MILTER POLICYD MAILLOG BOUNCE WEBHOOKD (paths of the tenantmail programs)",
              file=sys.stderr)
        return 2
    binaries = [os.path.abspath(p) for p in sys.argv[1:6]]

    def body():
        with ms.managed_workdir("tm-metrics-") as tmp:
            stack = e2e.Stack(tmp, *binaries, metrics=True)
            try:
                with REPORT.case("the test ran to the end"):
                    stack.start()
                    run(stack)
            finally:
                stack.stop()
            refuses_public_listen(binaries[1], tmp)
    return REPORT.run_main(body, failure="setup", cleanup=ms.stop_all)


if __name__ == "__main__":
    sys.exit(main())
