// maillog_line.cpp — see maillog_line.h.
// The status fields before status= are Postfix's own (addresses, relay host
// names, numbers), so they are read left to right and the first status= is
// the real one; only the text after it comes from the remote side, and it
// may contain anything: parentheses, commas, "status=...". Addresses are
// read with their quoting, because Postfix quotes a local part such as
// "a>, status=sent"@example.net rather than escaping it.
#include "maillog/maillog_line.h"

#include <array>

namespace tenantmail::maillog {
namespace {

constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

class Cursor {
public:
    explicit Cursor(std::string_view text) : text_(text) {}

    bool done() const { return pos_ >= text_.size(); }
    char peek() const { return done() ? '\0' : text_[pos_]; }
    std::string_view rest() const { return text_.substr(pos_); }
    std::size_t pos() const { return pos_; }

    bool take(char c) {
        if (peek() != c || done()) return false;
        ++pos_;
        return true;
    }
    bool take(std::string_view literal) {
        if (!rest().starts_with(literal)) return false;
        pos_ += literal.size();
        return true;
    }
    // Exactly n digits.
    bool number(std::size_t n, int& value) {
        if (text_.size() - pos_ < n) return false;
        int v = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const char c = text_[pos_ + i];
            if (!is_digit(c)) return false;
            v = v * 10 + (c - '0');
        }
        value = v;
        pos_ += n;
        return true;
    }
    // Up to (not including) the next c, or to the end; the cursor stops at c.
    std::string_view until(char c) {
        const std::size_t end = text_.find(c, pos_);
        const std::size_t stop = end == std::string_view::npos ? text_.size() : end;
        const std::string_view out = text_.substr(pos_, stop - pos_);
        pos_ = stop;
        return out;
    }
    std::string_view until(std::string_view separator) {
        const std::size_t end = text_.find(separator, pos_);
        const std::size_t stop = end == std::string_view::npos ? text_.size() : end;
        const std::string_view out = text_.substr(pos_, stop - pos_);
        pos_ = stop;
        return out;
    }
    template <class Pred>
    std::string_view span(Pred pred) {
        const std::size_t start = pos_;
        while (!done() && pred(text_[pos_])) ++pos_;
        return text_.substr(start, pos_ - start);
    }

private:
    std::string_view text_;
    std::size_t pos_ = 0;
};

bool skip_fraction(Cursor& c) {
    if (!c.take('.')) return true;
    const auto digits = c.span(is_digit);
    return !digits.empty() && digits.size() <= 9;
}

// "Nov 23 12:00:01", "Nov  3 12:00:01", optionally with ".123456".
bool parse_syslog_time(Cursor& c, LineTime& time) {
    const std::string_view rest = c.rest();
    int month = 0;
    for (std::size_t i = 0; i < kMonths.size(); ++i) {
        if (rest.starts_with(kMonths[i])) month = static_cast<int>(i) + 1;
    }
    if (month == 0 || !c.take(kMonths[static_cast<std::size_t>(month - 1)]) || !c.take(' ')) return false;
    c.take(' ');  // space-padded day
    int day = 0;
    if (!c.number(2, day) && !c.number(1, day)) return false;
    if (!c.take(' ')) return false;
    if (!c.number(2, time.hour) || !c.take(':') || !c.number(2, time.minute) || !c.take(':') ||
        !c.number(2, time.second) || !skip_fraction(c))
        return false;
    if (day < 1 || day > 31 || time.hour > 23 || time.minute > 59 || time.second > 60) return false;
    time.month = month;
    time.day = day;
    return true;
}

// "2026-11-23T12:00:01.123456+00:00" or "...Z".
bool parse_rfc3339_time(Cursor& c, LineTime& time) {
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (!c.number(4, year) || !c.take('-') || !c.number(2, month) || !c.take('-') || !c.number(2, day)) return false;
    if (!c.take('T') && !c.take('t')) return false;
    if (!c.number(2, hour) || !c.take(':') || !c.number(2, minute) || !c.take(':') || !c.number(2, second) ||
        !skip_fraction(c))
        return false;
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return false;
    int offset_minutes = 0;
    if (!c.take('Z') && !c.take('z')) {
        const char sign = c.peek();
        int oh = 0, om = 0;
        if ((sign != '+' && sign != '-') || !c.take(sign) || !c.number(2, oh) || !c.take(':') || !c.number(2, om) ||
            oh > 23 || om > 59)
            return false;
        offset_minutes = (oh * 60 + om) * (sign == '-' ? -1 : 1);
    }
    const std::int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
    time.absolute = true;
    time.unix_seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    time.month = month;
    time.day = day;
    time.hour = hour;
    time.minute = minute;
    time.second = second;
    return true;
}

// After '<': the address up to the matching '>', quotes respected. The
// cursor ends after '>'. False when there is no closing bracket.
bool parse_angle_address(Cursor& c, std::string_view& out) {
    const std::string_view rest = c.rest();
    bool quoted = false;
    for (std::size_t i = 0; i < rest.size(); ++i) {
        const char ch = rest[i];
        if (quoted && ch == '\\') {
            ++i;
        } else if (ch == '"') {
            quoted = !quoted;
        } else if (ch == '>' && !quoted) {
            out = rest.substr(0, i);
            c.take(rest.substr(0, i + 1));
            return true;
        }
    }
    return false;
}

bool valid_dsn(std::string_view dsn) {
    // class.subject.detail, RFC 3463: [245].1-3 digits.1-3 digits
    if (dsn.size() < 5 || (dsn[0] != '2' && dsn[0] != '4' && dsn[0] != '5') || dsn[1] != '.') return false;
    Cursor c(dsn.substr(2));
    const auto subject = c.span(is_digit);
    if (subject.empty() || subject.size() > 3 || !c.take('.')) return false;
    const auto detail = c.span(is_digit);
    return !detail.empty() && detail.size() <= 3 && c.done();
}

bool is_key_char(char c) { return (c >= 'a' && c <= 'z') || c == '_'; }

ParsedLine malformed(std::string_view problem) {
    ParsedLine parsed;
    parsed.kind = LineKind::malformed;
    parsed.problem = problem;
    return parsed;
}

ParsedLine other() { return ParsedLine{}; }

ParsedLine queue_event(const DeliveryLine& prefix, QueueEventKind kind, std::string_view value) {
    ParsedLine parsed;
    parsed.kind = LineKind::queue_event;
    parsed.queue = {prefix.timestamp, prefix.time, prefix.host, prefix.service, prefix.queue_id, kind, value};
    return parsed;
}

// After "QID: ": the lines that tie a queue id to a message, or other().
ParsedLine parse_queue_event(Cursor& c, const DeliveryLine& prefix) {
    if (c.take("client=")) return queue_event(prefix, QueueEventKind::received, {});
    if (c.take("uid=")) {
        // pickup: "uid=0 from=<root>"
        if (c.span(is_digit).empty() || !c.take(" from=<")) return other();
        return queue_event(prefix, QueueEventKind::received, {});
    }
    if (c.take("message-id=")) {
        const std::string_view value = c.rest();
        return queue_event(prefix, QueueEventKind::message_id, value == "<>" ? std::string_view() : value);
    }
    if (c.rest() == "removed") return queue_event(prefix, QueueEventKind::removed, {});
    return other();
}

std::optional<DeliveryStatus> status_of(std::string_view word) {
    if (word == "sent") return DeliveryStatus::sent;
    if (word == "deferred") return DeliveryStatus::deferred;
    // soft_bounce = yes: what would have bounced stays in the queue.
    if (word == "SOFTBOUNCE") return DeliveryStatus::deferred;
    if (word == "bounced") return DeliveryStatus::bounced;
    if (word == "expired") return DeliveryStatus::expired;
    return std::nullopt;  // deliverable/undeliverable (address probes), ...
}

// After "QID: to=<recipient>": the comma-separated fields up to status=.
ParsedLine parse_recipient_fields(Cursor& c, DeliveryLine& line) {
    bool have_relay = false;
    for (int fields = 0; fields < 32; ++fields) {
        if (!c.take(", "))
            return malformed(c.done() ? "status line without status=" : "unexpected text between fields");
        const std::string_view key = c.span(is_key_char);
        if (key.empty() || !c.take('=')) return malformed("field without name=value");
        if (key == "status") {
            line.status_word = c.span([](char ch) { return is_alnum(ch); });
            const auto status = status_of(line.status_word);
            if (line.status_word.empty()) return malformed("empty status=");
            if (!status) return other();
            line.status = *status;
            const std::string_view rest = c.rest();
            if (rest.starts_with(" (")) {
                if (rest.ends_with(')')) {
                    line.reply = rest.substr(2, rest.size() - 3);
                } else {
                    line.reply = rest.substr(2);
                    line.reply_truncated = true;
                }
            } else if (line.status == DeliveryStatus::expired && rest == ", returned to sender") {
                line.reply = "returned to sender";
            } else if (!rest.empty()) {
                return malformed("unexpected text after status=");
            }
            if (line.status != DeliveryStatus::expired) {
                if (!have_relay) return malformed("status line without relay=");
                if (line.dsn.empty()) return malformed("status line without dsn=");
            }
            if (!line.dsn.empty() && !valid_dsn(line.dsn)) return malformed("dsn= is not an enhanced status code");
            ParsedLine parsed;
            parsed.kind = LineKind::delivery;
            parsed.delivery = line;
            return parsed;
        }
        if (key == "orig_to") {
            if (!c.take('<') || !parse_angle_address(c, line.orig_to)) return malformed("unterminated orig_to=<");
            continue;
        }
        const std::string_view value = c.until(", ");
        if (key == "relay") {
            line.relay = value;
            have_relay = true;
        } else if (key == "dsn") {
            line.dsn = value;
        }
    }
    return malformed("too many fields");
}

}  // namespace

std::string_view delivery_status_name(DeliveryStatus status) {
    switch (status) {
        case DeliveryStatus::sent: return "sent";
        case DeliveryStatus::deferred: return "deferred";
        case DeliveryStatus::bounced: return "bounced";
        case DeliveryStatus::expired: return "expired";
    }
    return "unknown";
}

ParsedLine parse_maillog_line(std::string_view text) {
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (text.size() > kMaxLineLength) return malformed("line too long");
    for (const char ch : text) {
        const auto byte = static_cast<unsigned char>(ch);
        if ((byte < 0x20 && ch != '\t') || byte == 0x7f) return malformed("control characters in line");
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);

    DeliveryLine line;
    Cursor c(text);
    if (is_digit(c.peek())) {
        if (!parse_rfc3339_time(c, line.time)) return malformed("bad RFC 3339 timestamp");
    } else if (!parse_syslog_time(c, line.time)) {
        return malformed("no timestamp");
    }
    line.timestamp = text.substr(0, c.pos());
    if (!c.take(' ')) return malformed("no host after the timestamp");

    line.host = c.until(' ');
    if (line.host.empty() || !c.take(' ')) return malformed("no host after the timestamp");

    // "postfix/smtp[1234]:" (the pid is optional in some syslog formats)
    std::string_view tag = c.until(' ');
    if (!c.take(' ') || !tag.ends_with(':')) return other();  // "last message repeated", ...
    tag.remove_suffix(1);
    if (tag.ends_with(']')) {
        const std::size_t open = tag.rfind('[');
        if (open == std::string_view::npos || open + 2 > tag.size() - 1) return other();
        for (std::size_t i = open + 1; i + 1 < tag.size(); ++i) {
            if (!is_digit(tag[i])) return other();
        }
        tag = tag.substr(0, open);
    }
    if (tag.empty()) return other();
    line.service = tag;

    // Short (hex) and long (enable_long_queue_ids) queue ids are alphanumeric.
    line.queue_id = c.span(is_alnum);
    if (line.queue_id.size() < 5 || line.queue_id.size() > 32 || line.queue_id == "NOQUEUE" || !c.take(": "))
        return other();

    if (c.take("to=<")) {
        if (!parse_angle_address(c, line.recipient)) return malformed("unterminated to=<");
        if (line.recipient.empty()) return malformed("empty to=<>");
        return parse_recipient_fields(c, line);
    }
    if (c.take("from=<")) {
        // qmgr: "QID: from=<sender>, status=expired, returned to sender"
        if (!parse_angle_address(c, line.sender)) return malformed("unterminated from=<");
        if (c.rest().starts_with(", size=")) return queue_event(line, QueueEventKind::queued, line.sender);
        if (c.rest() != ", status=expired, returned to sender") return other();
        line.status = DeliveryStatus::expired;
        line.status_word = "expired";
        line.reply = "returned to sender";
        ParsedLine parsed;
        parsed.kind = LineKind::delivery;
        parsed.delivery = line;
        return parsed;
    }
    return parse_queue_event(c, line);
}

int infer_year(int line_month, int now_year, int now_month) {
    // A stamp more than a month ahead of now is from last year (December
    // lines read in January); anything else is this year.
    return line_month > now_month + 1 ? now_year - 1 : now_year;
}

std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day) {
    // Howard Hinnant's algorithm: exact for every proleptic Gregorian date.
    year -= month <= 2;
    const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
    const auto yoe = static_cast<unsigned>(year - era * 400);
    const unsigned doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::optional<std::int64_t> line_time_to_unix(const LineTime& time, std::time_t now) {
    if (time.absolute) return time.unix_seconds;
    if (time.month < 1 || time.month > 12) return std::nullopt;
    std::tm now_tm{};
    if (::localtime_r(&now, &now_tm) == nullptr) return std::nullopt;
    std::tm tm{};
    tm.tm_year = infer_year(time.month, now_tm.tm_year + 1900, now_tm.tm_mon + 1) - 1900;
    tm.tm_mon = time.month - 1;
    tm.tm_mday = time.day;
    tm.tm_hour = time.hour;
    tm.tm_min = time.minute;
    tm.tm_sec = time.second;
    tm.tm_isdst = -1;
    const std::time_t t = std::mktime(&tm);
    if (t == static_cast<std::time_t>(-1) || tm.tm_mday != time.day) return std::nullopt;  // Feb 30, ...
    return static_cast<std::int64_t>(t);
}

}  // namespace tenantmail::maillog
