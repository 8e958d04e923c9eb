// maillog_line.h — one line of Postfix's log: is it a delivery status
// ("QID: to=<...>, relay=..., dsn=..., status=sent (...)" or qmgr's
// "QID: from=<...>, status=expired, returned to sender"), and what it says.
// Accepts the traditional syslog prefix ("Nov 23 12:00:01 host prog[pid]: ")
// and RFC 3339 timestamps; any service name (postfix/smtp, postfix/lmtp,
// postfix-out/smtp, postfix/submission/smtpd, ...).
// Pure: string_views into the caller's line, one forward pass, no exceptions;
// garbage, binary and truncated lines come back as malformed with a reason.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <optional>
#include <string_view>

namespace tenantmail::maillog {

// Postfix's own lines stay far below this; longer ones are not Postfix's.
inline constexpr std::size_t kMaxLineLength = 16 * 1024;

enum class DeliveryStatus { sent, deferred, bounced, expired };
std::string_view delivery_status_name(DeliveryStatus status);

// When the line was written. RFC 3339 stamps carry their own offset; syslog
// stamps are local time without a year (line_time_to_unix adds both).
struct LineTime {
    bool absolute = false;        // RFC 3339: unix_seconds is exact
    std::int64_t unix_seconds = 0;
    int month = 0;                // syslog form: 1..12
    int day = 0, hour = 0, minute = 0, second = 0;
};

struct DeliveryLine {
    std::string_view timestamp;  // as written, e.g. "Nov 23 12:00:01"
    LineTime time;
    std::string_view host;
    std::string_view service;    // "postfix/smtp"
    std::string_view queue_id;
    std::string_view recipient;  // to=<...> without brackets; "" in qmgr's per-message expiry
    std::string_view orig_to;    // "" when Postfix logged none
    std::string_view sender;     // from=<...> of qmgr's expiry line, else ""
    std::string_view relay;      // "mx.example.net[192.0.2.1]:25", "none", "local", ...
    std::string_view dsn;        // "5.1.1"; "" in qmgr's expiry line
    DeliveryStatus status = DeliveryStatus::sent;
    std::string_view status_word;  // as logged: "sent", "bounced", ...
    // The parenthesised text: the remote reply or Postfix's reason, without
    // the outer parentheses; "returned to sender" for expiry. A line cut off
    // inside the reply (a syslog size limit) keeps what is there.
    std::string_view reply;
    bool reply_truncated = false;
};

// The lines that say which message a queue id names. Postfix reuses queue
// ids (short ones within minutes), so the follower learns each message's
// identity from these and forgets it when the id is freed.
enum class QueueEventKind {
    received,    // smtpd "QID: client=...", pickup "QID: uid=N from=<...>": a new message took the id
    message_id,  // cleanup "QID: message-id=<...>"; value: as logged, "" for "message-id=<>"
    queued,      // qmgr "QID: from=<sender>, size=N, nrcpt=M (queue active)"; value: the sender
    removed,     // qmgr, postsuper "QID: removed": the id is free again
};

struct QueueEvent {
    std::string_view timestamp;
    LineTime time;
    std::string_view host;
    std::string_view service;
    std::string_view queue_id;
    QueueEventKind kind = QueueEventKind::received;
    std::string_view value;
};

enum class LineKind {
    delivery,     // a recipient's (or, for expiry, a message's) delivery status
    queue_event,  // a line about which message a queue id names
    other,        // a well-formed log line that reports neither
    malformed,    // not a log line at all, or a status line missing a field
};

struct ParsedLine {
    LineKind kind = LineKind::other;
    DeliveryLine delivery;        // valid when kind == delivery
    QueueEvent queue;             // valid when kind == queue_event
    std::string_view problem;     // why, when kind == malformed (static text)
};

// line: without the trailing newline (a trailing CR is ignored).
ParsedLine parse_maillog_line(std::string_view line);

// The year a syslog stamp of line_month belongs to, read at now_year /
// now_month: a December line read in January is last year's.
int infer_year(int line_month, int now_year, int now_month);

// Unix seconds of the line's stamp; syslog stamps are taken as local time of
// the year infer_year gives relative to now. nullopt for impossible dates.
std::optional<std::int64_t> line_time_to_unix(const LineTime& time, std::time_t now);

// Days since 1970-01-01 of a proleptic Gregorian date (month 1..12).
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day);

}  // namespace tenantmail::maillog
