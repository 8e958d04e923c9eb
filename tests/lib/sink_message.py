"""sink_message: a mail transaction as the remote side received it.

SmtpSink and ScriptedSmtpServer both store what they accept in the format of
`smtp-sink -d`, which un-dot-stuffs, stores lines with LF, prepends
X-Client-Addr, X-Client-Proto, X-Helo-Args, X-Mail-Args ("<addr> PARAMS"),
one X-Rcpt-Args per RCPT and a three-line Received header, and appends one
empty line. parse_sink_file() undoes all that and returns the message with
CRLF line ends, as it was on the wire (bare CRs cannot be recovered from the
dump). Standard library only.
"""

from __future__ import annotations

import collections
import dataclasses
import email
import email.message
import email.policy
import re

from net import MailstackError


@dataclasses.dataclass
class SinkMessage:
    """One mail transaction as received by SmtpSink or ScriptedSmtpServer."""
    sender: str                      # envelope sender, without <>; "" for null
    recipients: list[str]            # accepted envelope recipients, without <>
    data: bytes                      # message (headers + body), CRLF line ends
    mail_params: str = ""            # e.g. "SIZE=123 BODY=8BITMIME"
    rcpt_params: list[str] = dataclasses.field(default_factory=list)
    helo: str = ""
    client_addr: str = ""
    path: str | None = None          # dump file, if any

    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)

    def header(self, name: str) -> list[str]:
        """Raw (unfolded, stripped) values of every header field called name."""
        head = self.data.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
        values = []
        for m in re.finditer(r"^([^:\s]+):([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)", head, re.M):
            if m.group(1).lower() == name.lower():
                values.append(re.sub(r"\r\n(?=[ \t])", "", m.group(2)).strip())
        return values


def split_addr_args(text: str) -> tuple[str, str]:
    text = text.strip()
    m = re.match(r"<([^>]*)>\s*(.*)$", text)
    if m:
        return m.group(1), m.group(2)
    addr, _, rest = text.partition(" ")
    return addr, rest.strip()


def parse_sink_file(path: str) -> SinkMessage:
    """Parse a file written by `smtp-sink -d` (or ScriptedSmtpServer).

    Returns the envelope and the message exactly as the client sent it after
    un-dot-stuffing, with CRLF line ends and without the sink's own headers."""
    with open(path, "rb") as f:
        raw = f.read()
    lines = raw.split(b"\n")
    fields: dict[str, list[str]] = collections.defaultdict(list)
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith(b"Received: "):
            i += 3  # three-line Received header closes the sink's block
            break
        name, sep, value = line.partition(b": ")
        if not sep or not name.startswith(b"X-"):
            raise MailstackError(f"{path}: not an smtp-sink dump (line {i + 1}: {line[:60]!r})")
        fields[name.decode()].append(value.decode("utf-8", "replace"))
        i += 1
    body_lines = lines[i:]
    # The dump ends with "\n" after the last message line plus one empty line.
    if len(body_lines) >= 2 and body_lines[-1] == b"" and body_lines[-2] == b"":
        body_lines = body_lines[:-2]
    elif body_lines and body_lines[-1] == b"":
        body_lines = body_lines[:-1]
    data = b"".join(line + b"\r\n" for line in body_lines)
    sender, mail_params = split_addr_args((fields.get("X-Mail-Args") or [""])[0])
    recipients, rcpt_params = [], []
    for arg in fields.get("X-Rcpt-Args", []):
        addr, params = split_addr_args(arg)
        recipients.append(addr)
        rcpt_params.append(params)
    return SinkMessage(sender=sender, recipients=recipients, data=data,
                       mail_params=mail_params, rcpt_params=rcpt_params,
                       helo=(fields.get("X-Helo-Args") or [""])[0],
                       client_addr=(fields.get("X-Client-Addr") or [""])[0],
                       path=path)
