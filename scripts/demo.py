#!/usr/bin/python3
"""The tenantmail demo: everything on 127.0.0.1 in a temp dir, stopped at the end.

Tenant "acme" owns careers.uni.example, logs in over SMTP AUTH as acme-bulk,
has its events posted to a webhook of its own and may send 4 recipients per
3 minutes (a tiny limit, so the demo can hit it). Another tenant, "beta",
owns beta.example. Started: Redis, a private Postfix (submission with
STARTTLS + AUTH, the tenantmail-bounce pipe for acme's bounce domain), every
tenantmail daemon, NSD serving acme's DNS zone, acme's webhook receiver,
and a scripted SMTP server as the receiving side. The demo:
  1. sends acme's message with swaks to two recipients; the milter signs it
     (RSA and Ed25519) and rewrites the envelope sender to a signed bounce
     address; the receiving side takes one recipient and refuses the other
     with 550; dkimpy (an independent verifier) checks both signatures;
  2. has acme try to send as beta.example: refused 550 5.7.1;
  3. sends to more recipients than acme's limit allows: the policy daemon
     has Postfix defer the surplus with 4.7.1;
  4. prints the DNS records acme must publish (tenantmailctl dns records),
     serves them with one mistake (SPF without the platform's include):
     tenantmailctl dns check shows the ✗ line; then fixed: all ✓;
  5. acme's webhook receives a delivery (from Postfix's log), a bounce (the
     550) and a complaint (an ARF report sent to the bounce address), each
     POST's HMAC signature checked as acme's receiver would;
  6. tenantmailctl messages --status failed lists the bounced message.
Any step that does not show what it claims makes the demo exit 1.
Usage: scripts/demo.py BUILD_DIR   (scripts/demo.sh builds and runs it)
"""

import json
import os
import re
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lib"))
import demo_stack as ds  # noqa: E402
import dkim_verify  # noqa: E402
import mailstack as ms  # noqa: E402
import tenantmail_procs as tp  # noqa: E402
from bounce_reports import arf  # noqa: E402

SENDER = "app@careers.uni.example"
READER = "student@example.org"
PROBLEMS = []


def section(title):
    print(f"\n=== {title}", flush=True)


def show(text, prefix="    | "):
    for line in text.rstrip("\n").split("\n"):
        print(f"{prefix}{line}")


def claim(ok, what):
    """A step's evidence: remembered when missing, so the demo exits 1."""
    if not ok:
        PROBLEMS.append(what)
        print(f"    !! not shown: {what}", flush=True)
    return ok


def show_message(data: bytes, limit: int = 30):
    lines = data.decode("utf-8", "replace").split("\r\n")
    show("\n".join(lines[:limit]))
    if len(lines) > limit:
        print(f"    | ... ({len(lines) - limit} more lines)")


def swaks(stack, recipients, headers, subject, body=None):
    return ms.send_with_swaks(stack.postfix.submission_port, SENDER, recipients,
                              auth_user=ds.LOGIN, auth_password=ds.PASSWORD,
                              headers=headers, subject=subject, body=body)


# ---------------------------------------------------------------------------

def step_signed(stack, state):
    section(f"1. acme sends a message to {READER} and {ds.GONE} (swaks, STARTTLS + AUTH as acme-bulk)")
    result = swaks(stack, [READER, ds.GONE], {"From": "Careers Service <careers@careers.uni.example>"},
                   "Careers fair next week", "Dear student,\n\nthe careers fair opens on Monday.\n")
    queued = [r for r in result.server_replies() if "queued as" in r]
    print(f"    server said: {queued[-1] if queued else result.server_replies()[-2:]}")
    claim(queued, "step 1: Postfix queued the message")
    received = stack.remote.wait_for(1, timeout=20)[0]
    state["bounce_address"] = received.sender
    state["queue_id"] = re.search(r"queued as (\w+)", queued[-1]).group(1) if queued else None
    section("what the receiving side got (it refused the second recipient: "
            f"{ds.GONE_REPLY.split(':')[0]})")
    print(f"    envelope sender: <{received.sender}>, recipients: {received.recipients}")
    show_message(received.data)
    section("dkimpy's verdict (independent verifier; keys given as the DNS records would be)")
    verdicts = dkim_verify.verify_message(received.data, tp.dns_for(stack.files))
    for verdict in verdicts:
        print(f"    {verdict.line('message')}")
    claim(len(verdicts) == 2 and all(v.ok for v in verdicts), "step 1: both DKIM signatures pass")
    decoded = stack.ctl_run("bounce-decode", received.sender, "--secret", stack.files.secret_path,
                            "--tenants", stack.files.tenants_path)
    print(f"    bounce address check: {(decoded.stdout or decoded.stderr).strip()}")
    claim(decoded.returncode == 0, "step 1: the bounce address decodes")
    print(f"    milter log: {stack.milter.wait_log(r'tenant=acme class=bulk')[-1].strip()}")


def step_cross_tenant(stack, state):
    section("2. acme tries to send as beta.example (another tenant's domain)")
    result = swaks(stack, READER, {"From": "ceo@beta.example"}, "urgent")
    refusals = [r for r in result.server_replies() if r.startswith("5")]
    print(f"    server said: {refusals[-1] if refusals else result.server_replies()[-2:]}")
    claim(refusals and "5.7.1" in refusals[-1], "step 2: refused with 550 5.7.1")


def step_rate_limit(stack, state):
    section("3. acme exceeds its rate limit (4 recipients per 3 minutes; 3 counted above: the "
            "refused message's recipient was counted at RCPT, before the milter saw its From)")
    result = swaks(stack, [f"student{i}@example.org" for i in range(1, 5)],
                   {"From": "careers@careers.uni.example"}, "reminder")
    replies = [r for r in result.server_replies() if "2.1.5" in r or r.startswith("4") or "queued" in r]
    for reply in replies:
        print(f"    server said: {reply}")
    claim(any(r.startswith("4") and "4.7.1" in r for r in replies), "step 3: the surplus deferred with 4.7.1")


def step_dns(stack, state):
    section("4. the DNS records acme publishes: tenantmailctl dns records acme")
    table = stack.ctl_run("dns", "records", "acme")
    show(table.stdout + table.stderr)
    claim(table.returncode == 0, "step 4: dns records printed")
    zone = stack.ctl_run("dns", "records", "acme", "--format", "zone", "--delegation", "direct")
    records = [line for line in zone.stdout.splitlines() if line and not line.startswith(";")]
    claim(zone.returncode == 0 and records, "step 4: dns records --format zone")
    mistaken = [line.replace(f"include:{ds.SPF_INCLUDE}", "ip4:198.51.100.7") for line in records]
    claim(mistaken != records, "step 4: the zone's SPF record names the platform's include")

    section(f"acme's zone with a mistake (SPF without include:{ds.SPF_INCLUDE}), "
            f"served by NSD on {stack.nsd.address}: tenantmailctl dns check acme")
    wrong = publish_and_check(stack, mistaken, want_exit=1)
    show((wrong.stdout + wrong.stderr).replace(stack.tmp, "$TMP"))
    claim(wrong.returncode == 1 and re.search(r"^✗ SPF", wrong.stdout, re.M), "step 4: dns check shows ✗ SPF")

    section("the zone fixed (records exactly as dns records printed them), NSD reloaded: dns check again")
    right = publish_and_check(stack, records, want_exit=0)
    show((right.stdout + right.stderr).replace(stack.tmp, "$TMP"))
    marks = re.findall(r"^(✓|✗|–) ", right.stdout, re.M)
    claim(right.returncode == 0 and marks and set(marks) == {"✓"}, "step 4: dns check all ✓")


def publish_and_check(stack, records, want_exit):
    """Serve acme's zone with these records; dns check once NSD serves them."""
    stack.nsd.reload({ds.PLATFORM: stack.platform_zone(), ds.DOMAIN: records})
    outcome = {}

    def served():
        outcome["run"] = stack.ctl_run("dns", "check", "acme")
        return outcome["run"].returncode == want_exit
    try:
        ms.wait_until(served, 10, "nsd to serve the new zone", interval=0.2)
    except ms.MailstackError:
        pass  # the caller shows what dns check said
    return outcome["run"]


def step_events(stack, state):
    section("5. acme's webhook: the events tenantmail-webhookd POSTs, each signature checked")
    bounce_address = state["bounce_address"]
    report = arf(bounce_address, bounce_address, READER, f"arf-{os.urandom(4).hex()}@isp.example",
                 message_id_of(stack, state))
    print(f"    an ISP's feedback loop reports {READER}'s complaint (ARF) to <{bounce_address}>")
    refused = ms.send_smtp(stack.postfix.smtp_port, "", bounce_address, report.replace(b"\n", b"\r\n"))
    claim(refused == {}, "step 5: Postfix accepts the ARF report")

    wanted = {("delivery", READER), ("bounce", ds.GONE), ("complaint", READER)}

    def arrived():
        seen = {(e["kind"], e["recipient"]) for e in stack.receiver.events(ds.TENANT)}
        return wanted <= seen
    try:
        ms.wait_until(arrived, 40, "the delivery, bounce and complaint events", interval=0.2)
    except ms.MailstackError as exc:
        print(f"    ({exc})")
    shown = set()
    for timestamp, signature, body in stack.receiver.snapshot():
        valid = ds.signature_valid(stack.webhook_secret, timestamp, body, signature)
        verdict = "signature valid" if valid else "SIGNATURE INVALID"
        print(f"    POST /hook/acme  X-Tenantmail-Signature: {signature[:19]}...  {verdict}")
        for event in json.loads(body).get("events", []):
            details = event.get("details", {})
            why = details.get("dsn") or details.get("status") or details.get("feedback_type") or ""
            print(f"      {event['kind']:<11} {event['recipient']:<24} tenant={event['tenant']:<5} "
                  f"{why:<6} {verdict}")
            if valid and event.get("tenant") == ds.TENANT:
                shown.add((event["kind"], event["recipient"]))
    for kind, recipient in sorted(wanted):
        claim((kind, recipient) in shown, f"step 5: a {kind} event for {recipient} with a valid signature")


def message_id_of(stack, state):
    """The Message-ID the milter recorded for step 1's message."""
    qid = state.get("queue_id")
    value = stack.redis.command("HGET", f"tm:{{{ds.TENANT}}}:msg:{qid}", "message_id") if qid else None
    return (value or "<unknown@careers.uni.example>").strip("<>")


def step_failed(stack, state):
    section("6. tenantmailctl messages --tenant acme --status failed")
    listed = stack.ctl_run("messages", "--tenant", ds.TENANT, "--status", "failed")
    show(listed.stdout + listed.stderr)
    claim(listed.returncode == 0 and ds.GONE in listed.stdout and "failed" in listed.stdout,
          f"step 6: the failed message listed with {ds.GONE}")


STEPS = (step_signed, step_cross_tenant, step_rate_limit, step_dns, step_events, step_failed)


def run(build_dir):
    programs = ds.binaries(build_dir)
    started = time.monotonic()
    with ms.workdir("tenantmail-demo-") as tmp:
        section(f"setting up in {tmp}")
        stack = ds.DemoStack(tmp, programs)
        show(open(stack.files.tenants_path).read().replace(tmp, "$TMP"))
        try:
            stack.start()
            print(f"Postfix submission (STARTTLS + AUTH) on 127.0.0.1:{stack.postfix.submission_port}, "
                  f"milter on :{stack.milter_port}, policy service on :{stack.policyd.port}, "
                  f"Redis on :{stack.redis.port}, NSD on :{stack.nsd.port}, webhook receiver on "
                  f":{stack.receiver.port}, receiving side on :{stack.remote.port}")
            state = {}
            for step in STEPS:
                try:
                    step(stack, state)
                except Exception:
                    traceback.print_exc()
                    claim(False, f"{step.__name__} ran to its end")
        finally:
            stack.stop()
    section(f"stopped everything; the temp dir is removed ({time.monotonic() - started:.0f}s)")


def main(argv):
    if len(argv) != 2:
        sys.exit(__doc__)
    try:
        run(argv[1])
    except ms.MailstackError as exc:
        claim(False, f"the demo could start: {exc}")
    finally:
        ms.stop_all()
    if PROBLEMS:
        print(f"\ndemo: {len(PROBLEMS)} step(s) did not show what they claim:", file=sys.stderr)
        for problem in PROBLEMS:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print("\ndemo: every step showed what it claims")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
