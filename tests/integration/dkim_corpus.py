#!/usr/bin/python3
"""Deterministic corpus of RFC 5322 messages for DKIM interop tests.

Every message uses CRLF line ends unless its point is something else (a body
without a final CRLF, a bare CR). Every message in the main set has exactly
one From header field with exactly one address at signer.example or one of
its subdomains, so a signer for d=signer.example must sign all of them. The
refusal set holds messages a signer must refuse (no From, two From fields,
a From with two addresses).

    /usr/bin/python3 dkim_corpus.py OUTDIR

writes OUTDIR/NN-name.eml for the main set and OUTDIR/refuse/NN-name.eml for
the refusal set. Run twice, it writes the same bytes.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import sys
from dataclasses import dataclass

SIGNING_DOMAIN = "signer.example"
DATE = b"Date: Mon, 03 Nov 2025 10:00:00 +0000"
CRLF = b"\r\n"


@dataclass(frozen=True)
class Message:
    name: str            # file name, e.g. "01-plain.eml"
    about: str           # what the message exercises
    data: bytes          # the message as it goes to the signer
    dkimpy_parses: bool = True   # False: dkimpy rejects the header syntax itself


def pseudo_random(label: str, size: int) -> bytes:
    """Deterministic bytes that do not depend on Python's random module."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{label}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


def lines(*parts: bytes) -> bytes:
    """Joins lines, each followed by CRLF."""
    return b"".join(p + CRLF for p in parts)


def message(headers: list[bytes], body: bytes | None) -> bytes:
    """Header lines (folding already inside them), the empty line, the body.
    body=None means no empty line at all: a message of headers only."""
    head = lines(*headers)
    if body is None:
        return head
    return head + CRLF + body


def base_headers(n: int, subject: bytes, sender: bytes = b"Sender Name <sender@signer.example>",
                 content_type: bytes | None = b"text/plain; charset=us-ascii") -> list[bytes]:
    hs = [
        b"From: " + sender,
        b"To: Recipient <recipient@example.org>",
        b"Subject: " + subject,
        DATE,
        b"Message-ID: <corpus-%02d@signer.example>" % n,
        b"MIME-Version: 1.0",
    ]
    if content_type is not None:
        hs.append(b"Content-Type: " + content_type)
    return hs


def base64_lines(data: bytes, width: int = 76) -> bytes:
    enc = base64.b64encode(data)
    return b"".join(enc[i:i + width] + CRLF for i in range(0, len(enc), width))


def text_block(label: str, n_lines: int, width: int = 72) -> bytes:
    """Printable ASCII lines of a fixed width, deterministic."""
    alphabet = b"abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 .,;:-"
    raw = pseudo_random(label, n_lines * width)
    out = bytearray()
    for i in range(n_lines):
        chunk = raw[i * width:(i + 1) * width]
        line = bytes(alphabet[b % len(alphabet)] for b in chunk).rstrip(b" ")
        out += line + CRLF
    return bytes(out)


def main_set() -> list[Message]:
    msgs: list[Message] = []

    def add(name: str, about: str, data: bytes, **kw) -> None:
        msgs.append(Message(f"{len(msgs) + 1:02d}-{name}.eml", about, data, **kw))

    n = lambda: len(msgs) + 1  # noqa: E731  number of the message being built

    add("plain", "plain text message",
        message(base_headers(n(), b"Plain text"),
                lines(b"Hello,", b"", b"this is a plain text message.", b"", b"-- ", b"Sender")))

    alt = b"alt-boundary-0001"
    add("multipart-alternative", "multipart/alternative with text and HTML parts",
        message(base_headers(n(), b"Alternative parts",
                             content_type=b'multipart/alternative; boundary="' + alt + b'"'),
                lines(b"This is a multi-part message in MIME format.",
                      b"--" + alt,
                      b"Content-Type: text/plain; charset=us-ascii",
                      b"Content-Transfer-Encoding: 7bit",
                      b"",
                      b"Plain version.",
                      b"--" + alt,
                      b"Content-Type: text/html; charset=us-ascii",
                      b"Content-Transfer-Encoding: 7bit",
                      b"",
                      b"<html><body><p>HTML <b>version</b>.</p></body></html>",
                      b"--" + alt + b"--")))

    mix = b"mixed-boundary-0002"
    attachment = pseudo_random("attachment", 256 * 1024)
    add("multipart-mixed-attachment", "multipart/mixed with a 256 KiB base64 attachment",
        message(base_headers(n(), b"Report attached",
                             content_type=b'multipart/mixed; boundary="' + mix + b'"'),
                lines(b"--" + mix,
                      b"Content-Type: text/plain; charset=us-ascii",
                      b"",
                      b"The report is attached.",
                      b"--" + mix,
                      b"Content-Type: application/octet-stream; name=\"report.bin\"",
                      b"Content-Disposition: attachment; filename=\"report.bin\"",
                      b"Content-Transfer-Encoding: base64",
                      b"")
                + base64_lines(attachment)
                + lines(b"--" + mix + b"--")))

    subject_utf8 = "Grüße aus Köln – ünïcödé ✓".encode()
    encoded_word = b"=?UTF-8?B?" + base64.b64encode(subject_utf8) + b"?="
    hs = base_headers(n(), encoded_word, sender="Jürgen Müller <juergen@signer.example>".encode(),
                      content_type=b"text/plain; charset=utf-8")
    hs.append(b"Content-Transfer-Encoding: 8bit")
    add("utf8-8bit", "8-bit UTF-8 body, encoded-word Subject, raw UTF-8 display name",
        message(hs, lines("Grüße! Ünïcödé text: 日本語のテキスト, ελληνικά, русский.".encode(),
                          "Zeile mit Umlauten: äöü ÄÖÜ ß €".encode(),
                          "emoji: \U0001F600\U0001F4E7".encode())))

    def exact(prefix: bytes, length: int, fill: bytes = b"x") -> bytes:
        return prefix + fill * (length - len(prefix))

    hs = base_headers(n(), b"Lines of exactly 998 octets")
    hs.append(exact(b"X-Long-Line: ", 998))
    add("lines-998", "body lines and a header line of exactly 998 octets (without CRLF)",
        message(hs, lines(exact(b"", 998, b"a"),
                          exact(b"words ", 998, b"w"),
                          exact(b"ends in a space", 997, b"s") + b" ",
                          b"short line",
                          exact(b"", 998, b"z"))))

    add("folded-headers", "Subject and To folded over several lines, with tabs",
        message([b"From: Sender <sender@signer.example>",
                 b"To: Alice Example <alice@example.org>,\r\n"
                 b"\tBob Example <bob@example.org>,\r\n"
                 b"    Carol Example <carol@example.net>,\r\n"
                 b" \t dave@example.net",
                 b"Subject: This subject line\r\n"
                 b"\tis folded across\r\n"
                 b"  \t several lines\r\n"
                 b"\twith tabs and spaces",
                 DATE,
                 b"Message-ID: <corpus-%02d@signer.example>" % n(),
                 b"MIME-Version: 1.0",
                 b"Content-Type: text/plain;\r\n\tcharset=us-ascii;\r\n\tformat=flowed"],
                lines(b"Folded headers above.")))

    add("duplicate-headers", "two Subject, two To, two Received, two Cc",
        message([b"Received: from a.example.org by b.example.org; Mon, 03 Nov 2025 09:59:58 +0000",
                 b"Received: from c.example.org by a.example.org; Mon, 03 Nov 2025 09:59:57 +0000",
                 b"From: Sender <sender@signer.example>",
                 b"To: first@example.org",
                 b"Subject: First subject",
                 b"Cc: cc-one@example.org",
                 b"To: second@example.org",
                 b"Subject: Second subject",
                 b"Cc: cc-two@example.org",
                 DATE,
                 b"Message-ID: <corpus-%02d@signer.example>" % n()],
                lines(b"Duplicate header fields above.")))

    add("trailing-blank-lines", "body followed by 50 empty lines",
        message(base_headers(n(), b"Trailing blank lines"),
                lines(b"Text, then many empty lines.") + CRLF * 50))

    add("empty-body", "empty line after the headers and no body at all",
        message(base_headers(n(), b"Empty body"), b""))

    add("no-final-crlf", "multi-line body whose last line has no CRLF",
        message(base_headers(n(), b"No final CRLF"), b"line one\r\nline two\r\nline three"))

    add("whitespace-only-lines", "lines of only spaces and tabs, inside and at the end",
        message(base_headers(n(), b"Whitespace-only lines"),
                lines(b"first", b" ", b"\t", b"  \t  ", b"second", b"", b"   ", b"third",
                      b" ", b"\t\t", b"  ")))

    add("trailing-whitespace", "trailing spaces and tabs on body lines",
        message(base_headers(n(), b"Trailing whitespace"),
                lines(b"space   ", b"tab\t", b"mixed \t \t", b"none", b"  leading and trailing  ")))

    add("inner-whitespace", "tabs and runs of spaces inside lines",
        message(base_headers(n(), b"Inner   whitespace\t\tin subject"),
                lines(b"a\t\tb    c \t d", b"\tleading tab", b"    leading spaces",
                      b"x" + b" " * 40 + b"y", b"tab\there\tand\tthere")))

    add("colon-spacing", "header values with odd spacing after the colon, and an empty Subject",
        message([b"From:Sender <sender@signer.example>",
                 b"To:   recipient@example.org",
                 b"Subject:",
                 b"Cc:cc@example.org",
                 b"X-Tab:\tvalue after a tab",
                 b"X-Trail: value with trailing space   ",
                 b"X-Spaces:    many    inner     spaces   ",
                 DATE,
                 b"Message-ID: <corpus-%02d@signer.example>" % n()],
                lines(b"Odd spacing in the header above.")))

    add("space-before-colon", 'whitespace before the colon: "Subject :x", "X-Odd\\t: v" (obs-optional)',
        message([b"From: Sender <sender@signer.example>",
                 b"To: recipient@example.org",
                 b"Subject :x",
                 b"X-Odd\t: v",
                 DATE,
                 b"Message-ID: <corpus-%02d@signer.example>" % n()],
                lines(b"Whitespace before the colon above.")),
        dkimpy_parses=False)

    add("odd-case-names", "header field names in odd case",
        message([b"fROM: Sender <sender@signer.example>",
                 b"tO: recipient@example.org",
                 b"SUBJECT: Odd case names",
                 b"dAtE: Mon, 03 Nov 2025 10:00:00 +0000",
                 b"message-id: <corpus-%02d@signer.example>" % n(),
                 b"mime-VERSION: 1.0",
                 b"CONTENT-type: text/plain"],
                lines(b"Header names in odd case above.")))

    refs = b"References: " + b"\r\n ".join(b"<thread-%03d.%s@example.org>" % (i, b"r" * 20)
                                           for i in range(40))
    long_x = b"X-Long-Folded: " + b"\r\n\t".join(b"segment-%03d-" % i + b"v" * 50 for i in range(60))
    hs = base_headers(n(), b"Long header values")
    hs += [refs, long_x]
    assert len(refs) > 998 and len(long_x) > 998
    add("long-folded-headers", "header values longer than 998 octets, folded",
        message(hs, lines(b"Long folded headers above.")))

    add("single-line-no-crlf", "a body of one line without CRLF",
        message(base_headers(n(), b"Single line"), b"just one line, no line end"))

    add("leading-blank-lines", "body starting with empty lines",
        message(base_headers(n(), b"Leading blank lines"),
                CRLF * 3 + lines(b"Text after three empty lines.")))

    add("lone-dot", "lines of a single dot and of two dots",
        message(base_headers(n(), b"Lone dot"),
                lines(b"before", b".", b"after", b"..", b".", b"end")))

    add("from-space-lines", 'body lines beginning with "From "',
        message(base_headers(n(), b"From lines"),
                lines(b"From the desk of the sender:", b"From here on, mbox would quote.",
                      b">From quoted already", b"From ", b"end")))

    add("bare-cr", "a bare CR inside a body line and before a CRLF",
        message(base_headers(n(), b"Bare CR"),
                lines(b"carriage\rreturn inside a line", b"cr before the line end\r", b"end")))

    hs = base_headers(n(), b"Newsletter")
    hs += [b"List-Id: Newsletter <news.signer.example>",
           b"List-Unsubscribe: <https://signer.example/unsubscribe/opaque-token-123>,\r\n"
           b" <mailto:unsubscribe@signer.example?subject=unsubscribe%20123>",
           b"List-Unsubscribe-Post: List-Unsubscribe=One-Click"]
    add("list-unsubscribe", "List-Unsubscribe with List-Unsubscribe-Post (RFC 8058)",
        message(hs, lines(b"Newsletter body.")))

    hs = base_headers(n(), b"Re: Thread")
    hs += [b"Reply-To: Support <support@signer.example>",
           b"In-Reply-To: <parent@example.org>",
           b"References: <root@example.org> <parent@example.org>"]
    add("threading-headers", "Reply-To, In-Reply-To, References, Message-ID, Date, MIME-Version",
        message(hs, lines(b"> quoted", b"", b"Reply text.")))

    add("body-1mb", "a body of about 1 MiB of text lines",
        message(base_headers(n(), b"One megabyte"), text_block("1mb", 1024 * 1024 // 74)))

    add("body-only-crlfs", 'a body of only "\\r\\n\\r\\n\\r\\n"',
        message(base_headers(n(), b"Only line ends"), CRLF * 3))

    add("headers-only", "headers only, no empty line and no body",
        message(base_headers(n(), b"Headers only"), None))

    add("subdomain-from", "From at a subdomain of the signing domain",
        message(base_headers(n(), b"From a subdomain", sender=b"News <news@mail.signer.example>"),
                lines(b"Sent from a subdomain.")))

    add("display-name-comma", "quoted display name with a comma (still one address)",
        message(base_headers(n(), b"Comma in name", sender=b'"Doe, Jane" <jane@signer.example>'),
                lines(b"One address, a comma in the display name.")))

    add("from-comment", "From address followed by a comment",
        message(base_headers(n(), b"Comment in From", sender=b"jane@signer.example (Jane Doe)"),
                lines(b"Address with a comment.")))

    hs = base_headers(n(), b"NBSP at line ends", content_type=b"text/plain; charset=utf-8")
    hs.append(b"Content-Transfer-Encoding: 8bit")
    add("nbsp-trailing", "UTF-8 no-break space at line ends (not WSP, must not be stripped)",
        message(hs, lines(b"ends in nbsp\xc2\xa0", b"ends in nbsp and space\xc2\xa0 ", b"plain")))

    add("whitespace-continuation", "a folded header with a continuation line of only whitespace",
        message([b"From: Sender <sender@signer.example>",
                 b"To: recipient@example.org",
                 b"Subject: first part\r\n \r\n second part",
                 DATE,
                 b"Message-ID: <corpus-%02d@signer.example>" % n()],
                lines(b"obs-FWS above.")))

    outer, inner, rel = b"outer-0033", b"inner-0033", b"related-0033"
    image = pseudo_random("image", 3000)
    add("nested-multipart", "multipart/mixed > alternative > related with an inline image",
        message(base_headers(n(), b"Nested MIME",
                             content_type=b'multipart/mixed;\r\n\tboundary="' + outer + b'"'),
                lines(b"--" + outer,
                      b'Content-Type: multipart/alternative; boundary="' + inner + b'"',
                      b"",
                      b"--" + inner,
                      b"Content-Type: text/plain",
                      b"",
                      b"Plain.",
                      b"--" + inner,
                      b'Content-Type: multipart/related; boundary="' + rel + b'"',
                      b"",
                      b"--" + rel,
                      b"Content-Type: text/html",
                      b"",
                      b'<p>HTML <img src="cid:img1@signer.example"></p>',
                      b"--" + rel,
                      b"Content-Type: image/png",
                      b"Content-ID: <img1@signer.example>",
                      b"Content-Transfer-Encoding: base64",
                      b"")
                + base64_lines(image)
                + lines(b"--" + rel + b"--", b"--" + inner + b"--",
                        b"--" + outer,
                        b"Content-Type: text/csv; name=data.csv",
                        b"Content-Disposition: attachment",
                        b"",
                        b"a,b,c",
                        b"1,2,3",
                        b"--" + outer + b"--")))

    hs = base_headers(n(), "Grüße aus Köln (raw UTF-8 subject)".encode(),
                      content_type=b"text/plain; charset=utf-8")
    hs.append(b"Content-Transfer-Encoding: 8bit")
    add("raw-utf8-subject", "raw UTF-8 in Subject (RFC 6532 style)",
        message(hs, lines("Schöne Grüße.".encode())))

    hs = [b"Received: from relay%d.example.org by relay%d.example.org; Mon, 03 Nov 2025 09:59:%02d +0000"
          % (i, i + 1, 50 - i) for i in range(10)]
    hs += base_headers(n(), b"Many Received")
    hs += [b"X-Custom-%03d: value %d" % (i, i) for i in range(100)]
    add("many-headers", "ten Received fields and a hundred custom fields",
        message(hs, lines(b"Many header fields above.")))

    add("from-angle-only", "From with only an angle-bracketed address",
        message(base_headers(n(), b"Angle only", sender=b"<only@signer.example>"),
                lines(b"No display name.")))

    hs = base_headers(n(), b"Folded MIME parameters",
                      content_type=b'text/plain;\r\n\tcharset="utf-8";\r\n\tformat=flowed;\r\n\tdelsp=yes')
    hs.append(b"Content-Transfer-Encoding:\r\n quoted-printable")
    add("folded-mime-headers", "MIME headers with folded parameters",
        message(hs, lines(b"Gr=C3=BC=C3=9Fe, soft line break=", b"continues here.")))

    add("cc-and-reply-to-only", "Cc and Reply-To, no To",
        message([b"From: Sender <sender@signer.example>",
                 b"Cc: Copy <copy@example.org>",
                 b"Reply-To: replies@signer.example",
                 b"Subject: No To header",
                 DATE,
                 b"Message-ID: <corpus-%02d@signer.example>" % n()],
                lines(b"Undisclosed recipients.")))

    return msgs


def refusal_set() -> list[Message]:
    rest = [b"To: recipient@example.org", b"Subject: Must be refused", DATE,
            b"Message-ID: <refuse@signer.example>"]
    body = lines(b"This message must not be signed.")
    return [
        Message("01-no-from.eml", "no From header field",
                message([b"Sender: sender@signer.example"] + rest, body)),
        Message("02-two-from.eml", "two From header fields",
                message([b"From: first@signer.example", b"From: second@signer.example"] + rest, body)),
        Message("03-from-two-addresses.eml", "one From header field with two addresses",
                message([b"From: first@signer.example, Second <second@signer.example>",
                         b"Sender: first@signer.example"] + rest, body)),
    ]


def write_corpus(outdir: str) -> tuple[list[tuple[str, Message]], list[tuple[str, Message]]]:
    """Writes both sets; returns [(path, Message)] for the main and the refusal set."""
    os.makedirs(os.path.join(outdir, "refuse"), exist_ok=True)
    written_main, written_refuse = [], []
    for m in main_set():
        path = os.path.join(outdir, m.name)
        with open(path, "wb") as f:
            f.write(m.data)
        written_main.append((path, m))
    for m in refusal_set():
        path = os.path.join(outdir, "refuse", m.name)
        with open(path, "wb") as f:
            f.write(m.data)
        written_refuse.append((path, m))
    return written_main, written_refuse


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir")
    args = ap.parse_args(argv)
    main_written, refuse_written = write_corpus(args.outdir)
    for path, m in main_written + refuse_written:
        print(f"{path}\t{len(m.data)}\t{m.about}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
