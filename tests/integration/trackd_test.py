#!/usr/bin/python3
"""tenantmail-trackd against a real redis-server, checked with curl (and
http.client for keep-alive), tokens minted by tests/tools/tracking_token_tool
under the same secret file, Redis and a webhook receiver as witnesses:
  * pixel: 200, a 43-byte GIF, Cache-Control no-store..., an open event with
    queue id, recipient, user agent and the client address taken from
    X-Forwarded-For (peer 127.0.0.1 is a trusted proxy); a second open
    within the hour: 200 and no second event; a Google image proxy open is
    flagged image_proxy;
  * click: 302 to the token's URL (a ?url= in the request changes nothing),
    a click event with the url; HEAD: 302 too, flagged scanner; a click
    right after sending flagged scanner (scanner window);
  * refusals: forged, truncated, wrong-kind, other-tenant-Host and
    unknown-Host tokens get 404 and add no event; a POST that is not
    One-Click gets 400 and suppresses nothing;
  * unsubscribe: GET /u/ is a page with a POST form carrying One-Click;
    POST List-Unsubscribe=One-Click (urlencoded, and multipart with
    curl -F) gives 200, the suppression entry with reason unsubscribe and
    one unsubscribe event; a repeated POST is 200 and no second event;
  * bounds: keep-alive answers two requests on one connection; header
    fields over 8 KB get 431, a body over 8 KB 413;
  * SIGHUP: a tenant added to the file is served;
  * webhookd delivers the open event to the tenant's receiver;
  * Redis stopped: the pixel and the redirect are still served, the lost
    event is logged, an unsubscribe gets 503; Redis back: events recorded
    again; SIGTERM stops cleanly, no sanitizer report.
Prints "trackd: N passed, M failed"; exits non-zero on any failure.

Run: /usr/bin/python3 tests/integration/trackd_test.py \\
         PATH/TO/tenantmail-trackd PATH/TO/tracking_token_tool PATH/TO/tenantmail-webhookd
(TM_KEEP_TMP=1 keeps the temp dir.)
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import mailstack as ms  # noqa: E402
from checks import Report  # noqa: E402
import tenantmail_procs as tp  # noqa: E402
from tenantmail_procs import Trackd, Webhookd  # noqa: E402
from webhook_receiver import Receiver, write_secret  # noqa: E402

REPORT = Report("trackd")
check = REPORT.check

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
GOOGLE_PROXY = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
ACME_HOST = "click.acme.example"
BETA_HOST = "t.beta.example"
NO_STORE = "no-store, no-cache, must-revalidate, private"
TARGET_URL = "https://www.acme.example/jobs?id=7&utm_source=mail"
CURL = "/usr/bin/curl"


class Env:
    def __init__(self, directory: str, trackd_bin: str, tool: str):
        self.directory = directory
        self.trackd_bin = trackd_bin
        self.tool = tool
        self.secret = os.path.join(directory, "tracking.secret")
        fd = os.open(self.secret, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, os.urandom(32).hex().encode() + b"\n")
        os.close(fd)
        self.redis = None
        self.trackd = None

    def token(self, kind: str, tenant: str = "acme", queue_id: str = "4QTRACK01",
              recipient: str = "reader@example.net", url: str = "", issued_at: int | None = None) -> str:
        issued = int(time.time()) - 3600 if issued_at is None else issued_at
        out = subprocess.run([self.tool, self.secret, kind, tenant, queue_id, recipient, url, str(issued)],
                             capture_output=True, text=True, timeout=10)
        if out.returncode != 0:
            raise ms.MailstackError(f"tracking_token_tool: {out.stderr}")
        return out.stdout.strip()

    def events(self, tenant: str = "acme") -> list[dict]:
        return tp.events(self.redis, tenant)


def curl(env: Env, path: str, *, host: str = ACME_HOST, agent: str = BROWSER, method: str | None = None,
         extra: list[str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One request; (status, lower-cased headers, body)."""
    body_path = os.path.join(env.directory, "curl.body")
    argv = [CURL, "-s", "-S", "--max-time", "10", "-D", "-", "-o", body_path, "-H", f"Host: {host}", "-A", agent]
    if method == "HEAD":
        argv.append("-I")
    elif method:
        argv += ["-X", method]
    argv += (extra or []) + [env.trackd.url(path)]
    out = subprocess.run(argv, capture_output=True, timeout=20)
    if out.returncode != 0:
        raise ms.MailstackError(f"curl failed ({out.returncode}): {out.stderr.decode()}")
    lines = out.stdout.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    body = b""
    if os.path.exists(body_path):
        with open(body_path, "rb") as f:
            body = f.read()
        os.unlink(body_path)
    return status, headers, body


def wait_events(env: Env, count: int, tenant: str = "acme", what: str = "") -> list[dict]:
    """The stream once it holds at least count events (pipelined in order,
    so a later event proves the earlier commands have run)."""
    try:
        return ms.wait_until(lambda: (lambda e: e if len(e) >= count else None)(env.events(tenant)), 5,
                             what or f"{count} events")
    except ms.MailstackError:
        return env.events(tenant)


def sync_click(env: Env) -> dict:
    """A click whose event marks that everything before it reached Redis."""
    before = len(env.events())
    token = env.token("c", url="https://www.acme.example/sync")
    curl(env, f"/c/{token}")
    events = wait_events(env, before + 1, what="the sync click")
    return events[-1] if len(events) > before else {}


def test_pixel(env: Env) -> None:
    token = env.token("o")
    status, headers, body = curl(env, f"/o/{token}", extra=["-H", "X-Forwarded-For: 192.0.2.66, 203.0.113.9"])
    check("pixel: 200", status == 200, status)
    check("pixel: a 43-byte GIF", len(body) == 43 and body.startswith(b"GIF89a") and
          headers.get("content-type") == "image/gif", (len(body), body[:6], headers))
    check("pixel: Cache-Control no-store, no-cache, must-revalidate, private",
          headers.get("cache-control") == NO_STORE, headers)
    events = wait_events(env, 1, what="the open event")
    opens = [e for e in events if e["kind"] == "open"]
    check("pixel: one open event", len(opens) == 1, events)
    if opens:
        e = opens[0]
        check("open event: tenant, queue id, recipient", e["tenant"] == "acme" and e["queue_id"] == "4QTRACK01" and
              e["recipient"] == "reader@example.net", e)
        check("open event: user agent and the rightmost untrusted X-Forwarded-For address",
              e["details"].get("user_agent") == BROWSER and e["details"].get("client_address") == "203.0.113.9", e)
        check("open event: a reader, not flagged", "automated" not in e["details"], e)
    status, _, body = curl(env, f"/o/{token}")
    check("second open within the hour: 200 and the pixel", status == 200 and len(body) == 43, status)
    sync_click(env)
    opens = [e for e in env.events() if e["kind"] == "open"]
    check("second open within the hour: no second event", len(opens) == 1, opens)
    head_status, head_headers, _ = curl(env, f"/o/{token}", method="HEAD")
    check("HEAD pixel: 200 with Content-Length 43",
          head_status == 200 and head_headers.get("content-length") == "43", head_headers)

    proxy_token = env.token("o", recipient="gmail-reader@example.net")
    curl(env, f"/o/{proxy_token}", agent=GOOGLE_PROXY)
    sync_click(env)
    proxied = [e for e in env.events() if e["kind"] == "open" and e["recipient"] == "gmail-reader@example.net"]
    check("Google image proxy open: recorded and flagged image_proxy",
          len(proxied) == 1 and proxied[0]["details"].get("automated") == "image_proxy", proxied)


def test_click(env: Env) -> None:
    token = env.token("c", url=TARGET_URL)
    before = len(env.events())
    status, headers, _ = curl(env, f"/c/{token}?url=https://evil.example/")
    check("click: 302 to the token's URL, whatever the query says",
          status == 302 and headers.get("location") == TARGET_URL, (status, headers))
    check("click: Cache-Control no-store", headers.get("cache-control") == NO_STORE, headers)
    events = wait_events(env, before + 1, what="the click event")
    click = events[-1] if len(events) > before else {}
    check("click event with the url, not flagged",
          click.get("kind") == "click" and click.get("details", {}).get("url") == TARGET_URL and
          "automated" not in click.get("details", {}), click)

    status, headers, _ = curl(env, f"/c/{token}", method="HEAD")
    check("HEAD click: 302 too", status == 302 and headers.get("location") == TARGET_URL, (status, headers))
    events = wait_events(env, before + 2, what="the HEAD click event")
    head = events[-1] if len(events) > before + 1 else {}
    check("HEAD click: recorded, flagged scanner (HEAD request)",
          head.get("details", {}).get("automated") == "scanner" and
          head.get("details", {}).get("automated_reason") == "HEAD request", head)

    fresh = env.token("c", url=TARGET_URL, issued_at=int(time.time()))
    curl(env, f"/c/{fresh}")
    events = wait_events(env, before + 3, what="the early click event")
    early = events[-1] if len(events) > before + 2 else {}
    check("click right after sending: flagged scanner (scanner window)",
          early.get("details", {}).get("automated") == "scanner", early)


def test_script_cache_flushed(env: Env) -> None:
    """EVALSHA meets NOSCRIPT after SCRIPT FLUSH (as after a Redis restart
    or failover): the event is recorded all the same, by EVAL."""
    check("SCRIPT FLUSH", env.redis.command("SCRIPT", "FLUSH") in ("OK", b"OK"))
    click = sync_click(env)
    check("after SCRIPT FLUSH: the click is recorded (EVAL on NOSCRIPT)",
          click.get("details", {}).get("url") == "https://www.acme.example/sync", click)
    check("after SCRIPT FLUSH: trackd logged the reload once",
          env.trackd.log().count("not in Redis's script cache") == 1, env.trackd.log()[-1500:])
    sync_click(env)
    check("the next click goes by EVALSHA again (no second reload)",
          env.trackd.log().count("not in Redis's script cache") == 1, env.trackd.log()[-1500:])


def test_refusals(env: Env) -> None:
    before = len(env.events()) + len(env.events("beta"))
    good = env.token("o")
    flipped = good[:20] + ("A" if good[20] != "A" else "B") + good[21:]
    cases = {
        "forged token": (f"/o/{flipped}", ACME_HOST),
        "truncated token": (f"/o/{good[:-4]}", ACME_HOST),
        "token of another kind (open token on /c/)": (f"/c/{good}", ACME_HOST),
        "token of another tenant than the Host's": (f"/o/{env.token('o', tenant='beta')}", ACME_HOST),
        "unknown Host": (f"/o/{good}", "unknown.example"),
        "Host of another tenant (click)": (f"/c/{env.token('c', url=TARGET_URL)}", BETA_HOST),
        "unknown path": ("/favicon.ico", ACME_HOST),
    }
    for name, (path, host) in cases.items():
        status, headers, _ = curl(env, path, host=host)
        check(f"{name}: 404 without a Location", status == 404 and "location" not in headers, (status, headers))
    mailto = env.token("c", url="javascript:alert(1)")
    status, headers, _ = curl(env, f"/c/{mailto}")
    check("click token with a javascript: URL: 404, no redirect", status == 404 and "location" not in headers, status)
    sync_click(env)
    after = len(env.events()) + len(env.events("beta"))
    check("refused requests recorded no event", after == before + 1, f"{before} -> {after}")


def test_unsubscribe(env: Env) -> None:
    token = env.token("u", recipient="Leaver@Example.NET")
    status, headers, body = curl(env, f"/u/{token}")
    page = body.decode("utf-8", "replace")
    check("GET /u/: 200, an HTML page with a POST form carrying One-Click",
          status == 200 and headers.get("content-type", "").startswith("text/html") and
          f'<form method="post" action="/u/{token}"' in page and
          'name="List-Unsubscribe" value="One-Click"' in page, (status, page[:400]))
    check("GET /u/ suppresses nothing", env.redis.command("HLEN", "tm:{acme}:suppressed") == 0)

    status, _, _ = curl(env, f"/u/{token}", method="POST", extra=["--data", "x=y"])
    check("POST that is not One-Click: 400, nothing suppressed",
          status == 400 and env.redis.command("HLEN", "tm:{acme}:suppressed") == 0, status)

    before = len(env.events())
    status, _, _ = curl(env, f"/u/{token}", method="POST", extra=["--data", "List-Unsubscribe=One-Click"])
    check("One-Click POST (urlencoded): 200", status == 200, status)
    entry = env.redis.command("HGET", "tm:{acme}:suppressed", "leaver@example.net")
    reason = json.loads(entry).get("reason") if entry else None
    check("recipient suppressed with reason unsubscribe at once", reason == "unsubscribe", entry)
    events = env.events()[before:]
    check("one unsubscribe event", [e["kind"] for e in events] == ["unsubscribe"] and
          events[0]["recipient"] == "Leaver@Example.NET", events)
    status, _, _ = curl(env, f"/u/{token}", method="POST", extra=["--data", "List-Unsubscribe=One-Click"])
    check("repeated One-Click POST: 200, no second event", status == 200 and len(env.events()) == before + 1,
          status)

    multi = env.token("u", recipient="form@example.net")
    status, _, _ = curl(env, f"/u/{multi}", method="POST", extra=["-F", "List-Unsubscribe=One-Click"])
    entry = env.redis.command("HGET", "tm:{acme}:suppressed", "form@example.net")
    check("One-Click POST as multipart/form-data: 200 and suppressed",
          status == 200 and entry and json.loads(entry)["reason"] == "unsubscribe", (status, entry))

    nobody = env.token("u", recipient="")
    status, _, _ = curl(env, f"/u/{nobody}", method="POST", extra=["--data", "List-Unsubscribe=One-Click"])
    check("unsubscribe token without a single recipient: 404", status == 404, status)


def test_bounds(env: Env) -> None:
    token = env.token("o", recipient="keepalive@example.net")
    conn = http.client.HTTPConnection("127.0.0.1", env.trackd.port, timeout=10)
    statuses = []
    for _ in range(2):
        conn.request("GET", f"/o/{token}", headers={"Host": ACME_HOST, "User-Agent": BROWSER})
        response = conn.getresponse()
        response.read()
        statuses.append(response.status)
    conn.close()
    check("keep-alive: two requests on one connection", statuses == [200, 200], statuses)

    status, _, _ = curl(env, f"/o/{token}", extra=["-H", "X-Big: " + "a" * 9000])
    check("header fields over 8 KB: 431", status == 431, status)
    big = os.path.join(env.directory, "big.body")
    with open(big, "w") as f:
        f.write("List-Unsubscribe=One-Click&pad=" + "p" * 9000)
    status, _, _ = curl(env, f"/u/{env.token('u')}", method="POST", extra=["--data-binary", f"@{big}"])
    check("body over 8 KB: 413", status == 413, status)

    # request_timeout (2s here) bounds each request, the idle wait before
    # it included; bytes trickling in do not extend it.
    def closed_after(send_slowly) -> float | None:
        with socket.create_connection(("127.0.0.1", env.trackd.port), timeout=10) as s:
            start = time.monotonic()
            try:
                send_slowly(s)
                s.settimeout(max(0.1, 8 - (time.monotonic() - start)))
                while s.recv(4096):
                    pass
            except socket.timeout:
                return None  # still open after 8 s
            except ConnectionError:
                pass  # reset: closed as well
            return time.monotonic() - start

    idle = closed_after(lambda s: None)
    check("an idle connection is closed after request_timeout (2s)", idle is not None and 1.5 <= idle <= 4, idle)

    def trickle(s: socket.socket) -> None:
        s.sendall(b"GET /o/" + token.encode() + b" HTTP/1.1\r\nHost: " + ACME_HOST.encode() + b"\r\n")
        for i in range(12):
            time.sleep(0.5)
            try:
                s.sendall(b"X-Slow-%d: 1\r\n" % i)
            except OSError:
                return
    slow = closed_after(trickle)
    check("a request trickling in one field every 0.5s is closed after request_timeout (2s)",
          slow is not None and 1.5 <= slow <= 4, slow)
    statuses = []
    conn = http.client.HTTPConnection("127.0.0.1", env.trackd.port, timeout=10)
    for _ in range(3):
        time.sleep(1.2)
        conn.request("GET", f"/o/{token}", headers={"Host": ACME_HOST, "User-Agent": BROWSER})
        response = conn.getresponse()
        response.read()
        statuses.append(response.status)
    conn.close()
    check("keep-alive requests 1.2s apart: each within its own request_timeout, all answered",
          statuses == [200, 200, 200], statuses)


def test_reload(env: Env, tenants_file: str, tenants_text: str) -> None:
    token = env.token("o", tenant="gamma")
    status, _, _ = curl(env, f"/o/{token}", host="t.gamma.example")
    check("before SIGHUP: a tenant not yet in the file gets 404", status == 404, status)
    with open(tenants_file, "w") as f:
        f.write(tenants_text + "[gamma]\ndomains = gamma.example\nfrom_rewrite = gamma@platform.example\n"
                "tracking_domain = t.gamma.example\n")
    n = env.trackd.count(r"info: reloaded: ")
    env.trackd.proc.send_signal(1)
    ms.wait_until(lambda: env.trackd.count(r"info: reloaded: ") > n, 10, "the reload")
    status, _, _ = curl(env, f"/o/{token}", host="t.gamma.example")
    check("after SIGHUP: the new tenant's pixel is served", status == 200, status)


def test_webhook(receiver: Receiver) -> None:
    try:
        ms.wait_until(lambda: any(e["kind"] == "open" for e in receiver.events("acme")), 15, "an open webhook")
    except ms.MailstackError:
        pass
    opens = [e for e in receiver.events("acme") if e["kind"] == "open"]
    check("webhookd delivered the open event to the tenant's receiver, signed",
          bool(opens) and opens[0]["details"].get("client_address") == "203.0.113.9" and not receiver.bad,
          (opens[:1], receiver.bad[:3]))


def test_redis_outage(env: Env) -> None:
    env.redis.stop()
    token = env.token("o", recipient="outage@example.net")
    status, _, body = curl(env, f"/o/{token}")
    check("Redis stopped: the pixel is still served", status == 200 and len(body) == 43, status)
    status, headers, _ = curl(env, f"/c/{env.token('c', url=TARGET_URL)}")
    check("Redis stopped: the redirect is still served", status == 302 and headers.get("location") == TARGET_URL,
          status)
    try:
        ms.wait_until(lambda: env.trackd.count(r"warning: open event lost: tenant acme, queue id 4QTRACK01, "
                                               r"recipient outage@example\.net") >= 1, 5, "the lost-event line")
    except ms.MailstackError:
        pass
    check("Redis stopped: the lost open event is logged with tenant, queue id and recipient",
          env.trackd.count(r"warning: open event lost: tenant acme, queue id 4QTRACK01, "
                           r"recipient outage@example\.net") >= 1, env.trackd.log()[-1500:])
    status, headers, _ = curl(env, f"/u/{env.token('u', recipient='retry@example.net')}", method="POST",
                              extra=["--data", "List-Unsubscribe=One-Click"])
    check("Redis stopped: One-Click POST gets 503 with Retry-After", status == 503 and "retry-after" in headers,
          (status, headers))
    env.redis.start()
    n = env.trackd.count("connected to Redis")

    def recorded():
        curl(env, f"/o/{env.token('o', recipient='after@example.net')}")
        return any(e["recipient"] == "after@example.net" for e in env.events())
    try:
        ms.wait_until(recorded, 15, "an open recorded after Redis came back", interval=0.5)
    except ms.MailstackError:
        pass
    check("Redis back: events are recorded again", any(e["recipient"] == "after@example.net" for e in env.events()),
          env.trackd.log()[-800:])
    del n


def scrape_metrics(port: int) -> dict[str, float]:
    """trackd's /metrics: 'name{labels}' -> value."""
    import urllib.request
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, number = line.rpartition(" ")
            samples[name] = float(number)
    return samples


def metrics_agree(scraped: dict[str, float], log: str) -> None:
    """The Prometheus counters against the counts of trackd's stop line (the
    same events counted on their own path)."""
    m = re.search(r"stopping on signal \d+: \d+ requests, (\d+) opens, (\d+) clicks, (\d+) unsubscribes, "
                  r"(\d+) not found, (\d+) events recorded, (\d+) repeated opens, (\d+) events lost", log)
    check("trackd logged its counts when stopping", m is not None, log[-800:])
    if m is None:
        return
    expected = {
        'tenantmail_trackd_requests_total{result="open"}': m.group(1),
        'tenantmail_trackd_requests_total{result="click"}': m.group(2),
        'tenantmail_trackd_requests_total{result="unsubscribe"}': m.group(3),
        'tenantmail_trackd_requests_total{result="not_found"}': m.group(4),
        'tenantmail_trackd_events_total{result="recorded"}': m.group(5),
        'tenantmail_trackd_events_total{result="repeated_open"}': m.group(6),
        'tenantmail_trackd_events_total{result="lost"}': m.group(7),
    }
    wrong = {k: (scraped.get(k), v) for k, v in expected.items() if scraped.get(k) != float(v)}
    check("metrics: trackd's request and event counters equal its stop line's counts", not wrong, wrong)
    check("metrics: some opens, clicks and recorded events were counted",
          all(float(expected[k]) > 0 for k in list(expected)[:2] + [list(expected)[4]]), expected)
    rounds = scraped.get('tenantmail_redis_round_trip_seconds_count{program="trackd"}', 0)
    check("metrics: trackd's Redis round trips are counted", rounds >= float(m.group(5)), rounds)


def main() -> int:
    if len(sys.argv) != 4:
        print(f"usage: {sys.argv[0]} PATH/TO/tenantmail-trackd PATH/TO/tracking_token_tool "
              "PATH/TO/tenantmail-webhookd", file=sys.stderr)
        return 2
    trackd_bin, tool, webhookd_bin = (os.path.abspath(a) for a in sys.argv[1:4])
    receiver = None

    def body():
        nonlocal receiver
        with ms.managed_workdir("tm-trackd-") as directory:
            env = Env(directory, trackd_bin, tool)
            acme_secret_path, acme_secret = write_secret(directory, "acme")
            receiver = Receiver({"acme": acme_secret}).start()
            tenants_text = (f"[acme]\ndomains = acme.example\nfrom_rewrite = acme@platform.example\n"
                            f"tracking_domain = {ACME_HOST}\nwebhook_url = {receiver.base}/acme\n"
                            f"webhook_secret = {acme_secret_path}\n\n"
                            f"[beta]\ndomains = beta.example\nfrom_rewrite = beta@platform.example\n"
                            f"tracking_domain = {BETA_HOST}\n\n")
            tenants_file = os.path.join(directory, "tenants.conf")
            with open(tenants_file, "w") as f:
                f.write(tenants_text)
            with ms.RedisServer(directory) as redis:
                env.redis = redis
                metrics_port = ms.free_port()
                env.trackd = Trackd(trackd_bin, directory, "trackd", redis.port, tenants_file, env.secret,
                                    request_timeout="2s", metrics_listen=f"127.0.0.1:{metrics_port}").start()
                webhookd = Webhookd(webhookd_bin, directory, "webhookd", redis.port, tenants_file).start()
                for test in (lambda: test_pixel(env), lambda: test_click(env),
                             lambda: test_script_cache_flushed(env), lambda: test_refusals(env),
                             lambda: test_unsubscribe(env), lambda: test_bounds(env),
                             lambda: test_webhook(receiver),
                             lambda: test_reload(env, tenants_file, tenants_text),
                             lambda: test_redis_outage(env)):
                    with REPORT.case("test ran without an exception"):
                        test()
                webhookd.stop()
                t = env.trackd
                check("trackd still running after all of it", t.proc.poll() is None)
                with REPORT.case("metrics scraped"):
                    scraped = scrape_metrics(metrics_port)
                status = t.stop()
                log = t.log()
                with REPORT.case("metrics compared with the stop line"):
                    metrics_agree(scraped, log)
                check("trackd stopped cleanly on SIGTERM", status == 0 and "info: stopped" in log,
                      f"status {status}\n{log[-1500:]}")
                check("no sanitizer report in the log", "Sanitizer" not in log and "runtime error" not in log,
                      log[-3000:])

    def stop_receiver():
        if receiver:
            receiver.stop()
    return REPORT.run_main(body, failure="setup", cleanup=stop_receiver)


if __name__ == "__main__":
    sys.exit(main())
