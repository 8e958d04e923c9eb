"""bounce_reports: bounce addresses and delivery/feedback reports for tests.

Made independently of tenantmail's C++ code, so tests that use them check
the programs against the formats, not against themselves:

  * bounce_address(secret, queue_id, domain[, sent_at][, tenant])  bounces+TOKEN@domain
  * dsn(bounce_addr, recipients, report_id, original_id, ...)  an RFC 3464
    multipart/report (recipients as (address, action, status, diagnostic))
  * arf(bounce_addr, to, rcpt_to, report_id, original_id[, feedback_type])
    an RFC 5965 feedback report

Reports use LF line ends (as pipe(8) hands them over); replace them with
CRLF to send one by SMTP. Standard library only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time


# ---------------------------------------------------------------------------
# Bounce addresses, made independently of the C++ codec (common/bounce_address.cpp).
# Version 2 (with tenant): version 2 | minutes since 2024-01-01 (3 bytes,
# big-endian) | tag (first 2 bytes of HMAC-SHA256(secret, "tenant-tag" NUL
# tenant)) | queue id | HMAC-SHA256 truncated to 10 bytes over that payload,
# a NUL, the lower-cased domain, a NUL and the tenant id.
# Version 1 (tenant=None, the tokens made before tenants were bound):
# version 1 | sent_at (4 bytes, big-endian seconds) | queue id | MAC over the
# payload, a NUL and the lower-cased domain.
# base32 (RFC 4648 alphabet, lower case, no padding). The key is the secret
# file's text without its line end.

V2_EPOCH = 1704067200


def bounce_address(secret: bytes, queue_id: str, domain: str, sent_at: int | None = None,
                   tenant: str | None = None) -> str:
    sent_at = int(time.time()) if sent_at is None else sent_at
    if tenant is None:
        payload = bytes([1]) + sent_at.to_bytes(4, "big") + queue_id.encode()
        mac_input = payload + b"\0" + domain.lower().encode()
    else:
        tag = hmac.new(secret, b"tenant-tag\0" + tenant.encode(), hashlib.sha256).digest()[:2]
        payload = bytes([2]) + ((sent_at - V2_EPOCH) // 60).to_bytes(3, "big") + tag + queue_id.encode()
        mac_input = payload + b"\0" + domain.lower().encode() + b"\0" + tenant.encode()
    mac = hmac.new(secret, mac_input, hashlib.sha256).digest()[:10]
    token = base64.b32encode(payload + mac).decode().rstrip("=").lower()
    return f"bounces+{token}@{domain.lower()}"


# ---------------------------------------------------------------------------
# Reports

def dsn(bounce_addr: str, recipients: list[tuple[str, str, str, str]], report_id: str,
        original_id: str, original_to: str = "someone@example.org", status_encoding: str = "") -> bytes:
    """A multipart/report DSN; recipients as (address, action, status, diagnostic)."""
    groups = []
    for address, action, status, diagnostic in recipients:
        group = f"Final-Recipient: rfc822; {address}\nAction: {action}\nStatus: {status}\n"
        group += "Remote-MTA: dns; mx.example.org\n"
        if diagnostic:
            # Folded, as MTAs do with long replies.
            head, _, tail = diagnostic.partition(" | ")
            group += f"Diagnostic-Code: smtp; {head}\n" + (f"    {tail}\n" if tail else "")
        groups.append(group)
    status_part = "Reporting-MTA: dns; mx1.example.net\nArrival-Date: Mon, 4 Mar 2024 10:15:01 +0000\n\n" + \
        "\n".join(groups)
    if status_encoding == "base64":
        status_part = base64.encodebytes(status_part.encode()).decode()
        cte = "Content-Transfer-Encoding: base64\n"
    else:
        cte = ""
    text = f"""From: MAILER-DAEMON@mx1.example.net (Mail Delivery System)
To: {bounce_addr}
Subject: Undelivered Mail Returned to Sender
Message-Id: <{report_id}>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="BOUNDARY/mx1.example.net"

--BOUNDARY/mx1.example.net
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not be delivered.

--BOUNDARY/mx1.example.net
Content-Description: Delivery report
Content-Type: message/delivery-status
{cte}
{status_part}
--BOUNDARY/mx1.example.net
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

Return-Path: <{bounce_addr}>
From: jobs@acme.example
To: {original_to}
Subject: Your application
Message-ID: <{original_id}>

--BOUNDARY/mx1.example.net--
"""
    return text.encode()


def arf(bounce_addr: str, to: str, rcpt_to: str | None, report_id: str, original_id: str,
        feedback_type: str = "abuse") -> bytes:
    rcpt_line = f"Original-Rcpt-To: <{rcpt_to}>\n" if rcpt_to else ""
    text = f"""From: Feedback Loop <feedback@arf.isp.example>
To: {to}
Subject: FW: Newsletter
Message-ID: <{report_id}>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="arf-b"

--arf-b
Content-Type: text/plain

This is an email abuse report for a message received from IP 192.0.2.10.
--arf-b
Content-Type: message/feedback-report

Feedback-Type: {feedback_type}
User-Agent: ISP-Feedback/2.0
Version: 1
Original-Mail-From: <{bounce_addr}>
{rcpt_line}Arrival-Date: Mon, 4 Mar 2024 10:40:00 +0000
Source-IP: 192.0.2.10
Reported-Domain: acme.example
--arf-b
Content-Type: message/rfc822

Return-Path: <{bounce_addr}>
From: jobs@acme.example
To: reader@isp.example
Message-ID: <{original_id}>

Unwanted.
--arf-b--
"""
    return text.encode()
