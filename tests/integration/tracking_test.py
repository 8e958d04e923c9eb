#!/usr/bin/python3
"""Integration test of open/click tracking, RFC 8058 List-Unsubscribe and
Feedback-ID in tenantmail-milter behind a real private Postfix.

Usage: tracking_test.py PATH/TO/tenantmail-milter

Starts, on 127.0.0.1 in a temp dir: smtp-sink (the remote side), a private
Postfix (submission with STARTTLS and SASL AUTH) and tenantmail-milter, with
tenant acme (acme.example, RSA + Ed25519 keys, tracking_domain
click.acme.example, feedback_id acme-fbl). Sends tracked HTML mail and checks
what arrives, with independent tools (Python's email package decodes the
parts, dkimpy verifies every signature):

  1  quoted-printable HTML: links rewritten to https://click.acme.example/c/,
     mailto:/tel:/anchor/data-notrack/unsubscribe links kept, the pixel
     before </body>, non-ASCII text intact, List-Unsubscribe (https + mailto)
     and List-Unsubscribe-Post added, Feedback-ID bulk:acme:acme-fbl, both
     signatures verify with the new fields signed and over-signed;
  2  the same HTML in base64, and a 200 KB message of 2,000 links;
  3  multipart/mixed (multipart/alternative text + HTML, a PDF attachment):
     only the HTML changes, the text and the attachment arrive byte for byte;
  4  two recipients: links rewritten, no List-Unsubscribe; the tenant's own
     List-Unsubscribe kept and not doubled; transactional mail untouched;
  5  a hostile corpus (broken HTML, 10,000 links, nested multiparts, bad
     charsets, 8-bit in QP, no </body>, deep nesting): every message is
     accepted, delivered and verifies, the milter stays up, and one left
     alone has its log line; a body over tracking_max_kb is sent untracked
     with a log line.
  6  track_text_links = bulk (SIGHUP): text/plain URLs, quoted-printable
     and 8bit, become click links with the punctuation after them kept;
     mailto:, the unsubscribe URL and the UTF-8 text stay; both signatures
     verify.

Prints one "ok"/"FAIL" line per check; exits non-zero on any failure.
Everything started is stopped by PID. TM_KEEP_TMP=1 keeps the temp dir.
"""

from __future__ import annotations

import base64
import email
import email.policy
import email.utils
import os
import quopri
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import dkim_verify  # noqa: E402
import mailstack as ms  # noqa: E402
from checks import Report  # noqa: E402
import tenantmail_procs as tp  # noqa: E402

PASSWORD = "pw-" + os.urandom(6).hex()
TRACK = "https://click.acme.example/"
REPORT = Report("tracking integration")
check = REPORT.check

HTML = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body>\n"
        "<p>Caf\u00e9 \u20ac \u2014 na\u00efve</p>\n"
        "<a href=\"https://jobs.acme.example/offer?id=7&amp;src=mail\">Offer</a>\n"
        "<a href=\"mailto:hr@acme.example\">Write</a> <a href=\"tel:+441234567\">Call</a>\n"
        "<a href=\"#top\">Top</a> <a data-notrack href=\"https://jobs.acme.example/private\">P</a>\n"
        "<a href=\"https://jobs.acme.example/unsubscribe?u=1\">Unsubscribe</a>\n"
        "</body></html>\n")
KEPT = ["mailto:hr@acme.example", "tel:+441234567", "#top", "https://jobs.acme.example/private",
        "https://jobs.acme.example/unsubscribe?u=1"]


def info(text: str) -> None:
    print(f"     {text}", flush=True)


def headers(frm: str, to: str, subject: str, extra: list[str] | None = None) -> list[str]:
    return [f"From: {frm}", f"To: {to}", f"Subject: {subject}",
            f"Date: {email.utils.formatdate(localtime=False)}",
            f"Message-ID: <{os.urandom(8).hex()}@client.tenantmail.test>", "MIME-Version: 1.0",
            *(extra or [])]


def raw(head: list[str], body: bytes) -> bytes:
    return "".join(h + "\r\n" for h in head).encode() + b"\r\n" + body


def crlf(text: str | bytes) -> bytes:
    data = text.encode() if isinstance(text, str) else text
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def qp(html: str) -> bytes:
    return crlf(quopri.encodestring(html.encode("utf-8")))


def b64(data: bytes) -> bytes:
    encoded = base64.b64encode(data)
    return b"\r\n".join(encoded[i:i + 76] for i in range(0, len(encoded), 76)) + b"\r\n"


def field_values(data: bytes, name: str) -> list[str]:
    head = data.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    values: list[str] = []
    matching = False
    for line in head.split("\r\n"):
        if line[:1] in (" ", "\t"):
            if matching:
                values[-1] += line.strip()
            continue
        key, _, value = line.partition(":")
        matching = key.strip().lower() == name.lower()
        if matching:
            values.append(value.strip())
    return values


def html_parts(data: bytes) -> list[str]:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    return [p.get_content() for p in msg.walk()
            if p.get_content_type() == "text/html" and not p.is_attachment()]


def hrefs(html: str) -> list[str]:
    return [m.group(2) for m in re.finditer(r"""href=(["'])(.*?)\1""", html)]


class Stack:
    def __init__(self, tmp: str, milter_bin: str):
        self.tmp = tmp
        f = self.files = tp.TenantFiles(tmp)
        rsa, ed = f.rsa_key("acme"), f.ed25519_key("acme")
        f.publish("acme.example", "tm2026", rsa)
        f.publish("acme.example", "tm2026e", ed)
        f.bounce_secret()
        f.tracking_secret()
        self.dns = tp.dns_for(f)
        self.tenants = {"acme": {
            "domains": "acme.example", "selector": "tm2026", "key": rsa, "ed25519_selector": "tm2026e",
            "ed25519_key": ed, "bounce_domain": "mta.acme.example",
            "sasl_users": "acme-bulk acme-tx:transactional",
            "tracking_domain": "click.acme.example", "feedback_id": "acme-fbl"}}
        f.write_tenants(self.tenants)
        self.milter_port = ms.free_port()
        self.config = f.write_config(self.milter_port, tracking_max_kb="1024")
        self.milter = tp.Milter(milter_bin, self.config, tmp, port=self.milter_port)

    def verify(self, data: bytes) -> tuple[bool, str]:
        results = dkim_verify.verify_message(data, self.dns)
        ok = len(results) == 2 and all(r.ok for r in results)
        return ok, "; ".join(r.line("msg") for r in results)


def send(pf, login: str, rcpts: list[str], message: bytes) -> None:
    ms.send_smtp(pf.submission_port, "news@acme.example", rcpts, message, starttls=True,
                 login=(login, PASSWORD))


def wait_for(sink: ms.SmtpSink, rcpt: str, timeout: float = 30.0) -> bytes:
    def found():
        for path in sink.message_paths():
            msg = ms.parse_sink_file(path)
            if rcpt in msg.recipients:
                return msg.data
        return None
    return ms.wait_until(found, timeout, f"a message for {rcpt} at the sink", interval=0.05)


def check_tracked(stack: Stack, name: str, data: bytes, *, unsubscribe: bool = True) -> None:
    ok, why = stack.verify(data)
    check(f"{name}: both signatures verify (dkimpy)", ok, why)
    parts = html_parts(data)
    links = [h for p in parts for h in hrefs(p)]
    tracked = [h for h in links if h.startswith(TRACK + "c/")]
    check(f"{name}: the http(s) link is rewritten to {TRACK}c/TOKEN, the original gone",
          tracked and all("jobs.acme.example/offer" not in p for p in parts), links[:8])
    check(f"{name}: mailto:, tel:, #anchor, data-notrack and unsubscribe links kept as written",
          all(k in links for k in KEPT), links)
    check(f"{name}: one open pixel {TRACK}o/TOKEN before </body>",
          sum(len(re.findall(r'<img src="' + re.escape(TRACK) + r'o/[A-Za-z0-9_-]+"[^>]*></body>', p))
              for p in parts) == 1, [p[-400:] for p in parts])
    check(f"{name}: non-ASCII text decoded intact", all("Caf\u00e9 \u20ac \u2014 na\u00efve" in p for p in parts))
    lu = field_values(data, "List-Unsubscribe")
    if unsubscribe:
        m = re.fullmatch(r"<https://click\.acme\.example/u/([A-Za-z0-9_-]+)>,\s*"
                         r"<mailto:unsubscribe\+([A-Za-z0-9_-]+)@mta\.acme\.example>", lu[0] if lu else "")
        check(f"{name}: List-Unsubscribe <https://click.acme.example/u/TOKEN>, <mailto:unsubscribe+TOKEN@"
              "mta.acme.example> and List-Unsubscribe-Post: List-Unsubscribe=One-Click",
              len(lu) == 1 and m and m.group(1) == m.group(2)
              and field_values(data, "List-Unsubscribe-Post") == ["List-Unsubscribe=One-Click"], lu)
        results = dkim_verify.verify_message(data, stack.dns)
        signed = [r.signed_headers for r in results]
        check(f"{name}: List-Unsubscribe, List-Unsubscribe-Post and Feedback-ID signed and over-signed",
              signed and all(h.count("list-unsubscribe") == 2 and h.count("list-unsubscribe-post") == 2
                             and h.count("feedback-id") == 2 for h in signed), signed)
    check(f"{name}: exactly one Feedback-ID: bulk:acme:acme-fbl",
          field_values(data, "Feedback-ID") == ["bulk:acme:acme-fbl"], field_values(data, "Feedback-ID"))


def big_html(links: int) -> str:
    rows = "".join(f"<tr><td><a href=\"https://jobs.acme.example/offer/{i}?ref=big\">Offer {i}</a> "
                   f"{'lorem ipsum dolor sit amet ' * 2}</td></tr>\n" for i in range(links))
    return HTML.replace("</body>", f"<table>\n{rows}</table>\n</body>")


def multipart_message(pdf: bytes) -> bytes:
    text = crlf("Offer: https://jobs.acme.example/offer?id=7\n")
    return crlf(
        "--outer\r\nContent-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n"
        "--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n") + text + \
        b"--alt\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + \
        qp(HTML) + b"--alt--\r\n\r\n--outer\r\nContent-Type: application/pdf; name=\"offer.pdf\"\r\n" \
        b"Content-Disposition: attachment; filename=\"offer.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + \
        b64(pdf) + b"--outer--\r\n"


def hostile_corpus() -> list[tuple[str, list[str], bytes]]:
    """(name, extra header fields, body) of odd and hostile messages."""
    deep = b""
    for i in range(60):
        deep += f"--b{i}\r\nContent-Type: multipart/mixed; boundary=\"b{i + 1}\"\r\n\r\n".encode()
    deep += b"--b60\r\nContent-Type: text/html\r\n\r\n<a href=\"https://jobs.acme.example/deep\">d</a>\r\n"
    for i in range(60, -1, -1):
        deep += f"--b{i}--\r\n".encode()
    ten_thousand = "<html><body>" + "".join(
        f"<a href=\"https://jobs.acme.example/{i}\">{i}</a>\n" for i in range(10000)) + "</body></html>\n"
    return [
        ("broken HTML", ["Content-Type: text/html; charset=utf-8"],
         crlf("<html><body><a href=\"https://jobs.acme.example/x\"><b>unclosed <i>tags</a><table><td>"
              "<a href='https://jobs.acme.example/y'>y</a></body></body><a href=https://jobs.acme.example/z>z\n")),
        ("10,000 links", ["Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: quoted-printable"],
         qp(ten_thousand)),
        ("61 nested multiparts", ["Content-Type: multipart/mixed; boundary=\"b0\""], deep),
        ("an unknown charset", ["Content-Type: text/html; charset=x-no-such-charset"],
         crlf("<a href=\"https://jobs.acme.example/c\">c</a>\n")),
        ("UTF-16 HTML", ["Content-Type: text/html; charset=utf-16", "Content-Transfer-Encoding: base64"],
         b64("<a href=\"https://jobs.acme.example/u16\">u</a>".encode("utf-16"))),
        ("8-bit bytes in quoted-printable", ["Content-Type: text/html; charset=iso-8859-1",
                                             "Content-Transfer-Encoding: quoted-printable"],
         b"<a href=3D\"https://jobs.acme.example/8\">caf\xe9 \xff</a>\r\n"),
        ("no </body>", ["Content-Type: text/html"], crlf("<p>fragment <a href=\"https://jobs.acme.example/f\">f</a>\n")),
        ("nesting 5,000 deep", ["Content-Type: text/html"], crlf("<div>\n" * 5000 + "deep\n")),
        ("a multipart without its boundary", ["Content-Type: multipart/alternative; boundary=\"nowhere\""],
         crlf("<a href=\"https://jobs.acme.example/n\">n</a>\n")),
        ("a NUL and a lone CR in HTML", ["Content-Type: text/html"],
         b"<a href=\"https://jobs.acme.example/nul\">\x00x\rx</a>\r\n"),
    ]


def run(stack: Stack) -> None:
    with ms.SmtpSink(stack.tmp) as sink:
        stack.milter.start()
        pf = ms.PrivatePostfix(stack.tmp, sink.port, milter=stack.milter_port,
                               extra_main_cf={"local_header_rewrite_clients": ""})
        for login in ("acme-bulk", "acme-tx"):
            pf.add_sasl_user(login, PASSWORD)
        with pf:
            run_with_postfix(stack, pf, sink)


def run_with_postfix(stack: Stack, pf, sink: ms.SmtpSink) -> None:
    # 1. quoted-printable
    send(pf, "acme-bulk", ["qp@example.org"], raw(headers("news@acme.example", "qp@example.org", "qp", [
        "Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: quoted-printable"]), qp(HTML)))
    check_tracked(stack, "quoted-printable HTML", wait_for(sink, "qp@example.org"))

    # 2. base64, and 200 KB
    send(pf, "acme-bulk", ["b64@example.org"], raw(headers("news@acme.example", "b64@example.org", "b64", [
        "Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: base64"]),
        b64(crlf(HTML.encode()))))
    check_tracked(stack, "base64 HTML", wait_for(sink, "b64@example.org"))
    big = big_html(2000)
    send(pf, "acme-bulk", ["big@example.org"], raw(headers("news@acme.example", "big@example.org", "big", [
        "Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: quoted-printable"]), qp(big)))
    data = wait_for(sink, "big@example.org")
    info(f"200 KB message: {len(qp(big))} octets sent, {len(data)} delivered")
    check_tracked(stack, "200 KB HTML", data)
    check("200 KB HTML: all 2,001 http(s) links rewritten",
          sum(h.startswith(TRACK + "c/") for h in hrefs(html_parts(data)[0])) == 2001)

    # 3. multipart/mixed with alternative and attachment
    pdf = b"%PDF-1.4\n" + os.urandom(30000)
    sent = raw(headers("news@acme.example", "multi@example.org", "multi", [
        "Content-Type: multipart/mixed; boundary=\"outer\""]), multipart_message(pdf))
    send(pf, "acme-bulk", ["multi@example.org"], sent)
    data = wait_for(sink, "multi@example.org")
    check_tracked(stack, "multipart/alternative with attachment", data)
    msg = email.message_from_bytes(data, policy=email.policy.default)
    original = email.message_from_bytes(sent, policy=email.policy.default)
    plain = [p.get_content() for p in msg.walk() if p.get_content_type() == "text/plain"]
    attached = [p.get_content() for p in msg.walk() if p.get_content_type() == "application/pdf"]
    check("multipart: the text/plain part arrives unchanged",
          plain == [p.get_content() for p in original.walk() if p.get_content_type() == "text/plain"], plain)
    check("multipart: the PDF attachment arrives byte for byte", attached == [pdf])

    # 4. several recipients; the tenant's own List-Unsubscribe; transactional
    send(pf, "acme-bulk", ["two-a@example.org", "two-b@example.org"],
         raw(headers("news@acme.example", "two@example.org", "two", ["Content-Type: text/html; charset=utf-8"]),
             crlf(HTML)))
    data = wait_for(sink, "two-a@example.org")
    check_tracked(stack, "two recipients", data, unsubscribe=False)
    check("two recipients: no List-Unsubscribe added", field_values(data, "List-Unsubscribe") == [])
    own = "<https://acme.example/leave?u=9>"
    send(pf, "acme-bulk", ["own@example.org"], raw(headers("news@acme.example", "own@example.org", "own", [
        "Content-Type: text/html; charset=utf-8", f"List-Unsubscribe: {own}"]), crlf(HTML)))
    data = wait_for(sink, "own@example.org")
    check("own List-Unsubscribe: kept as it was, none added, no List-Unsubscribe-Post",
          field_values(data, "List-Unsubscribe") == [own] and not field_values(data, "List-Unsubscribe-Post"),
          field_values(data, "List-Unsubscribe"))
    sent = raw(headers("news@acme.example", "tx@example.org", "tx", [
        "Content-Type: text/html; charset=utf-8", "Feedback-ID: 1:2:3"]), crlf(HTML))
    send(pf, "acme-tx", ["tx@example.org"], sent)
    data = wait_for(sink, "tx@example.org")
    ok, why = stack.verify(data)
    check("transactional: body untouched, no List-Unsubscribe, Feedback-ID transactional:acme:acme-fbl "
          "(the client's replaced), verifies",
          ok and html_parts(data) == html_parts(sent) and not field_values(data, "List-Unsubscribe")
          and field_values(data, "Feedback-ID") == ["transactional:acme:acme-fbl"], why)

    # 5. hostile corpus, and the size limit
    for i, (name, extra, body) in enumerate(hostile_corpus()):
        rcpt = f"hostile{i}@example.org"
        try:
            send(pf, "acme-bulk", [rcpt], raw(headers("news@acme.example", rcpt, name, extra), body))
            data = wait_for(sink, rcpt)
            ok, why = stack.verify(data)
        except Exception as exc:  # noqa: BLE001 - a refusal or a lost message is the failure
            ok, why = False, f"{type(exc).__name__}: {exc}"
        check(f"hostile: {name}: accepted, delivered, verifies", ok, why)
    check("hostile: the milter is still running", stack.milter.pid is not None and ms.pid_alive(stack.milter.pid))
    log = open(stack.milter.log_path, encoding="utf-8", errors="replace").read()
    check("hostile: the message nested 5,000 deep is sent untracked, with the reason logged",
          re.search(r"untracked \(HTML nested deeper than \d+ elements\)", log), log[-1500:])
    huge = big_html(8000)
    send(pf, "acme-bulk", ["huge@example.org"], raw(headers("news@acme.example", "huge@example.org", "huge", [
        "Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: quoted-printable"]), qp(huge)))
    data = wait_for(sink, "huge@example.org")
    ok, why = stack.verify(data)
    log = open(stack.milter.log_path, encoding="utf-8", errors="replace").read()
    check(f"over tracking_max_kb ({len(qp(huge)) // 1024} KiB > 1024): signed and sent untracked, logged",
          ok and TRACK + "c/" not in html_parts(data)[0]
          and "untracked (body over tracking_max_kb (1024 KiB))" in log, why)

    text_links(stack, pf, sink)


def text_links(stack: Stack, pf, sink: ms.SmtpSink) -> None:
    """6. track_text_links = bulk, by SIGHUP: plain-text URLs become click
    links (quoted-printable and 8bit), HTML as before; signatures verify."""
    stack.tenants["acme"]["track_text_links"] = "bulk"
    stack.files.write_tenants(stack.tenants)
    stack.milter.reload()
    text = ("Caf\u00e9 \u20ac \u2014 na\u00efve\n"
            "Apply: https://jobs.acme.example/offer?id=7&src=mail.\n"
            "(details at <https://jobs.acme.example/about>) or mailto:jobs@acme.example\n"
            "Leave: https://acme.example/unsubscribe?u=9\n")
    for name, cte, body in (("quoted-printable", "quoted-printable", quopri.encodestring(text.encode(), False)),
                            ("8bit", "8bit", text.encode())):
        rcpt = f"text-{cte}@example.org"
        send(pf, "acme-bulk", [rcpt], raw(headers("news@acme.example", rcpt, "text", [
            "Content-Type: text/plain; charset=utf-8", f"Content-Transfer-Encoding: {cte}"]), crlf(body)))
        data = wait_for(sink, rcpt)
        ok, why = stack.verify(data)
        check(f"text links, {name}: both signatures verify (dkimpy)", ok, why)
        got = email.message_from_bytes(data, policy=email.policy.default).get_content()
        links = re.findall(re.escape(TRACK) + r"c/[A-Za-z0-9_-]+", got)
        check(f"text links, {name}: the two http(s) URLs are click links, the punctuation after them kept",
              len(links) == 2 and "jobs.acme.example" not in got and re.search(r"c/[A-Za-z0-9_-]+\.\r?\n", got)
              and re.search(r"<" + re.escape(TRACK) + r"c/[A-Za-z0-9_-]+>\)", got), got)
        check(f"text links, {name}: mailto:, the unsubscribe URL and the UTF-8 text kept",
              "mailto:jobs@acme.example" in got and "https://acme.example/unsubscribe?u=9" in got
              and "Caf\u00e9 \u20ac \u2014 na\u00efve" in got, got)
    log = open(stack.milter.log_path, encoding="utf-8", errors="replace").read()
    check("text links: the log line says text-parts=1", "text-parts=1 links=2" in log, log[-1500:])


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: tracking_test.py TENANTMAIL_MILTER", file=sys.stderr)
        return 2
    milter_bin = os.path.abspath(argv[0])

    def body():
        with ms.managed_workdir("tenantmail-tracking-test-") as tmp:
            if os.environ.get("TM_KEEP_TMP"):
                print(f"     logs in {tmp}", flush=True)
            t0 = time.monotonic()
            run(Stack(tmp, milter_bin))
            info(f"done in {time.monotonic() - t0:.1f}s")
    return REPORT.run_main(body, failure="tracking integration test ran to the end", cleanup=ms.stop_all)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
