#!/usr/bin/python3
"""Open/click tracking and one-click unsubscribe end to end, through real
components on 127.0.0.1 in a temp dir: a private Postfix (submission with
SASL, the milter, the policy service), tenantmail-milter, tenantmail-trackd
behind nginx terminating TLS for the tracking domain (as conf/ ships it),
tenantmail-policyd, tenantmail-webhookd and the tenant's webhook receiver,
one redis-server; smtp-sink as the receiving side.

Usage: tracking_e2e_test.py MILTER TRACKD POLICYD WEBHOOKD TENANTMAILCTL BOUNCE

  1  a tracked HTML message arrives with rewritten links, pixel and
     List-Unsubscribe; dkimpy verifies it;
  2  headless Chromium opens the delivered HTML (the tracking domain
     resolved to nginx): trackd serves the pixel and records an open, and
     the tenant's webhook receives it with the message's Message-ID and
     recipient; following a link with curl and with Chromium: 302 to the
     original URL (Chromium lands on that page), a click webhook with the
     URL; `tenantmailctl message QID` lists the open and the click;
  3  forged, truncated and replayed-for-another-tenant tokens (another
     tenant's tracking domain in the Host): 404, and no event;
  4  the One-Click POST of the List-Unsubscribe URL: 200, the recipient is
     on the tenant's suppression list with reason unsubscribe, an
     unsubscribe webhook, and the next RCPT to them is refused 5.1.1 by
     policyd (554, Postfix's access_map_reject_code);
  5  the mailto: form of a second recipient's List-Unsubscribe, handed to
     tenantmail-bounce as Postfix's pipe transport would (bounce_test.py
     routes it through Postfix): the same suppression, webhook and 5.1.1.
Prints one "ok"/"FAIL" line per check; exits non-zero on any failure.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import os
import quopri
import re
import smtplib
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import dkim_verify  # noqa: E402
import mailstack as ms  # noqa: E402
from checks import Report  # noqa: E402
import tenantmail_procs as tp  # noqa: E402
from webhook_receiver import Receiver, write_secret  # noqa: E402

REPORT = Report("tracking end to end")
check = REPORT.check
PASSWORD = "pw-" + os.urandom(6).hex()
CURL = "/usr/bin/curl"
CHROMIUM = "/usr/bin/chromium"
NGINX = "/usr/sbin/nginx"
ACME_HOST = "click.acme.example"
BETA_HOST = "t.beta.example"
LANDING_HOST = "jobs.acme.example"
OFFER = f"https://{LANDING_HOST}/offer?id=7&src=mail"
HTML = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Offer</title></head><body>\n"
        "<p>Dear student, a new offer:</p>\n"
        f"<p><a id=\"offer\" href=\"{OFFER.replace('&', '&amp;')}\">See the offer</a></p>\n"
        "</body></html>\n")


def info(text: str) -> None:
    print(f"     {text}", flush=True)


def shipped_trackd_conf(trackd_port: int, https_port: int, http_port: int, cert: str, key: str) -> str:
    """conf/nginx-trackd.conf on loopback ports, for our hosts and certificate."""
    with open(os.path.join(TOP, "conf", "nginx-trackd.conf")) as f:
        text = f.read()
    names = f"{ACME_HOST} {BETA_HOST}"
    for old, new in (("server 127.0.0.1:8025;", f"server 127.0.0.1:{trackd_port};"),
                     ("    listen 443 ssl http2;\n", f"    listen 127.0.0.1:{https_port} ssl http2;\n"),
                     ("    listen [::]:443 ssl http2;\n", ""),
                     ("    listen 80;\n", f"    listen 127.0.0.1:{http_port};\n"),
                     ("    listen [::]:80;\n", ""),
                     ("/etc/ssl/tenantmail-tracking/fullchain.pem", cert),
                     ("/etc/ssl/tenantmail-tracking/privkey.pem", key)):
        if old not in text:
            raise ms.MailstackError(f"conf/nginx-trackd.conf no longer has {old.strip()!r}")
        text = text.replace(old, new)
    if text.count("server_name click.careers.uni.ac.uk click.example.org;") != 2:
        raise ms.MailstackError("conf/nginx-trackd.conf: expected two server_name lines of the example names")
    return text.replace("server_name click.careers.uni.ac.uk click.example.org;", f"server_name {names};")


class Nginx(ms.ManagedProcess):
    """nginx in the foreground with its own prefix, serving the shipped
    conf/nginx-trackd.conf with only its addresses, names and certificate
    put in (each replacement must match, so a changed snippet fails here
    rather than in production), and the landing page."""

    def __init__(self, directory: str, trackd_port: int):
        self.dir = os.path.join(directory, "nginx")
        os.makedirs(os.path.join(self.dir, "logs"), exist_ok=True)
        super().__init__(os.path.join(self.dir, "logs", "stderr.log"))
        self.port = ms.free_port()
        cert, key = os.path.join(self.dir, "cert.pem"), os.path.join(self.dir, "key.pem")
        ms.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                f"/CN={ACME_HOST}", "-addext", f"subjectAltName=DNS:{ACME_HOST},DNS:{BETA_HOST},DNS:{LANDING_HOST}",
                "-keyout", key, "-out", cert], timeout=60)
        self.conf = os.path.join(self.dir, "nginx.conf")
        snippet = os.path.join(self.dir, "nginx-trackd.conf")
        with open(snippet, "w") as f:
            self.http_port = ms.free_port()
            f.write(shipped_trackd_conf(trackd_port, self.port, self.http_port, cert, key))
        with open(self.conf, "w") as f:
            f.write(f"""daemon off;
master_process off;
pid {self.dir}/nginx.pid;
error_log {self.dir}/logs/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {self.dir}/logs/access.log;
    client_body_temp_path {self.dir}/body; proxy_temp_path {self.dir}/proxy;
    fastcgi_temp_path {self.dir}/fastcgi; uwsgi_temp_path {self.dir}/uwsgi; scgi_temp_path {self.dir}/scgi;
    include {snippet};
    server {{
        listen 127.0.0.1:{self.port} ssl http2;
        server_name {LANDING_HOST};
        ssl_certificate {cert};
        ssl_certificate_key {key};
        location / {{ default_type text/html; return 200 "<html><body><h1 id=landed>Offer 7</h1></body></html>"; }}
    }}
}}
""")

    def start(self) -> "Nginx":
        self.spawn([NGINX, "-p", self.dir + "/", "-c", self.conf])
        ms.wait_until(lambda: ms.port_open(self.port), 15, "nginx to listen")
        return self


def curl(nginx: Nginx, url: str, *args: str) -> tuple[int, dict[str, str], bytes]:
    """A request through nginx for an https URL of one of our hosts."""
    host = re.match(r"https://([^/]+)/", url).group(1)
    out = subprocess.run([CURL, "-s", "-k", "-D", "-", "--connect-to", f"{host}:443:127.0.0.1:{nginx.port}",
                          "-A", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
                          *args, url], capture_output=True, timeout=30)
    head, _, body = out.stdout.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and lines[0].startswith("HTTP/") else 0
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, headers, body


def chromium(nginx: Nginx, target: str, work: str) -> str:
    """Headless Chromium opening target (a file:// or https:// URL), every
    host of ours resolved to nginx; the DOM it ends with."""
    rules = ",".join(f"MAP {h} 127.0.0.1:{nginx.port}" for h in (ACME_HOST, BETA_HOST, LANDING_HOST))
    out = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--ignore-certificate-errors",
                          f"--user-data-dir={work}/chromium-profile", f"--host-resolver-rules={rules}",
                          "--virtual-time-budget=5000", "--dump-dom", target],
                         capture_output=True, timeout=90, env={**ms.clean_env(), "HOME": work})
    return out.stdout.decode("utf-8", "replace")


def wait_events(receiver: Receiver, kind: str, count: int = 1, timeout: float = 20.0) -> list[dict]:
    def enough():
        got = [e for e in receiver.events("acme") if e["kind"] == kind]
        return got if len(got) >= count else None
    try:
        return ms.wait_until(enough, timeout, f"{count} {kind} webhook(s)", interval=0.1)
    except ms.MailstackError:
        return [e for e in receiver.events("acme") if e["kind"] == kind]


def wait_message(sink: ms.SmtpSink, rcpt: str) -> ms.SinkMessage:
    def found():
        for path in sink.message_paths():
            msg = ms.parse_sink_file(path)
            if rcpt in msg.recipients:
                return msg
        return None
    return ms.wait_until(found, 30, f"a message for {rcpt}", interval=0.05)


def html_of(data: bytes) -> str:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    return next(p.get_content() for p in msg.walk() if p.get_content_type() == "text/html")


def message(rcpt: str, subject: str) -> bytes:
    head = ["From: Careers <news@acme.example>", f"To: {rcpt}", f"Subject: {subject}",
            f"Date: {email.utils.formatdate()}", f"Message-ID: <{os.urandom(8).hex()}@client.tenantmail.test>",
            "MIME-Version: 1.0", "Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: quoted-printable"]
    body = quopri.encodestring(HTML.encode()).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return "".join(h + "\r\n" for h in head).encode() + b"\r\n" + body


def run(tmp: str, bins: dict[str, str]) -> None:
    f = tp.TenantFiles(tmp)
    rsa = f.rsa_key("acme")
    f.publish("acme.example", "tm2026", rsa)
    f.bounce_secret()
    f.tracking_secret()
    dns = tp.dns_for(f)
    secret_path, secret = write_secret(tmp, "acme")
    receiver = Receiver({"acme": secret}).start()
    try:
        tenants = {
            "acme": {"domains": "acme.example", "selector": "tm2026", "key": rsa, "bounce_domain": "mta.acme.example",
                     "sasl_users": "acme-bulk", "tracking_domain": ACME_HOST,
                     "webhook_url": f"{receiver.base}/acme", "webhook_secret": secret_path},
            "beta": {"domains": "beta.example", "selector": "b1", "key": f.rsa_key("beta"),
                     "bounce_domain": "mta.beta.example", "sasl_users": "beta-app", "tracking_domain": BETA_HOST},
        }
        f.write_tenants(tenants)
        with ms.SmtpSink(tmp) as sink, ms.RedisServer(tmp) as redis:
            milter_port = ms.free_port()
            config = f.write_config(milter_port)
            with open(config, "a") as fh:
                fh.write(f"[redis]\nhost = 127.0.0.1\nport = {redis.port}\ntimeout = 2s\n")
            milter = tp.Milter(bins["milter"], config, tmp, port=milter_port)
            milter.start()
            trackd = tp.Trackd(bins["trackd"], tmp, "trackd", redis.port, f.tenants_path,
                               f.tracking_secret_path).start()
            policyd = tp.Policyd(bins["policyd"], tmp, "policyd", redis.port, f.tenants_path,
                                 redis_timeout="2s").start()
            webhookd = tp.Webhookd(bins["webhookd"], tmp, "webhookd", redis.port, f.tenants_path).start()
            nginx = Nginx(tmp, trackd.port).start()
            pf = ms.PrivatePostfix(os.path.join(tmp, "postfix"), sink.port, milter=milter_port,
                                   policy=policyd.port, extra_main_cf={"local_header_rewrite_clients": ""})
            pf.add_sasl_user("acme-bulk", PASSWORD)
            with pf:
                run_checks(tmp, bins, f, dns, redis, receiver, nginx, pf, sink, config)
            for proc in (webhookd, policyd, trackd, milter, nginx):
                proc.stop()
    finally:
        receiver.stop()


def run_checks(tmp, bins, f, dns, redis, receiver, nginx, pf, sink, config) -> None:
    rcpt = "reader@example.org"
    ms.send_smtp(pf.submission_port, "news@acme.example", rcpt, message(rcpt, "offer"), starttls=True,
                 login=("acme-bulk", PASSWORD))
    delivered = wait_message(sink, rcpt)
    results = dkim_verify.verify_message(delivered.data, dns)
    check("delivered: the tracked message verifies (dkimpy)", results and all(r.ok for r in results),
          "; ".join(r.line("msg") for r in results))
    html = html_of(delivered.data)
    pixel = re.search(r'<img src="(https://click\.acme\.example/o/[A-Za-z0-9_-]+)"', html)
    link = re.search(r'<a id="offer" href="(https://click\.acme\.example/c/[A-Za-z0-9_-]+)"', html)
    check("delivered: the offer link and the pixel point at the tracking domain", pixel and link, html[-600:])
    message_id = (delivered.header("Message-ID") or [""])[0]
    queue_id = re.search(r"(\w+): tenant=acme class=bulk", open(os.path.join(tmp, "milter.log")).read())
    if not (pixel and link and queue_id):
        return
    queue_id = queue_id.group(1)

    # 2. the reader's browser opens it; a link is followed
    page = os.path.join(tmp, "delivered.html")
    with open(page, "w", encoding="utf-8") as fh:
        fh.write(html)
    t0 = time.monotonic()
    chromium(nginx, "file://" + page, tmp)
    info(f"chromium rendered the message in {time.monotonic() - t0:.1f}s")
    opens = wait_events(receiver, "open")
    check("open: Chromium fetched the pixel; the webhook has the message's Message-ID and the recipient",
          len(opens) == 1 and opens[0].get("message_id") == message_id and opens[0].get("recipient") == rcpt
          and opens[0].get("queue_id") == queue_id, opens)
    status, headers, _ = curl(nginx, link.group(1))
    check("click: curl gets 302 to the original URL", status == 302 and headers.get("location") == OFFER,
          (status, headers))
    clicks = wait_events(receiver, "click")
    check("click: a click webhook with the URL, the Message-ID and the recipient",
          len(clicks) == 1 and clicks[0]["details"].get("url") == OFFER
          and clicks[0].get("message_id") == message_id and clicks[0].get("recipient") == rcpt, clicks)
    dom = chromium(nginx, link.group(1), tmp)
    check("click: Chromium following the link lands on the original page", 'id="landed"' in dom, dom[:300])
    check("click: and a second click webhook", len(wait_events(receiver, "click", 2)) == 2)
    shown = subprocess.run([bins["ctl"], "message", queue_id, "-c", config], capture_output=True, timeout=30,
                           env=ms.clean_env()).stdout.decode("utf-8", "replace")
    check("tenantmailctl message lists the open and the clicks",
          re.search(r"\bopen\s+reader@example\.org", shown) and len(re.findall(r"\bclick\s+reader@example\.org",
                                                                                shown)) == 2, shown)

    # 3. forged, truncated, replayed for another tenant
    before = len(tp.events(redis, "acme")) + len(tp.events(redis, "beta"))
    token = link.group(1).rsplit("/", 1)[1]
    flipped = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    for name, url in [("forged (one character changed)", f"https://{ACME_HOST}/c/{flipped}"),
                      ("truncated", f"https://{ACME_HOST}/c/{token[:-6]}"),
                      ("replayed on another tenant's tracking domain", f"https://{BETA_HOST}/c/{token}"),
                      ("a click token on the pixel path", f"https://{ACME_HOST}/o/{token}")]:
        status, headers, _ = curl(nginx, url)
        check(f"refused: {name}: 404, no redirect", status == 404 and "location" not in headers, (status, headers))
    time.sleep(0.5)
    after = len(tp.events(redis, "acme")) + len(tp.events(redis, "beta"))
    check("refused: no event for any of them", after == before, (before, after))
    plain = subprocess.run([CURL, "-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "--connect-to",
                            f"{ACME_HOST}:80:127.0.0.1:{nginx.http_port}", f"http://{ACME_HOST}/c/{token}"],
                           capture_output=True, timeout=30).stdout.decode()
    check("plain http: 301 to the same link over https", plain == f"301 https://{ACME_HOST}/c/{token}", plain)

    # 4. one-click unsubscribe, then policyd refuses the recipient
    unsubscribe = re.search(r"<(https://click\.acme\.example/u/[A-Za-z0-9_-]+)>",
                            " ".join(delivered.data.split(b"\r\n\r\n", 1)[0].decode().split()))
    check("unsubscribe: List-Unsubscribe has the https URL and List-Unsubscribe-Post is One-Click",
          unsubscribe and b"List-Unsubscribe-Post: List-Unsubscribe=One-Click" in delivered.data)
    if not unsubscribe:
        return
    status, _, _ = curl(nginx, unsubscribe.group(1), "-X", "POST", "--data", "List-Unsubscribe=One-Click")
    suppressed = redis.command("HGET", "tm:{acme}:suppressed", rcpt)
    check("unsubscribe: One-Click POST answered 200; the recipient is suppressed with reason unsubscribe",
          status == 200 and suppressed and "unsubscribe" in str(suppressed), (status, suppressed))
    check("unsubscribe: an unsubscribe webhook for the recipient",
          [e.get("recipient") for e in wait_events(receiver, "unsubscribe")] == [rcpt])
    refused = refusal(pf, rcpt)
    # Postfix answers a policy REJECT with access_map_reject_code (554).
    check("unsubscribe: the next RCPT to them is refused 5.1.1 (suppressed, unsubscribe) by policyd",
          500 <= refused[0] < 600 and refused[1].startswith("5.1.1") and "unsubscribe" in refused[1], refused)

    # 5. the mailto: form, for a second reader
    second = "second@example.org"
    ms.send_smtp(pf.submission_port, "news@acme.example", second, message(second, "offer"), starttls=True,
                 login=("acme-bulk", PASSWORD))
    header = " ".join(wait_message(sink, second).data.split(b"\r\n\r\n", 1)[0].decode().split())
    mailto = re.search(r"<mailto:(unsubscribe\+[A-Za-z0-9_-]+@mta\.acme\.example)>", header)
    check("mailto: List-Unsubscribe has <mailto:unsubscribe+TOKEN@mta.acme.example>", mailto, header[:600])
    if not mailto:
        return
    request = (f"From: {second}\r\nTo: {mailto.group(1)}\r\nSubject: unsubscribe\r\n\r\nunsubscribe\r\n").encode()
    piped = subprocess.run([bins["bounce"], "-c", config, "-f", "--", mailto.group(1)], input=request,
                           capture_output=True, timeout=60, env=ms.clean_env())
    suppressed = redis.command("HGET", "tm:{acme}:suppressed", second)
    check("mailto: tenantmail-bounce takes it (exit 0); the second reader is suppressed with reason unsubscribe",
          piped.returncode == 0 and suppressed and "unsubscribe" in str(suppressed),
          (piped.returncode, piped.stderr[-600:], suppressed))
    check("mailto: an unsubscribe webhook for the second reader",
          second in [e.get("recipient") for e in wait_events(receiver, "unsubscribe", 2)])
    refused = refusal(pf, second)
    check("mailto: the next RCPT to the second reader is refused 5.1.1 by policyd",
          500 <= refused[0] < 600 and refused[1].startswith("5.1.1") and "unsubscribe" in refused[1], refused)


def refusal(pf, rcpt: str) -> tuple[int, str]:
    """What submission answers a new message to rcpt: (250, "accepted") or
    the RCPT refusal's code and text."""
    try:
        ms.send_smtp(pf.submission_port, "news@acme.example", rcpt, message(rcpt, "again"), starttls=True,
                     login=("acme-bulk", PASSWORD))
        return 250, "accepted"
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()))
        return code, text.decode("utf-8", "replace")


def main(argv: list[str]) -> int:
    if len(argv) != 6:
        print("usage: tracking_e2e_test.py MILTER TRACKD POLICYD WEBHOOKD TENANTMAILCTL BOUNCE", file=sys.stderr)
        return 2
    bins = dict(zip(("milter", "trackd", "policyd", "webhookd", "ctl", "bounce"),
                    (os.path.abspath(a) for a in argv)))
    for tool in (CURL, CHROMIUM, NGINX):
        if not os.access(tool, os.X_OK):
            print(f"tracking_e2e_test: {tool} missing (scripts/install-deps.sh)", file=sys.stderr)
            return 1

    def body():
        with ms.managed_workdir("tenantmail-tracking-e2e-") as tmp:
            if os.environ.get("TM_KEEP_TMP"):
                print(f"     logs in {tmp}", flush=True)
            run(tmp, bins)
    return REPORT.run_main(body, failure="tracking end-to-end test ran to the end", cleanup=ms.stop_all)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
