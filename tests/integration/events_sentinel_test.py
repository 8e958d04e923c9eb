#!/usr/bin/python3
"""Events end to end through a Redis Sentinel failover: the stack of
events_e2e_test.py (Postfix, milter, policyd, maillog, the bounce pipe,
webhookd, a signature-checking receiver) with every program in Sentinel
mode on a group of 1 master, 2 replicas and 3 sentinels.

  1  a message to five recipients (3 accepted, one 550, one 450 by the
     remote side) gives one outcome event per recipient, as on one Redis;
  2  a second message is queued and its record replicated; tenantmail-maillog
     is held (SIGSTOP) while Postfix delivers it, the master is killed
     (SIGKILL), and maillog goes on (SIGCONT) while there is no master: it
     must keep its place in the log and record the outcomes once the
     sentinels have promoted a replica; webhookd must deliver them;
  3  a third message after the promotion gives its events too.
  The 550 recipient is suppressed after the first message: policyd refuses
  it in the next two (5.1.1).
  At the end each of the 13 (message, recipient) pairs has exactly one
  outcome event at the receiver, with its message's Message-ID, and the
  receiver has every event of the stream.

Run (as root): events_sentinel_test.py MILTER POLICYD MAILLOG BOUNCE WEBHOOKD
"""

from __future__ import annotations

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import events_e2e_test as e2e  # noqa: E402
import mailstack as ms  # noqa: E402
from checks import Report  # noqa: E402
from redis_sentinel_group import SentinelGroup  # noqa: E402

REPORT = Report("events_sentinel")
check = REPORT.check
RECIPIENTS = list(e2e.FIRST_KIND)


def send(stack, label: str, hard_suppressed: bool) -> tuple[str, str]:
    """The five recipients; after the first message the 550 one is on the
    suppression list, and policyd (through the sentinels) refuses it 5.1.1."""
    message_id = f"<{label}-{os.urandom(6).hex()}@acme.example>"
    refused, qid, reply = e2e.submit(stack, RECIPIENTS, e2e.message(label, RECIPIENTS, message_id))
    if hard_suppressed:
        check(f"{label}: the suppressed recipient refused 5.1.1, the four others accepted, the message queued",
              list(refused) == [e2e.HARD] and "5.1.1" in refused[e2e.HARD][1] and qid is not None,
              f"refused {refused}; DATA reply {reply!r}")
    else:
        check(f"{label}: all five recipients accepted, the message queued", not refused and qid is not None,
              f"refused {refused}; DATA reply {reply!r}")
    if qid is None:
        raise ms.MailstackError(f"{label} was not queued")
    return qid, message_id


def outcomes(stack, qid: str) -> dict[str, list[str]]:
    return e2e.kinds_of([e for e in stack.received() if e["kind"] in e2e.OUTCOME_KINDS], qid)


def wait_outcomes(stack, qid: str, count: int, timeout: float) -> dict[str, list[str]]:
    e2e.waited(lambda: len(outcomes(stack, qid)) == count, timeout, f"the outcome events of {qid}")
    return outcomes(stack, qid)


def run(stack, group: SentinelGroup) -> None:
    expected = {r: [k] for r, k in e2e.FIRST_KIND.items()}
    later = {r: k for r, k in expected.items() if r != e2e.HARD}
    first, first_id = send(stack, "before", False)
    got = wait_outcomes(stack, first, 5, 40)
    check("before the failover: one outcome event per recipient, of the right kind", got == expected, got)

    # The second message: its record written and replicated, then maillog
    # held while Postfix delivers it, so that its outcomes are written while
    # there is no master.
    os.kill(stack.maillog.proc.pid, signal.SIGSTOP)
    try:
        second, second_id = send(stack, "during", True)
        e2e.waited(lambda: stack.redis.command("EXISTS", f"tm:{{{e2e.TENANT}}}:msg:{second}") == 1, 10,
                   "the second message's record")
        group.wait_replicated()
        e2e.waited(lambda: stack.remote.count() >= 2, 30, "the remote side to get the second message")
        e2e.waited(lambda: stack.postfix.log().count(f"{second}: to=<") >= len(later), 30,
                   "Postfix to log every recipient of the second message")
        old = group.master_port()
        group.kill_master()
        killed_at = time.monotonic()
    finally:
        os.kill(stack.maillog.proc.pid, signal.SIGCONT)
    promoted = group.wait_new_master(old)
    e2e.info(f"promoted 127.0.0.1:{promoted} {time.monotonic() - killed_at:.1f}s after the kill")
    got = wait_outcomes(stack, second, 4, 60)
    check("across the failover: the second message's outcomes, written while there was no master, all arrive",
          got == later, got)

    third, third_id = send(stack, "after", True)
    got = wait_outcomes(stack, third, 4, 40)
    check("after the failover: one outcome event per recipient of a new message", got == later,
          {"outcomes": got, "queue id": third, "maillog": stack.maillog.log()[-1500:],
           "milter": stack.milter.log()[-1500:]})

    settled = stack.settle(30)
    received = stack.received()
    check("the receiver has every event of the stream", settled, f"{len(received)} received")
    ids = {first: first_id, second: second_id, third: third_id}
    per_pair = {}
    for e in received:
        if e["kind"] in e2e.OUTCOME_KINDS and e.get("queue_id") in ids:
            per_pair.setdefault((e["queue_id"], e["recipient"]), []).append(e)
    check("each of the 13 (message, recipient) pairs has exactly one outcome event",
          len(per_pair) == 13 and all(len(v) == 1 for v in per_pair.values()),
          {k: len(v) for k, v in per_pair.items() if len(v) != 1} or len(per_pair))
    wrong = [e for v in per_pair.values() for e in v if e.get("message_id") != ids[e["queue_id"]]]
    check("every outcome event carries its message's Message-ID", not wrong, wrong[:2])
    for name, component in (("tenantmail-maillog", stack.maillog), ("tenantmail-webhookd", stack.webhookd),
                            ("tenantmail-milter", stack.milter), ("tenantmail-policyd", stack.policyd)):
        log = component.log()
        check(f"{name}: no sanitizer report", "Sanitizer" not in log and "runtime error" not in log, log[-2000:])
    check("tenantmail-maillog: held its place while there was no master, then went on",
          "holding" in stack.maillog.log() and "continuing" in stack.maillog.log(), stack.maillog.log()[-1500:])


def main() -> int:
    if len(sys.argv) != 6:
        print(f"usage: {sys.argv[0]} MILTER POLICYD MAILLOG BOUNCE WEBHOOKD (paths of the tenantmail programs)",
              file=sys.stderr)
        return 2
    binaries = [os.path.abspath(p) for p in sys.argv[1:6]]

    def body():
        with ms.managed_workdir("tm-events-sentinel-") as tmp:
            with SentinelGroup(tmp, master_name="tm") as group:
                stack = e2e.Stack(tmp, *binaries, group=group)
                try:
                    with REPORT.case("the test ran to the end"):
                        stack.start()
                        run(stack, group)
                finally:
                    stack.stop()
    return REPORT.run_main(body, failure="setup", cleanup=ms.stop_all)


if __name__ == "__main__":
    sys.exit(main())
