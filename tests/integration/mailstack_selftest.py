#!/usr/bin/python3
"""Self-test of tests/lib/mailstack.py against the real components.

Starts smtp-sink, a private Postfix (no milter) and Redis on 127.0.0.1 in a
temp dir and checks that:
  * mail on the plain port (no AUTH) is relayed to the sink;
  * submission with STARTTLS + AUTH PLAIN is relayed, with the envelope sender
    and the login as Postfix reports it;
  * AUTH without STARTTLS and AUTH with a wrong password are refused and
    nothing reaches the sink;
  * a policy service and a milter given to PrivatePostfix are wired in
    (reload() with a policy that rejects one recipient; a dead milter gives
    a temporary failure: milter_default_action = tempfail);
  * ScriptedSmtpServer answers RCPT per recipient behind Postfix: accepted,
    hard-rejected (Postfix then bounces to the sender) and deferred once
    (delivered on Postfix's retry);
  * smtp_source() and smtp_load() deliver what they report;
  * Redis answers PING, stops, and starts again on the same port.
Prints "mailstack selftest: N passed, M failed" and exits non-zero on any
failure. Everything it starts is stopped by PID.

Run: /usr/bin/python3 tests/integration/mailstack_selftest.py
(TM_KEEP_TMP=1 keeps the temp dir for a post-mortem.)
"""

import os
import re
import socketserver
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import mailstack as ms  # noqa: E402
from checks import Report  # noqa: E402


REPORT = Report("mailstack selftest")
check = REPORT.check


class PolicyHandler(socketserver.StreamRequestHandler):
    """Postfix policy protocol: REJECT one recipient, DUNNO otherwise."""

    def handle(self):
        attrs = {}
        for raw in self.rfile:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if line:
                name, _, value = line.partition("=")
                attrs[name] = value
                continue
            self.server.requests.append(dict(attrs))
            if attrs.get("recipient") == "blocked@example.org":
                action = "REJECT 5.7.1 blocked by selftest policy"
            else:
                action = "DUNNO"
            self.wfile.write(f"action={action}\n\n".encode())
            self.wfile.flush()
            attrs = {}


def start_policy_server():
    srv = socketserver.ThreadingTCPServer((ms.LOOPBACK, 0), PolicyHandler)
    srv.daemon_threads = True
    srv.requests = []
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def check_dkim_roundtrip(tmp, pf, sink):
    import base64
    import subprocess
    try:
        import dkim
    except ImportError as exc:
        check("dkimpy (python3-dkim) importable", False, str(exc))
        return
    key_path = os.path.join(tmp, "selftest-dkim.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                    "rsa_keygen_bits:2048", "-out", key_path], check=True, capture_output=True)
    pub = subprocess.run(["openssl", "pkey", "-in", key_path, "-pubout", "-outform", "DER"],
                         check=True, capture_output=True).stdout
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(pub)
    with open(key_path, "rb") as f:
        key = f.read()
    msg = (b"From: Alice <alice@acme.example>\r\nTo: bob@example.org\r\n"
           b"Subject: dkim  round\r\n  trip\r\nDate: Mon, 23 Nov 2026 08:00:00 +0000\r\n"
           b"Message-ID: <selftest-1@acme.example>\r\n\r\n"
           b"Hello\r\n.one leading dot\r\n..two\r\ntrailing space \r\n\r\n")
    sig = dkim.sign(msg, b"sel", b"acme.example", key, canonicalize=(b"simple", b"simple"),
                    include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
    before = sink.count()
    refused = ms.send_smtp(pf.smtp_port, "alice@acme.example", "bob@example.org", sig + msg)
    got = sink.received(before + 1, timeout=10)[-1]

    def dns(name, timeout=5):
        return record if name == b"sel._domainkey.acme.example." else None
    check("send_smtp + sink: simple/simple DKIM signature verifies on what the sink got",
          refused == {} and got.sender == "alice@acme.example"
          and dkim.verify(got.data, dnsfunc=dns), repr(got.data[-200:]))


def sink_senders(sink):
    return [(m.sender, tuple(m.recipients)) for m in sink.received()]


def run(tmp):
    with ms.SmtpSink(tmp) as sink:
        t0 = time.monotonic()
        pf = ms.PrivatePostfix(tmp, sink.port)
        pf.add_sasl_user("acme-bulk", "s3cret-pw")
        pf.add_sasl_user("tx@acme.example", "other-pw")
        with pf:
            check("postfix started (check clean, both ports listening)",
                  ms.port_open(pf.smtp_port) and ms.port_open(pf.submission_port))
            print(f"     postfix up in {time.monotonic() - t0:.2f}s: smtp={pf.smtp_port} "
                  f"submission={pf.submission_port} relay={sink.port}")

            # 1. plain port, no AUTH
            rc, tr = ms.send_with_swaks(pf.smtp_port, "plain@acme.example",
                                        "rcpt1@example.org", tls=False,
                                        subject="plain port", body="hello from port 25\n")
            check("plain port: swaks succeeds", rc == 0, tr[-500:])
            msgs = sink.received(1, timeout=10)
            check("plain port: message at sink with envelope sender",
                  [(m.sender, m.recipients) for m in msgs]
                  == [("plain@acme.example", ["rcpt1@example.org"])], sink_senders(sink))
            m = msgs[0]
            check("sink dump parsed: headers and body without the sink's own",
                  m.header("Subject") == ["plain port"] and b"hello from port 25\r\n" in m.data
                  and not m.header("X-Mail-Args") and m.data.endswith(b"\r\n"),
                  repr(m.data[:300]))

            # 1b. what the sink stored is byte-exact: a DKIM signature made
            # before Postfix verifies (dkimpy) on the parsed sink message
            check_dkim_roundtrip(tmp, pf, sink)

            # 2. submission: STARTTLS + AUTH PLAIN
            res = ms.send_with_swaks(pf.submission_port, "news@acme.example",
                                     ["rcpt2@example.org", "rcpt3@example.org"],
                                     auth_user="acme-bulk", auth_password="s3cret-pw",
                                     headers={"From": "news@acme.example"},
                                     subject="submission", body="authenticated\n")
            check("submission STARTTLS+AUTH: accepted (250 after DATA)",
                  res.ok and any(r.startswith("250 2.0.0 Ok: queued")
                                 for r in res.server_replies()), res.transcript[-800:])
            msgs = sink.received(3, timeout=10)
            check("submission: message at sink with envelope sender and both recipients",
                  ("news@acme.example", ("rcpt2@example.org", "rcpt3@example.org"))
                  in sink_senders(sink), sink_senders(sink))
            lines = pf.wait_log(r"sasl_method=PLAIN, sasl_username=acme-bulk$")
            check("postfix reports the SASL login exactly as typed", bool(lines))
            rc, tr = ms.send_with_swaks(pf.submission_port, "tx@acme.example",
                                        "rcpt4@example.org", auth_user="tx@acme.example",
                                        auth_password="other-pw")
            check("submission: login with @domain (Cyrus realm) works", rc == 0, tr[-500:])
            sink.wait_for(4, timeout=10)

            # 3. AUTH without STARTTLS: smtpd_tls_auth_only hides AUTH
            rc, tr = ms.send_with_swaks(pf.submission_port, "news@acme.example",
                                        "rcpt5@example.org", tls=False,
                                        auth_user="acme-bulk", auth_password="s3cret-pw")
            res = ms.SwaksResult(rc, tr)
            check("submission AUTH without STARTTLS: AUTH not offered, refused",
                  rc != 0 and "250-STARTTLS" in res.server_replies()
                  and not any(r[4:].startswith("AUTH") for r in res.server_replies()),
                  tr[-600:])
            # and no mail at all without TLS (smtpd_tls_security_level=encrypt)
            rc2, tr2 = ms.send_with_swaks(pf.submission_port, "news@acme.example",
                                          "rcpt5@example.org", tls=False)
            check("submission MAIL without STARTTLS: 530 must issue STARTTLS",
                  rc2 != 0 and "530 5.7.0" in tr2, tr2[-600:])

            # 4. wrong password
            res = ms.send_with_swaks(pf.submission_port, "news@acme.example",
                                     "rcpt6@example.org", auth_user="acme-bulk",
                                     auth_password="wrong")
            check("submission wrong password: 535 5.7.8",
                  not res.ok and any(r.startswith("535 5.7.8") for r in res.server_replies()),
                  res.transcript[-600:])
            # 5. authenticated but relaying without AUTH on submission: refused
            rc, tr = ms.send_with_swaks(pf.submission_port, "news@acme.example",
                                        "rcpt7@example.org")
            check("submission STARTTLS without AUTH: relay refused (554 5.7.1)",
                  rc != 0 and "554 5.7.1" in tr, tr[-600:])
            time.sleep(0.3)
            check("refused sessions delivered nothing",
                  sink.count() == 4 and not any(r in str(sink_senders(sink))
                                                for r in ("rcpt5", "rcpt6", "rcpt7")),
                  sink_senders(sink))

            # 6. load helpers
            proc = ms.smtp_source(pf.smtp_port, sessions=2, messages=4,
                                  sender="load@acme.example", to="load@example.org",
                                  size=2000)
            check("smtp_source: 4 messages over 2 sessions", proc.returncode == 0,
                  proc.stderr.decode()[-300:])
            load = ms.smtp_load(pf.submission_port, 2, 2, "bulk@acme.example",
                                "many@example.org",
                                lambda i, j: (f"From: bulk@acme.example\r\nTo: many@example.org\r\n"
                                              f"Subject: load {i}/{j}\r\n\r\nbody\r\n").encode(),
                                login=("acme-bulk", "s3cret-pw"))
            check("smtp_load: 4 messages over 2 STARTTLS+AUTH sessions",
                  load.sent == 4 and load.failed == 0, load.errors)
            sink.wait_for(12, timeout=15)
            pf.wait_queue_empty(10)
            senders = [s for s, _ in sink_senders(sink)]
            check("load messages reached the sink",
                  senders.count("load@acme.example") == 4
                  and senders.count("bulk@acme.example") == 4, senders)

            # 7. policy service via reload()
            policy = start_policy_server()
            try:
                pf.policy = policy.server_address[1]
                pf.reload()
                res = ms.send_with_swaks(pf.submission_port, "news@acme.example",
                                         ["ok@example.org", "blocked@example.org"],
                                         auth_user="acme-bulk", auth_password="s3cret-pw")
                check("policy: REJECT for one recipient comes back as 554 5.7.1",
                      any("554 5.7.1" in r and "blocked by selftest policy" in r
                          for r in res.server_replies()), res.transcript[-800:])
                msgs = sink.received(13, timeout=10)
                check("policy: the other recipient was delivered",
                      ("news@acme.example", ("ok@example.org",)) in sink_senders(sink),
                      sink_senders(sink))
                req = [r for r in policy.requests if r.get("recipient") == "ok@example.org"]
                check("policy: request carries sasl_username and protocol_state=RCPT",
                      bool(req) and req[0].get("sasl_username") == "acme-bulk"
                      and req[0].get("protocol_state") == "RCPT", req)
            finally:
                policy.shutdown()
                policy.server_close()

            # 8. milter wiring: nothing listens there -> tempfail
            pf.policy = None
            pf.milter = ms.free_port()
            pf.reload()
            rc, tr = ms.send_with_swaks(pf.smtp_port, "plain@acme.example",
                                        "rcpt8@example.org", tls=False)
            check("milter unreachable: 451 4.7.1 (milter_default_action=tempfail)",
                  rc != 0 and "451 4.7.1" in tr, tr[-600:])
            pf.milter = None
            pf.reload()

            # 9. per-recipient answers from ScriptedSmtpServer behind Postfix
            with ms.ScriptedSmtpServer(tmp, rcpt_replies={
                    "gone@example.org": "550 5.1.1 no such user",
                    "later@example.org":
                        lambda rcpt, n: "451 4.2.0 try again later" if n == 1 else None,
            }) as remote:
                pf.set_main_cf(relayhost=f"[{ms.LOOPBACK}]:{remote.port}")
                pf.reload()
                rc, tr = ms.send_with_swaks(pf.smtp_port, "sender@acme.example",
                                            ["fine@example.org", "gone@example.org",
                                             "later@example.org"], tls=False)
                check("scripted: Postfix accepted the message", rc == 0, tr[-500:])
                got = remote.wait_for(3, timeout=20)
                by_rcpt = {}
                for m in got:
                    for r in m.recipients:
                        by_rcpt.setdefault(r, []).append(m)
                check("scripted: accepted recipient delivered at once",
                      "fine@example.org" in by_rcpt)
                check("scripted: deferred recipient delivered on retry",
                      ("later@example.org", "451 4.2.0 try again later") in remote.rcpt_log
                      and "later@example.org" in by_rcpt, remote.rcpt_log)
                bounces = [m for m in got if m.sender == ""]
                check("scripted: hard reject bounced to the sender (null sender)",
                      len(bounces) == 1 and bounces[0].recipients == ["sender@acme.example"]
                      and b"550 5.1.1 no such user" in bounces[0].data,
                      [(m.sender, m.recipients) for m in got])
                check("scripted: rejected recipient never accepted",
                      "gone@example.org" not in by_rcpt)
                check("scripted: dump file parses like smtp-sink's",
                      ms.parse_sink_file(got[0].path).data == got[0].data)
                pf.wait_queue_empty(10)
            expected = ("SASL authentication failure: Password verification failed",
                        "SASL PLAIN authentication failed",
                        "connect to Milter service")
            unexpected = [l for l in pf.log().splitlines()
                          if re.search(r"warning|error|fatal|panic", l)
                          and not any(e in l for e in expected)]
            check("postfix.log: no warnings but the provoked ones", not unexpected,
                  "\n     ".join(unexpected[:10]))
        leftover = ms._group_members(pf.master_pid or 0) if pf.master_pid else []
        check("postfix stopped (no master, no processes left)",
              pf.master_pid is None and not leftover, leftover)
        sink_proc = sink.proc
    check("smtp-sink stopped", sink_proc.poll() is not None)

    # 10. Redis
    redis = ms.RedisServer(tmp)
    with redis:
        check("redis: PING", redis.ping())
        redis.command("SET", "tm:{selftest}:k", "v")
        check("redis: SET/GET", redis.command("GET", "tm:{selftest}:k") == "v")
        port = redis.port
        redis.stop()
        check("redis: stopped, PING fails", not redis.ping())
        redis.start()
        check("redis: started again on the same port, PING",
              redis.port == port and redis.ping())
        check("redis: no persistence (key gone after restart)",
              redis.command("GET", "tm:{selftest}:k") is None)
    check("redis: stopped at exit", not redis.running)


def main():
    def body():
        with ms.managed_workdir("mailstack-selftest-") as tmp:
            run(tmp)
    return REPORT.run_main(body, failure="selftest ran to the end", cleanup=ms.stop_all)


if __name__ == "__main__":
    sys.exit(main())
