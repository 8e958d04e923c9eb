// recipient.h — how recipients are compared: the one form of an envelope
// address used wherever a recipient is a key (policyd's suppression check,
// suppression entries written by tenantmail-bounce and tenantmailctl,
// message records and outcomes). Two spellings that the MTA delivers to the
// same mailbox must give the same key, or a suppression is bypassed by
// writing `gone@example.org.` instead of `gone@example.org`.
//
// The form, step by step (what Postfix's address resolution does too):
//   * a source route is dropped: `@a,@b:user@dom` -> `user@dom`;
//   * a quoted local part is unquoted (Postfix's internal form):
//     `"gone"@dom` -> `gone@dom`, `"a\"b"@dom` -> `a"b@dom`;
//   * the domain is the part after the last '@' outside quotes; trailing
//     dots are dropped (`example.org.` is `example.org` to DNS and to
//     Postfix), except inside an address literal (`[192.0.2.1]`,
//     `[IPv6:2001:db8::1]`), which is kept as written apart from case;
//   * everything is lower-cased (ASCII only; UTF-8 bytes are untouched).
//     The local part too, on purpose: RFC 5321 lets a server treat it as
//     case-sensitive, but virtually none does, and a suppression must err on
//     the side of refusing `Gone@` when `gone@` bounced.
// Not done: percent hack (`user%dom@relay`), bang paths, subaddresses
// (`user+tag`), IDNA (U-labels and A-labels stay distinct), canonical forms
// of IP literals. Pure, cannot fail: any input gives some key (an address
// without '@' is only unquoted and lower-cased).
#pragma once

#include <string>
#include <string_view>

namespace tenantmail {

std::string normalise_recipient(std::string_view address);
// The same, written into out (cleared first), for callers that reuse a buffer.
void normalise_recipient_into(std::string& out, std::string_view address);

}  // namespace tenantmail
