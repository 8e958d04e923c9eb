// bounce_samples.h — realistic delivery status and feedback reports for the
// bounce parser tests, modelled on what Postfix, Exim, Gmail, Exchange and a
// Yahoo/AOL-style feedback loop send (addresses and hosts replaced by
// example ones). Written with LF line ends, as Postfix's pipe hands them
// over; with_crlf() gives the wire form.
#pragma once

#include <string>
#include <string_view>

namespace tenantmail::bounce::samples {

inline std::string with_crlf(std::string_view text) {
    std::string out;
    for (const char c : text) {
        if (c == '\n') out += '\r';
        out += c;
    }
    return out;
}

inline constexpr std::string_view kBounceAddress = "bounces+aebagbaf4dqmjrgm2a@mta.careers.uni.ac.uk";

// Postfix: hard bounce, the original returned whole (message/rfc822).
inline constexpr std::string_view kPostfixDsn = R"(Return-Path: <>
Received: by mx1.example.net (Postfix) id 7D1A2C0481; Mon,  4 Mar 2024 10:15:02 +0000 (UTC)
Date: Mon,  4 Mar 2024 10:15:02 +0000 (UTC)
From: MAILER-DAEMON@mx1.example.net (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: bounces+aebagbaf4dqmjrgm2a@mta.careers.uni.ac.uk
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="7D1A2C0481.1709547302/mx1.example.net"
Content-Transfer-Encoding: 8bit
Message-Id: <20240304101502.7D1A2C0481@mx1.example.net>

This is a MIME-encapsulated message.

--7D1A2C0481.1709547302/mx1.example.net
Content-Description: Notification
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

This is the mail system at host mx1.example.net.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

<nobody@example.org>: host mx.example.org[192.0.2.25] said: 550 5.1.1
    <nobody@example.org>: Recipient address rejected: User unknown in virtual
    mailbox table (in reply to RCPT TO command)

--7D1A2C0481.1709547302/mx1.example.net
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx1.example.net
X-Postfix-Queue-ID: 7D1A2C0481
X-Postfix-Sender: rfc822; bounces+aebagbaf4dqmjrgm2a@mta.careers.uni.ac.uk
Arrival-Date: Mon,  4 Mar 2024 10:15:01 +0000 (UTC)

Final-Recipient: rfc822; nobody@example.org
Original-Recipient: rfc822;Nobody@Example.org
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.org
Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.org>: Recipient address
    rejected: User unknown in virtual mailbox table

--7D1A2C0481.1709547302/mx1.example.net
Content-Description: Undelivered Message
Content-Type: message/rfc822
Content-Transfer-Encoding: 8bit

Return-Path: <bounces+aebagbaf4dqmjrgm2a@mta.careers.uni.ac.uk>
DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=careers.uni.ac.uk;
	s=mailtcex; h=from:to:subject; bh=abc=; b=def=
From: Careers Service <jobs@careers.uni.ac.uk>
To: Nobody <Nobody@Example.org>
Subject: Your application
Message-ID: <job-4711@careers.uni.ac.uk>
Date: Mon, 4 Mar 2024 10:14:59 +0000

Dear applicant, ...

--7D1A2C0481.1709547302/mx1.example.net--
)";

// Exim: two recipients, one failed and one delivered, the original returned.
inline constexpr std::string_view kEximDsn = R"(Return-path: <>
Envelope-to: bounces+aebagbaf4dqmjrgm2a@mta.careers.uni.ac.uk
X-Failed-Recipients: gone@exim.example
Auto-Submitted: auto-replied
From: Mail Delivery System <Mailer-Daemon@smtp.exim.example>
To: bounces+aebagbaf4dqmjrgm2a@mta.careers.uni.ac.uk
Content-Type: multipart/report; report-type=delivery-status; boundary=1709547400-eximdsn-1234567
MIME-Version: 1.0
Subject: Mail delivery failed: returning message to sender
Message-Id: <E1rhABC-0001aB-7q@smtp.exim.example>
Date: Mon, 04 Mar 2024 10:16:40 +0000

--1709547400-eximdsn-1234567
Content-type: text/plain; charset=us-ascii

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  gone@exim.example
    host mx.exim.example [198.51.100.7]
    SMTP error from remote mail server after RCPT TO:<gone@exim.example>:
    550 5.2.1 The email account that you tried to reach is disabled

--1709547400-eximdsn-1234567
Content-type: message/delivery-status

Reporting-MTA: dns; smtp.exim.example

Action: failed
Final-Recipient: rfc822;gone@exim.example
Status: 5.0.0
Remote-MTA: dns; mx.exim.example
X-Remote-MTA-smtp-greeting: X-Str; 220 mx.exim.example ESMTP
Diagnostic-Code: smtp; 550 5.2.1 The email account that you tried to reach is disabled

Action: delivered
Final-Recipient: rfc822;here@exim.example
Status: 2.0.0

--1709547400-eximdsn-1234567
Content-type: message/rfc822

Return-path: <bounces+aebagbaf4dqmjrgm2a@mta.careers.uni.ac.uk>
From: jobs@careers.uni.ac.uk
To: gone@exim.example, here@exim.example
Subject: Newsletter
Message-ID: <news-1@careers.uni.ac.uk>

Hello
--1709547400-eximdsn-1234567--
)";

// Gmail: the human part is multipart/related (text, html, an icon), the
// Diagnostic-Code spans several 550-5.1.1 lines, headers only come back.
inline constexpr std::string_view kGmailDsn = R"(Delivered-To: bounces+aebagbaf4dqmjrgm2a@mta.careers.uni.ac.uk
Return-Path: <>
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: bounces+aebagbaf4dqmjrgm2a@mta.careers.uni.ac.uk
Auto-Submitted: auto-replied
Subject: Delivery Status Notification (Failure)
Message-ID: <65e5a1b2.050a0220.1b2c3.abcdGMR@mx.google.com>
Date: Mon, 04 Mar 2024 02:20:18 -0800 (PST)
MIME-Version: 1.0
Content-Type: multipart/report; boundary="000000000000c4a1f70612d1e4a0"; report-type=delivery-status

--000000000000c4a1f70612d1e4a0
Content-Type: multipart/related; boundary="000000000000c4a2070612d1e4a8"

--000000000000c4a2070612d1e4a8
Content-Type: multipart/alternative; boundary="000000000000c4a20f0612d1e4a9"

--000000000000c4a20f0612d1e4a9
Content-Type: text/plain; charset="UTF-8"

** Address not found **

Your message wasn't delivered to no.such.user@gmail.example because the address couldn't be found.

--000000000000c4a20f0612d1e4a9
Content-Type: text/html; charset="UTF-8"

<html><body><p>Address not found</p></body></html>

--000000000000c4a20f0612d1e4a9--
--000000000000c4a2070612d1e4a8
Content-Type: image/png; name="icon.png"
Content-Disposition: attachment; filename="icon.png"
Content-Transfer-Encoding: base64
Content-ID: <icon.png>

iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==
--000000000000c4a2070612d1e4a8--
--000000000000c4a1f70612d1e4a0
Content-Type: message/delivery-status

Reporting-MTA: dns; googlemail.com
Received-From-MTA: dns; mta.careers.uni.ac.uk
Arrival-Date: Mon, 04 Mar 2024 02:20:17 -0800 (PST)
X-Original-Message-ID: <job-4712@careers.uni.ac.uk>

Final-Recipient: rfc822; no.such.user@gmail.example
Action: failed
Status: 5.1.1
Remote-MTA: dns; gmail-smtp-in.l.google.com. (2001:db8::1b, the server for
 the domain gmail.example.)
Diagnostic-Code: smtp; 550-5.1.1 The email account that you tried to reach does
 not exist. Please try
 550-5.1.1 double-checking the recipient's email address for typos or
 550-5.1.1 unnecessary spaces. For more information, go to
 550 5.1.1  https://support.google.com/mail/?p=NoSuchUser a1si2b3c4d5e6f.7 - gsmtp
Last-Attempt-Date: Mon, 04 Mar 2024 02:20:18 -0800 (PST)

--000000000000c4a1f70612d1e4a0
Content-Type: text/rfc822-headers

Return-Path: <bounces+aebagbaf4dqmjrgm2a@mta.careers.uni.ac.uk>
From: jobs@careers.uni.ac.uk
To: no.such.user@gmail.example
Subject: Interview invitation
Message-ID: <job-4712@careers.uni.ac.uk>
Date: Mon, 4 Mar 2024 10:20:15 +0000

--000000000000c4a1f70612d1e4a0--
)";

// Exchange Online: quoted-printable human part, the status part base64
// encoded, three recipients (two failed, one delayed), a Diagnostic-Code
// folded over lines, X-Display-Name, headers returned.
inline constexpr std::string_view kExchangeDsn = R"(From: postmaster@outlook.example
To: <bounces+aebagbaf4dqmjrgm2a@mta.careers.uni.ac.uk>
Date: Mon, 4 Mar 2024 10:30:01 +0000
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="b1d3c0a4-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
X-MS-Exchange-Message-Is-Ndr:
Content-Language: en-US
Message-ID: <1c2d3e4f-aaaa-bbbb-cccc-ddddeeeeffff@DB9PR01MB1234.eurprd01.prod.outlook.example>
In-Reply-To: <news-2@careers.uni.ac.uk>
Subject: Undeliverable: Open day
Auto-Submitted: auto-replied

--b1d3c0a4-5e6f-4a7b-8c9d-0e1f2a3b4c5d
Content-Type: multipart/alternative;
	boundary="a1b2c3d4-0000-1111-2222-333344445555"

--a1b2c3d4-0000-1111-2222-333344445555
Content-Type: text/plain; charset="us-ascii"
Content-Transfer-Encoding: quoted-printable

Your message to alice@contoso.example couldn't be delivered.=0D=0A=
alice wasn't found at contoso.example.=0D=0A=
Office 365 =E2=80=94 Action Required

--a1b2c3d4-0000-1111-2222-333344445555
Content-Type: text/html; charset="us-ascii"
Content-Transfer-Encoding: quoted-printable

<html><body><p>Your message couldn=27t be delivered.</p></body></html>

--a1b2c3d4-0000-1111-2222-333344445555--

--b1d3c0a4-5e6f-4a7b-8c9d-0e1f2a3b4c5d
Content-Type: message/delivery-status
Content-Transfer-Encoding: base64

UmVwb3J0aW5nLU1UQTogZG5zO0RCOVBSMDFNQjEyMzQuZXVycHJkMDEucHJvZC5vdXRsb29rLmV4
YW1wbGUNClJlY2VpdmVkLUZyb20tTVRBOiBkbnM7bXRhLmNhcmVlcnMudW5pLmFjLnVrDQpBcnJp
dmFsLURhdGU6IE1vbiwgNCBNYXIgMjAyNCAxMDozMDowMCArMDAwMA0KDQpPcmlnaW5hbC1SZWNp
cGllbnQ6IHJmYzgyMjthbGljZUBjb250b3NvLmV4YW1wbGUNCkZpbmFsLVJlY2lwaWVudDogcmZj
ODIyO2FsaWNlQGNvbnRvc28uZXhhbXBsZQ0KQWN0aW9uOiBmYWlsZWQNClN0YXR1czogNS4xLjEw
DQpEaWFnbm9zdGljLUNvZGU6IHNtdHA7NTUwIDUuMS4xMCBSRVNPTFZFUi5BRFIuUmVjaXBpZW50
Tm90Rm91bmQ7IFJlY2lwaWVudA0KIGFsaWNlQGNvbnRvc28uZXhhbXBsZSBub3QgZm91bmQgYnkg
U01UUCBhZGRyZXNzIGxvb2t1cA0KUmVtb3RlLU1UQTogZG5zO0RCOVBSMDFNQjEyMzQuZXVycHJk
MDEucHJvZC5vdXRsb29rLmV4YW1wbGUNClgtRGlzcGxheS1OYW1lOiBBbGljZQ0KDQpPcmlnaW5h
bC1SZWNpcGllbnQ6IHJmYzgyMjtib2JAY29udG9zby5leGFtcGxlDQpGaW5hbC1SZWNpcGllbnQ6
IHJmYzgyMjtib2JAY29udG9zby5leGFtcGxlDQpBY3Rpb246IGZhaWxlZA0KU3RhdHVzOiA1LjIu
Mg0KRGlhZ25vc3RpYy1Db2RlOiBzbXRwOzU1NCA1LjIuMiBtYWlsYm94IGZ1bGw7DQogU1RPUkVE
UlYuRGVsaXZlcnkuTWFpbGJveFF1b3RhRXhjZWVkZWQNCg0KT3JpZ2luYWwtUmVjaXBpZW50OiBy
ZmM4MjI7Y2Fyb2xAY29udG9zby5leGFtcGxlDQpGaW5hbC1SZWNpcGllbnQ6IHJmYzgyMjtjYXJv
bEBjb250b3NvLmV4YW1wbGUNCkFjdGlvbjogZGVsYXllZA0KU3RhdHVzOiA0LjQuNw0KRGlhZ25v
c3RpYy1Db2RlOiBzbXRwOzQ1MSA0LjQuNyBNZXNzYWdlIGRlbGF5ZWQNCldpbGwtUmV0cnktVW50
aWw6IFdlZCwgNiBNYXIgMjAyNCAxMDozMDowMCArMDAwMA0K

--b1d3c0a4-5e6f-4a7b-8c9d-0e1f2a3b4c5d
Content-Type: text/rfc822-headers

Return-Path: bounces+aebagbaf4dqmjrgm2a@mta.careers.uni.ac.uk
From: Careers <jobs@careers.uni.ac.uk>
To: "Alice" <alice@contoso.example>, bob@contoso.example,
 carol@contoso.example
Subject: Open day
Message-ID: <news-2@careers.uni.ac.uk>

--b1d3c0a4-5e6f-4a7b-8c9d-0e1f2a3b4c5d--
)";

// Postfix delay warning: Action delayed, 4.x.x, Will-Retry-Until.
inline constexpr std::string_view kPostfixDelayed = R"(From: MAILER-DAEMON@mx1.example.net (Mail Delivery System)
Subject: Delayed Mail (still being retried)
To: bounces+aebagbaf4dqmjrgm2a@mta.careers.uni.ac.uk
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="3A1B2C0481.1709633702/mx1.example.net"
Message-Id: <20240305101502.3A1B2C0481@mx1.example.net>

--3A1B2C0481.1709633702/mx1.example.net
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx1.example.net.

####################################################################
# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #
####################################################################

--3A1B2C0481.1709633702/mx1.example.net
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx1.example.net
X-Postfix-Queue-ID: 3A1B2C0481
Arrival-Date: Mon,  4 Mar 2024 10:15:01 +0000 (UTC)

Final-Recipient: rfc822; slow@example.org
Action: delayed
Status: 4.4.1
Diagnostic-Code: X-Postfix; connect to mx.example.org[192.0.2.25]:25: Connection
    timed out
Will-Retry-Until: Mon, 11 Mar 2024 10:15:01 +0000 (UTC)

--3A1B2C0481.1709633702/mx1.example.net
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

Return-Path: <bounces+aebagbaf4dqmjrgm2a@mta.careers.uni.ac.uk>
From: jobs@careers.uni.ac.uk
To: slow@example.org
Message-ID: <job-4713@careers.uni.ac.uk>

--3A1B2C0481.1709633702/mx1.example.net--
)";

// RFC 6533 global DSN: UTF-8 addresses and diagnostics.
inline constexpr std::string_view kGlobalDsn = R"(From: MAILER-DAEMON@mx.example.jp
To: bounces+aebagbaf4dqmjrgm2a@mta.careers.uni.ac.uk
Subject: Undelivered
Message-ID: <global-1@mx.example.jp>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=global-delivery-status; boundary="g"

--g
Content-Type: text/plain; charset=utf-8

Delivery failed.
--g
Content-Type: message/global-delivery-status

Reporting-MTA: dns; mx.example.jp

Final-Recipient: utf-8; 用户@例え.example
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 用户 unknown
--g
Content-Type: message/global-headers

From: jobs@careers.uni.ac.uk
Message-ID: <global-orig@careers.uni.ac.uk>
--g--
)";

// Yahoo/AOL-style feedback loop report (RFC 5965).
inline constexpr std::string_view kArfReport = R"(Return-Path: <feedback@arf.mail.yahoo.example>
From: Yahoo! Mail AntiSpam Feedback <feedback@arf.mail.yahoo.example>
To: fbl@mta.careers.uni.ac.uk
Subject: FW: Newsletter March
Date: Mon, 4 Mar 2024 11:00:00 +0000
Message-ID: <arf-20240304110000.12345@arf.mail.yahoo.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report;
	boundary="----=_Part_12345_67890.1709550000000"

------=_Part_12345_67890.1709550000000
Content-Type: text/plain; charset=us-ascii
Content-Transfer-Encoding: 7bit

This is an email abuse report for an email message received from IP
192.0.2.10 on Mon, 4 Mar 2024 10:40:00 +0000.
For more information about this format please see http://www.mipassoc.org/arf/.

------=_Part_12345_67890.1709550000000
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: Yahoo!-Mail-Feedback/2.0
Version: 1
Original-Mail-From: <bounces+aebagbaf4dqmjrgm2a@mta.careers.uni.ac.uk>
Original-Rcpt-To: <Reader@yahoo.example>
Arrival-Date: Mon, 4 Mar 2024 10:40:00 +0000
Source-IP: 192.0.2.10
Reported-Domain: careers.uni.ac.uk
Authentication-Results: mta1.yahoo.example; dkim=pass header.d=careers.uni.ac.uk

------=_Part_12345_67890.1709550000000
Content-Type: message/rfc822
Content-Disposition: inline

Return-Path: <bounces+aebagbaf4dqmjrgm2a@mta.careers.uni.ac.uk>
Received: from mta.careers.uni.ac.uk (192.0.2.10) by mta1.yahoo.example
From: jobs@careers.uni.ac.uk
To: reader@yahoo.example
Subject: Newsletter March
Message-ID: <news-3@careers.uni.ac.uk>

Unwanted, apparently.

------=_Part_12345_67890.1709550000000--
)";

// AOL-style: the recipient redacted in Original-Rcpt-To's absence; only the
// returned original's To names the complainant.
inline constexpr std::string_view kArfRedacted = R"(From: scomp@aol.example
To: fbl@mta.careers.uni.ac.uk
Subject: Email Feedback Report for IP 192.0.2.10
Message-ID: <arf-aol-1@aol.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="boundary-aol"

--boundary-aol
Content-Type: text/plain

This is an email abuse report.
--boundary-aol
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: AOL SComp
Version: 0.1
Received-Date: Mon, 4 Mar 2024 10:40:00 +0000
Source-IP: 192.0.2.10
--boundary-aol
Content-Type: message/rfc822

Return-Path: <bounces+aebagbaf4dqmjrgm2a@mta.careers.uni.ac.uk>
From: jobs@careers.uni.ac.uk
To: "A Reader" <someone@aol.example>
Message-ID: <news-4@careers.uni.ac.uk>

Body.
--boundary-aol--
)";

}  // namespace tenantmail::bounce::samples
