// maillog_outcome.h — what a delivery line means for tenantmail: the
// recipient status and event kind (sent: delivered/delivery; deferred:
// deferred/soft_bounce; bounced and expired: bounced/bounce), the event's
// details, and its id.
// The id is derived from the line, not random: the first 32 hex digits of
// SHA-256 over host, queue id, recipient, status, the line's timestamp as
// written, dsn and reply. Reading the same line again (after a restart, or
// a rotation seen twice) yields the same id, which record_outcome reports as
// a duplicate instead of a second event.
// Pure apart from OpenSSL's SHA-256.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/message_outcome.h"
#include "common/message_store.h"
#include "maillog/maillog_line.h"

namespace tenantmail::maillog {

RecipientStatus recipient_status_for(DeliveryStatus status);
EventKind event_kind_for(DeliveryStatus status);

// The recipient the message record knows: Postfix logs orig_to= when
// rewriting (canonical, virtual, aliases) changed the address the client
// gave in RCPT TO, and the milter recorded the latter.
std::string_view recorded_recipient(const DeliveryLine& line);

std::string line_event_id(const DeliveryLine& line, std::string_view recipient);

// DSN given to recipients of a message that expired in the queue (qmgr's
// per-message line carries none): X.4.7, delivery time expired, now final.
inline constexpr std::string_view kExpiredDsn = "5.4.7";

struct OutcomeFacts {
    std::string_view tenant;
    std::string_view message_id;  // from the message record, "" when unknown
    std::string_view recipient;   // recorded_recipient(), or for qmgr's expiry each pending one
    std::string_view reply;       // line.reply, or for qmgr's expiry the recipient's last reply
    std::int64_t timestamp = 0;   // the line's time in Unix seconds
};

// The Outcome for record_outcome, with the event filled in: details
// {"dsn","reply","relay","status","source":"maillog"} plus "final_recipient"
// when orig_to named the recipient and "reply_truncated" when the line was
// cut inside the reply.
Outcome make_outcome(const DeliveryLine& line, const OutcomeFacts& facts);

}  // namespace tenantmail::maillog
