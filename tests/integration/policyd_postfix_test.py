#!/usr/bin/python3
"""tenantmail-policyd behind a real private Postfix (check_policy_service).

Starts, on 127.0.0.1 in a temp dir: redis-server, tenantmail-policyd, an
smtp-sink as the remote side and a private Postfix whose
smtpd_recipient_restrictions call the policy service; the tenant submits
over the submission port (STARTTLS + SASL AUTH). Checks that:
  * one SASL tenant (limit 500/3m) sending 600 recipients (6 messages x 100)
    has exactly 500 accepted by Postfix and 100 refused with 450 4.7.1 and
    the policy's text; the sink receives exactly those 500;
  * `tenantmailctl usage` reports 500 of 500 used, window full;
  * a recipient added with `tenantmailctl suppression add` (as
    `Gone@Example.org.`) gets 5xx 5.1.1 (and its other recipients pass), and
    so do `gone@example.org.` and `GONE@Example.ORG`, which Postfix would
    deliver to the same mailbox; `suppression list --json` shows it
    normalised (`gone@example.org`) with its reason; after `suppression
    remove` it is accepted again.
Prints "policyd_postfix: N passed, M failed"; exits non-zero on any failure.

Run (as root): /usr/bin/python3 tests/integration/policyd_postfix_test.py \
    PATH/TO/tenantmail-policyd PATH/TO/tenantmailctl
"""

from __future__ import annotations

import json
import os
import re
import smtplib
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)
import mailstack as ms  # noqa: E402
from checks import Report  # noqa: E402
from policyd_redis_test import COUNTING_TIMEOUT  # noqa: E402
from tenantmail_procs import Policyd  # noqa: E402

NAME = "policyd_postfix"
PASSWORD = "tenant-pw-1"

TENANTS = """
[acme]
domains            = acme.example
sasl_users         = acme-bulk:bulk acme-tx:transactional
bulk_rate          = 500/3m
transactional_rate = 120/1m
from_rewrite       = acme@platform.example
"""


REPORT = Report(NAME)
check = REPORT.check


def message(subject: str) -> bytes:
    return (f"From: news@acme.example\r\nTo: undisclosed-recipients:;\r\nSubject: {subject}\r\n"
            f"Date: Mon, 23 Nov 2026 08:00:00 +0000\r\nMessage-ID: <{subject}@acme.example>\r\n\r\n"
            "policy test\r\n").encode()


def submit(pf, login: str, recipients: list[str], subject: str) -> dict:
    """Sends one message; returns {recipient: (code, text)} for the refused ones."""
    try:
        refused = ms.send_smtp(pf.submission_port, "news@acme.example", recipients, message(subject),
                               starttls=True, login=(login, PASSWORD))
    except smtplib.SMTPRecipientsRefused as exc:  # every recipient refused: no DATA
        refused = exc.recipients
    return {r: (code, text.decode(errors="replace")) for r, (code, text) in refused.items()}


def ctl(tenantmailctl: str, config: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([tenantmailctl, *args, "-c", config], capture_output=True, text=True, timeout=30)


def run(binary: str, tenantmailctl: str, directory: str) -> None:
    tenants_file = os.path.join(directory, "tenants.conf")
    with open(tenants_file, "w") as f:
        f.write(TENANTS)
    with ms.RedisServer(directory) as redis, \
            Policyd(binary, directory, "policyd", redis.port, tenants_file,
                    redis_timeout=COUNTING_TIMEOUT) as policyd, \
            ms.SmtpSink(directory) as sink:
        # Many refused recipients in one session: keep smtpd from hanging up
        # after its default 20 errors.
        pf = ms.PrivatePostfix(os.path.join(directory, "postfix"), sink.port, policy=policyd.port,
                               extra_main_cf={"smtpd_soft_error_limit": "1000",
                                              "smtpd_hard_error_limit": "1000"})
        pf.add_sasl_user("acme-bulk", PASSWORD)
        pf.add_sasl_user("acme-tx", PASSWORD)
        with pf:
            # 1. 600 recipients from one SASL tenant: exactly 500 accepted.
            refused: dict = {}
            accepted = 0
            t0 = time.monotonic()
            for n in range(6):
                recipients = [f"r{n}-{i}@example.org" for i in range(100)]
                got = submit(pf, "acme-bulk", recipients, f"bulk{n}")
                refused.update(got)
                accepted += len(recipients) - len(got)
            elapsed = time.monotonic() - t0
            check("600 recipients: exactly 500 accepted by Postfix", accepted == 500, f"accepted {accepted}")
            rx = re.compile(r"^4\.7\.1 <r\d-\d+@example\.org>: Recipient address rejected: "
                            r"acme bulk limit 500 per 3m reached; retry in \d+s$")
            bad = [(r, c, t) for r, (c, t) in refused.items() if c != 450 or not rx.match(t)]
            check("the other 100 refused with 450 4.7.1 and the limit's text",
                  len(refused) == 100 and not bad, f"{len(refused)} refused; unexpected {bad[:2]}")
            print(f"     (6 messages x 100 recipients through Postfix in {elapsed:.1f}s)")
            paths = sink.wait_for(5, timeout=20)
            time.sleep(0.5)
            delivered = sum(len(ms.parse_sink_file(p).recipients) for p in sink.message_paths())
            check("the sink received exactly the 500 accepted recipients", delivered == 500,
                  f"{delivered} in {len(paths)} messages")
            check("Postfix logged the refusals with the policy text",
                  len(re.findall(r"NOQUEUE: reject: RCPT from .*: 450 4\.7\.1 .*acme bulk limit 500 per 3m reached",
                                 pf.log())) == 100)

            # 2. The usage view agrees.
            usage = ctl(tenantmailctl, policyd.config, "usage", "acme", "--json")
            try:
                classes = {c["class"]: c for c in json.loads(usage.stdout)["classes"]}
            except (ValueError, KeyError):
                classes = {}
            bulk = classes.get("bulk", {})
            check("tenantmailctl usage: bulk 500 of 500, full, retry within the window",
                  usage.returncode == 0 and bulk.get("count") == 500 and bulk.get("limit") == 500
                  and bulk.get("window_seconds") == 180 and 0 < (bulk.get("retry_in_seconds") or 0) <= 180
                  and 0 <= (bulk.get("oldest_age_seconds") or -1) < 60,
                  usage.stdout + usage.stderr)
            text = ctl(tenantmailctl, policyd.config, "usage", "acme")
            check("tenantmailctl usage (text) says the window is full",
                  text.returncode == 0 and "acme bulk: 500 of 500 per 3m used (full" in text.stdout,
                  text.stdout + text.stderr)

            # 3. Suppression: 5.1.1 for the suppressed recipient only.
            added = ctl(tenantmailctl, policyd.config, "suppression", "add", "acme", "Gone@Example.org.",
                        "--reason", "hard bounce: 550 5.1.1 user unknown")
            check("tenantmailctl suppression add", added.returncode == 0, added.stdout + added.stderr)
            listed = ctl(tenantmailctl, policyd.config, "suppression", "list", "acme", "--json")
            try:
                entries = json.loads(listed.stdout)["suppressions"]
            except (ValueError, KeyError):
                entries = []
            check("suppression list --json shows the address (lower-cased, no trailing dot), reason and time",
                  len(entries) == 1 and entries[0]["address"] == "gone@example.org"
                  and entries[0]["reason"] == "hard bounce: 550 5.1.1 user unknown"
                  and abs(entries[0]["time"] - time.time()) < 60, listed.stdout + listed.stderr)
            before = sink.count()
            got = submit(pf, "acme-tx", ["gone@example.org", "fine@example.org"], "suppressed")
            code, text = got.get("gone@example.org", (0, ""))
            check("suppressed recipient refused 5xx 5.1.1 naming tenant and reason",
                  500 <= code < 600 and text == "5.1.1 <gone@example.org>: Recipient address rejected: "
                                                "<gone@example.org>: suppressed for tenant acme "
                                                "(hard bounce: 550 5.1.1 user unknown)", f"{code} {text}")
            check("the other recipient of that message was accepted", "fine@example.org" not in got, got)
            msgs = sink.received(before + 1, timeout=15)
            check("and delivered", any(m.recipients == ["fine@example.org"] for m in msgs))
            # Spellings Postfix delivers to the same mailbox.
            spellings = ["gone@example.org.", "GONE@Example.ORG"]
            got = submit(pf, "acme-tx", spellings + ["fine2@example.org"], "spellings")
            for spelling in spellings:
                code, text = got.get(spelling, (0, ""))
                check(f"suppressed recipient spelled <{spelling}> refused 5xx 5.1.1 too",
                      500 <= code < 600 and text.startswith(f"5.1.1 <{spelling}>: Recipient address rejected: ")
                      and "suppressed for tenant acme" in text, f"{code} {text}")
            msgs = sink.received(before + 2, timeout=15)
            check("and only the other recipient of that message was delivered",
                  "fine2@example.org" not in got
                  and any(m.recipients == ["fine2@example.org"] for m in msgs)
                  and not any(r.lower().rstrip(".") == "gone@example.org" for m in msgs for r in m.recipients),
                  f"refused {got}; delivered {[m.recipients for m in msgs if 'fine2@example.org' in m.recipients]}")
            removed = ctl(tenantmailctl, policyd.config, "suppression", "remove", "acme", "gone@example.org")
            check("tenantmailctl suppression remove", removed.returncode == 0 and "removed" in removed.stdout,
                  removed.stdout + removed.stderr)
            again = submit(pf, "acme-tx", ["gone@example.org"], "unsuppressed")
            check("after removal the recipient is accepted", again == {}, again)
            check("policyd logged the suppression refusal",
                  re.search(r"info: NOQUEUE: tenant=acme class=transactional rcpt=<gone@example.org> "
                            r"client=127\.0\.0\.1:\d+: rejected: suppressed \(hard bounce", policyd.log())
                  is not None)
            pf.wait_queue_empty(20)
        log = policyd.log()
        check("no sanitizer report in the policyd log", "Sanitizer" not in log and "runtime error" not in log)


def main() -> int:
    if len(sys.argv) != 3:
        print(f"usage: {sys.argv[0]} PATH/TO/tenantmail-policyd PATH/TO/tenantmailctl", file=sys.stderr)
        return 2
    binary, tenantmailctl = (os.path.abspath(p) for p in sys.argv[1:3])

    def body():
        with ms.managed_workdir("tm-policyd-postfix-") as directory:
            run(binary, tenantmailctl, directory)
    return REPORT.run_main(body, failure="test ran to the end", cleanup=ms.stop_all)


if __name__ == "__main__":
    sys.exit(main())
