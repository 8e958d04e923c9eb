#!/usr/bin/python3
"""Routes per class: policyd's FILTER answer sends each class's mail out
through its own Postfix transport (IP pool).

Starts, on loopback in a temp dir: redis-server, tenantmail-policyd, three
smtp-sinks (the relayhost, pool A, pool B) and a private Postfix whose
master.cf has two pool transports like conf/master.cf.pools: smtp-pool-a
binds 127.0.0.2 and says HELO pool-a.tenantmail.test, smtp-pool-b binds
127.0.0.3 with pool-b.tenantmail.test. Checks that:
  * the tenant's bulk mail (bulk_route = smtp-pool-a:[127.0.0.1]:A) arrives
    only at pool A's sink, from 127.0.0.2 with pool A's HELO;
  * its transactional mail (transactional_route = smtp-pool-b:...) only at
    pool B's sink, from 127.0.0.3 with pool B's HELO;
  * a tenant without routes keeps Postfix's own routing (the relayhost);
  * Postfix logged the FILTER action for each routed message, and policyd
    its route;
  * a refused recipient is still refused (routes apply on permit only).
Prints "policyd_routes: N passed, M failed"; exits non-zero on any failure.

Run (as root): /usr/bin/python3 tests/integration/policyd_routes_test.py \
    PATH/TO/tenantmail-policyd
"""

from __future__ import annotations

import os
import re
import smtplib
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import mailstack as ms  # noqa: E402
from checks import Report  # noqa: E402
from tenantmail_procs import Policyd  # noqa: E402

NAME = "policyd_routes"
REPORT = Report(NAME)
check = REPORT.check
PASSWORD = "route-pw-1"


def tenants(pool_a: int, pool_b: int) -> str:
    return f"""
[pools]
domains             = pools.example
sasl_users          = p-bulk:bulk p-tx:transactional
bulk_rate           = 3/1h
bulk_route          = smtp-pool-a:[127.0.0.1]:{pool_a}
transactional_route = smtp-pool-b:[127.0.0.1]:{pool_b}
from_rewrite        = pools@platform.example

[plain]
domains      = plain.example
sasl_users   = plain-app
from_rewrite = plain@platform.example
"""


def pool_service(name: str, address: str) -> str:
    return (f"{name} unix - - n - - smtp\n"
            f"  -o smtp_bind_address={address}\n"
            f"  -o smtp_helo_name={name.removeprefix('smtp-')}.tenantmail.test\n"
            f"  -o syslog_name=postfix/{name.removeprefix('smtp-')}")


def message(sender: str, subject: str) -> bytes:
    return (f"From: {sender}\r\nTo: r@example.org\r\nSubject: {subject}\r\n"
            f"Date: Mon, 23 Nov 2026 08:00:00 +0000\r\nMessage-ID: <{subject}@tenantmail.test>\r\n\r\n"
            "route test\r\n").encode()


def submit(pf, login: str, sender: str, recipients: list[str], subject: str) -> dict:
    try:
        return ms.send_smtp(pf.submission_port, sender, recipients, message(sender, subject),
                            starttls=True, login=(login, PASSWORD))
    except smtplib.SMTPRecipientsRefused as exc:
        return exc.recipients


def subjects(sink) -> list[tuple[str, str, str]]:
    out = []
    for path in sink.message_paths():
        m = ms.parse_sink_file(path)
        out.append((m.message()["Subject"], m.helo, m.client_addr))
    return sorted(out)


def run(binary: str, directory: str) -> None:
    with ms.RedisServer(directory) as redis, \
            ms.SmtpSink(os.path.join(directory, "relayhost")) as relayhost, \
            ms.SmtpSink(os.path.join(directory, "pool-a")) as sink_a, \
            ms.SmtpSink(os.path.join(directory, "pool-b")) as sink_b:
        tenants_file = os.path.join(directory, "tenants.conf")
        with open(tenants_file, "w") as f:
            f.write(tenants(sink_a.port, sink_b.port))
        with Policyd(binary, directory, "policyd", redis.port, tenants_file, redis_timeout="2s",
                     log_level="debug") as policyd:
            pf = ms.PrivatePostfix(os.path.join(directory, "postfix"), relayhost.port, policy=policyd.port,
                                   extra_services=[pool_service("smtp-pool-a", "127.0.0.2"),
                                                   pool_service("smtp-pool-b", "127.0.0.3")])
            for login in ("p-bulk", "p-tx", "plain-app"):
                pf.add_sasl_user(login, PASSWORD)
            with pf:
                for n in range(3):
                    submit(pf, "p-bulk", "news@pools.example", [f"b{n}@example.org"], f"bulk{n}")
                    submit(pf, "p-tx", "app@pools.example", [f"t{n}@example.org"], f"tx{n}")
                submit(pf, "plain-app", "app@plain.example", ["p@example.org"], "plain0")
                over = submit(pf, "p-bulk", "news@pools.example", ["late@example.org"], "bulk-over")
                check("the fourth bulk recipient is refused by the limit, route or not",
                      over.get("late@example.org", (0,))[0] == 450, repr(over))
                sink_a.wait_for(3, timeout=30)
                sink_b.wait_for(3, timeout=30)
                relayhost.wait_for(1, timeout=30)
                pf.wait_queue_empty(timeout=30)

                got_a, got_b, got_relay = subjects(sink_a), subjects(sink_b), subjects(relayhost)
                check("bulk mail left through pool A only: from 127.0.0.2, HELO pool-a",
                      got_a == [(f"bulk{n}", "pool-a.tenantmail.test", "127.0.0.2") for n in range(3)],
                      repr(got_a))
                check("transactional mail left through pool B only: from 127.0.0.3, HELO pool-b",
                      got_b == [(f"tx{n}", "pool-b.tenantmail.test", "127.0.0.3") for n in range(3)],
                      repr(got_b))
                check("a tenant without routes keeps Postfix's routing (the relayhost)",
                      [s for s, _, _ in got_relay] == ["plain0"], repr(got_relay))
                log = pf.log()
                check("Postfix logged FILTER smtp-pool-a for each bulk message",
                      len(re.findall(rf"triggers FILTER smtp-pool-a:\[127\.0\.0\.1\]:{sink_a.port}", log)) == 3,
                      "\n".join(line for line in log.splitlines() if "FILTER" in line)[-2000:])
                check("and FILTER smtp-pool-b for each transactional one",
                      len(re.findall(rf"triggers FILTER smtp-pool-b:\[127\.0\.0\.1\]:{sink_b.port}", log)) == 3)
                check("Postfix's pool services did the delivery",
                      len(re.findall(r"postfix/pool-a/smtp\[\d+\]: .* status=sent", log)) == 3
                      and len(re.findall(r"postfix/pool-b/smtp\[\d+\]: .* status=sent", log)) == 3)
                check("policyd logged the route of its permits",
                      f"route smtp-pool-a:[127.0.0.1]:{sink_a.port}" in policyd.log(), policyd.log()[-1500:])


def main() -> int:
    if len(sys.argv) != 2:
        print(f"usage: {sys.argv[0]} PATH/TO/tenantmail-policyd", file=sys.stderr)
        return 2
    binary = os.path.abspath(sys.argv[1])

    def body():
        with ms.managed_workdir("tm-policyd-routes-") as directory:
            run(binary, directory)
            log = open(os.path.join(directory, "policyd.log")).read()
            check("no sanitizer report in the policyd log", "Sanitizer" not in log and "runtime error" not in log)
    return REPORT.run_main(body, failure="test ran to the end", cleanup=ms.stop_all)


if __name__ == "__main__":
    sys.exit(main())
