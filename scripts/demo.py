#!/usr/bin/python3
"""The tenantmail demo: everything on 127.0.0.1 in a temp dir, stopped at the end.

Tenant "acme" owns careers.uni.example, logs in over SMTP AUTH as acme-bulk
and may send 3 recipients per 3 minutes (a tiny limit, so the demo can hit
it). Another tenant, "beta", owns beta.example. The demo:
  1. sends acme's message with swaks through Postfix's submission port
     (STARTTLS + AUTH); the milter signs it (RSA and Ed25519) and rewrites the
     envelope sender to a signed bounce address; smtp-sink receives it and
     dkimpy (an independent verifier) checks both signatures;
  2. has acme try to send as beta.example: refused 550 5.7.1;
  3. sends to more recipients than acme's limit allows: the policy daemon
     has Postfix defer the surplus with 4.7.1.
Usage: scripts/demo.py BUILD_DIR   (scripts/demo.sh builds and runs it)
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lib"))
import dkim_verify  # noqa: E402
import mailstack as ms  # noqa: E402
import tenantmail_procs as tp  # noqa: E402


def section(title):
    print(f"\n=== {title}", flush=True)


def show_message(data: bytes, limit: int = 30):
    lines = data.decode("utf-8", "replace").split("\r\n")
    for line in lines[:limit]:
        print(f"    | {line}")
    if len(lines) > limit:
        print(f"    | ... ({len(lines) - limit} more lines)")


def start_policyd(binary, files, redis, directory):
    """tenantmail-policyd in the foreground on a loopback port, or None."""
    if not os.path.exists(binary):
        return None, None
    port = ms.free_port()
    config = os.path.join(files.dir, "policyd.conf")
    with open(config, "w") as f:
        f.write(f"tenants_file = {files.tenants_path}\nbounce_secret_file = {files.secret_path}\n"
                f"[redis]\nhost = {ms.LOOPBACK}\nport = {redis.port}\n"
                f"[policyd]\nlisten = inet:{port}@{ms.LOOPBACK}\n")
    log = open(os.path.join(directory, "policyd.log"), "w")
    import subprocess
    proc = subprocess.Popen([binary, "-f", "-c", config], stdout=log, stderr=subprocess.STDOUT)
    ms.wait_until(lambda: ms.port_open(port), 10, "tenantmail-policyd listening")
    return proc, port


def main(build_dir):
    milter_bin = os.path.join(build_dir, "milter", "tenantmail-milter")
    policyd_bin = os.path.join(build_dir, "policyd", "tenantmail-policyd")
    ctl_bin = os.path.join(build_dir, "tenantmailctl", "tenantmailctl")
    with ms.workdir("tenantmail-demo-") as tmp:
        section(f"setting up in {tmp}")
        files = tp.TenantFiles(tmp)
        acme_rsa, acme_ed = files.rsa_key("acme"), files.ed25519_key("acme")
        beta_rsa = files.rsa_key("beta")
        files.bounce_secret()
        files.publish("careers.uni.example", "demo2026", acme_rsa)
        files.publish("careers.uni.example", "demo2026e", acme_ed)
        files.write_tenants({
            "acme": {"domains": "careers.uni.example", "selector": "demo2026", "key": acme_rsa,
                     "ed25519_selector": "demo2026e", "ed25519_key": acme_ed,
                     "bounce_domain": "mta.careers.uni.example", "sasl_users": "acme-bulk:bulk",
                     "bulk_rate": "3/3m"},
            "beta": {"domains": "beta.example", "selector": "beta1", "key": beta_rsa,
                     "bounce_domain": "mta.beta.example", "sasl_users": "beta"},
        })
        milter_port = ms.free_port()
        config = files.write_config(milter_port)
        print(open(files.tenants_path).read().replace(tmp, "$TMP"))

        with ms.SmtpSink(tmp) as sink, ms.RedisServer(tmp) as redis, \
                tp.Milter(milter_bin, config, tmp) as milter:
            policyd, policy_port = start_policyd(policyd_bin, files, redis, tmp)
            try:
                postfix = ms.PrivatePostfix(tmp, sink.port, milter=milter_port, policy=policy_port,
                                            extra_main_cf={"local_header_rewrite_clients": ""})
                postfix.add_sasl_user("acme-bulk", "demo-password")
                with postfix:
                    print(f"Postfix submission (STARTTLS + AUTH) on 127.0.0.1:{postfix.submission_port}, "
                          f"milter on :{milter_port}, policy service on :{policy_port}, "
                          f"Redis on :{redis.port}, smtp-sink on :{sink.port}")
                    run_demo(postfix, sink, files, ctl_bin, milter, policyd is not None)
            finally:
                if policyd is not None:
                    policyd.terminate()
                    policyd.wait(10)
        section("stopped everything; the temp dir is removed")


def run_demo(postfix, sink, files, ctl_bin, milter, with_policyd):
    section("1. acme sends a message (swaks, STARTTLS + AUTH as acme-bulk)")
    result = ms.send_with_swaks(postfix.submission_port, "app@careers.uni.example", "student@example.org",
                                auth_user="acme-bulk", auth_password="demo-password",
                                headers={"From": "Careers Service <careers@careers.uni.example>"},
                                subject="Careers fair next week",
                                body="Dear student,\n\nthe careers fair opens on Monday.\n")
    print(f"    server said: {result.server_replies()[-2]}")
    received = sink.received(1, timeout=15)[0]
    section("what the receiving side (smtp-sink) got")
    print(f"    envelope sender: <{received.sender}>")
    show_message(received.data)
    section("dkimpy's verdict (independent verifier; keys given as the DNS records would be)")
    for verdict in dkim_verify.verify_message(received.data, tp.dns_for(files)):
        print(f"    {verdict.line('message')}")
    import subprocess
    decoded = subprocess.run([ctl_bin, "bounce-decode", received.sender, "--secret", files.secret_path,
                              "--tenants", files.tenants_path],
                             capture_output=True, text=True)
    print(f"    bounce address check: {(decoded.stdout or decoded.stderr).strip()}")
    print(f"    milter log: {milter.wait_log(r'tenant=acme class=bulk')[-1].strip()}")

    section("2. acme tries to send as beta.example (another tenant's domain)")
    result = ms.send_with_swaks(postfix.submission_port, "app@careers.uni.example", "student@example.org",
                                auth_user="acme-bulk", auth_password="demo-password",
                                headers={"From": "ceo@beta.example"}, subject="urgent")
    print(f"    server said: {[r for r in result.server_replies() if r.startswith('5')][-1]}")

    section("3. acme exceeds its rate limit (3 recipients per 3 minutes; 2 counted above: "
            "the refused message's recipient was counted at RCPT, before the milter saw its From)")
    if not with_policyd:
        print("    (tenantmail-policyd is not built; skipped)")
        return
    result = ms.send_with_swaks(postfix.submission_port, "app@careers.uni.example",
                                [f"student{i}@example.org" for i in range(1, 5)],
                                auth_user="acme-bulk", auth_password="demo-password",
                                headers={"From": "careers@careers.uni.example"}, subject="reminder")
    for reply in result.server_replies():
        if "2.1.5" in reply or reply.startswith("4") or "queued" in reply:
            print(f"    server said: {reply}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
