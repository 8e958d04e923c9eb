// auto_reply.h — is a message that is no delivery or feedback report an
// automatic reply (out-of-office, vacation, "thank you for your message")?
// Such replies to a bounce address are dropped with a log line instead of
// being kept as unparsed reports: a flood of them would push the reports an
// admin needs to see out of the capped stream.
// Markers: Auto-Submitted: auto-replied (RFC 3834), X-Autoreply,
// X-Autorespond, Precedence: auto_reply. Postfix and other MTAs put
// Auto-Submitted: auto-replied on their bounces too, so the caller asks only
// about messages that are no parsable report, and a message that still looks
// like a bounce (X-Failed-Recipients, From MAILER-DAEMON or postmaster) is
// never taken for an auto-reply. Pure.
#pragma once

#include <string_view>

namespace tenantmail::bounce {

// header_block: the message's top-level header (header_scan.h top_header_block).
bool is_auto_reply(std::string_view header_block);

}  // namespace tenantmail::bounce
