// message_view.cpp — see message_view.h.
#include "tenantmailctl/message_view.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <ctime>

#include "common/duration.h"
#include "common/mailbox.h"
#include "common/text.h"

namespace tenantmail::ctl {

namespace {

constexpr std::array<std::pair<MessageStatus, std::string_view>, 4> kStatusNames{{
    {MessageStatus::queued, "queued"},
    {MessageStatus::sent, "sent"},
    {MessageStatus::deferred, "deferred"},
    {MessageStatus::failed, "failed"},
}};

bool failed(RecipientStatus status) {
    return status == RecipientStatus::bounced || status == RecipientStatus::complained ||
           status == RecipientStatus::blocked;
}

bool any_of_status(const std::vector<RecipientState>& recipients, bool (*predicate)(RecipientStatus)) {
    return std::any_of(recipients.begin(), recipients.end(),
                       [predicate](const RecipientState& r) { return predicate(r.status); });
}

bool is_deferred(RecipientStatus status) { return status == RecipientStatus::deferred; }

// Reads exactly `digits` decimal digits at text[pos], advancing pos.
bool read_number(std::string_view text, std::size_t& pos, std::size_t digits, int& out) {
    if (pos + digits > text.size()) return false;
    const char* first = text.data() + pos;
    const auto [end, ec] = std::from_chars(first, first + digits, out);
    if (ec != std::errc() || end != first + digits) return false;
    pos += digits;
    return true;
}

bool expect(std::string_view text, std::size_t& pos, char c) {
    if (pos >= text.size() || text[pos] != c) return false;
    ++pos;
    return true;
}

// "YYYY-MM-DD", then optionally [T ]HH:MM[:SS], then optionally "Z".
std::optional<std::int64_t> parse_utc_date(std::string_view text) {
    std::size_t pos = 0;
    std::tm tm{};
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (!read_number(text, pos, 4, year) || !expect(text, pos, '-') || !read_number(text, pos, 2, month) ||
        !expect(text, pos, '-') || !read_number(text, pos, 2, day)) {
        return std::nullopt;
    }
    if (pos < text.size() && (text[pos] == 'T' || text[pos] == ' ')) {
        ++pos;
        if (!read_number(text, pos, 2, hour) || !expect(text, pos, ':') || !read_number(text, pos, 2, minute)) {
            return std::nullopt;
        }
        if (pos < text.size() && text[pos] == ':' && !(++pos, read_number(text, pos, 2, second))) return std::nullopt;
    }
    if (pos < text.size() && text[pos] == 'Z') ++pos;
    if (pos != text.size()) return std::nullopt;
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    return static_cast<std::int64_t>(::timegm(&tm));
}

std::string describe_recipient(const RecipientState& recipient) {
    std::string text = recipient.recipient;
    text += ": ";
    text += recipient.reply.empty() ? std::string(recipient_status_name(recipient.status)) : recipient.reply;
    return text;
}

nlohmann::json recipient_json(const RecipientState& recipient, bool with_history) {
    nlohmann::json json = {{"recipient", recipient.recipient},
                           {"status", std::string(recipient_status_name(recipient.status))},
                           {"reply", recipient.reply},
                           {"time", recipient.time}};
    if (with_history) {
        nlohmann::json history = nlohmann::json::array();
        for (const auto& step : recipient.history) {
            history.push_back(
                {{"status", std::string(recipient_status_name(step.status))}, {"reply", step.reply}, {"time", step.time}});
        }
        json["history"] = std::move(history);
    }
    return json;
}

std::string or_dash(std::string text) { return text.empty() ? "-" : text; }

}  // namespace

std::string_view message_status_name(MessageStatus status) {
    for (const auto& [s, name] : kStatusNames)
        if (s == status) return name;
    return "unknown";
}

MessageStatus summarise(const std::vector<RecipientState>& recipients) {
    if (any_of_status(recipients, failed)) return MessageStatus::failed;
    if (any_of_status(recipients, is_deferred)) return MessageStatus::deferred;
    const bool all_delivered =
        !recipients.empty() && std::all_of(recipients.begin(), recipients.end(), [](const RecipientState& r) {
            return r.status == RecipientStatus::delivered;
        });
    return all_delivered ? MessageStatus::sent : MessageStatus::queued;
}

std::optional<MessageStatus> parse_status_filter(std::string_view name) {
    if (name == "sent") return MessageStatus::sent;
    if (name == "failed") return MessageStatus::failed;
    if (name == "deferred") return MessageStatus::deferred;
    return std::nullopt;
}

bool matches_status(const std::vector<RecipientState>& recipients, MessageStatus filter) {
    switch (filter) {
        case MessageStatus::failed: return any_of_status(recipients, failed);
        case MessageStatus::deferred: return any_of_status(recipients, is_deferred);
        case MessageStatus::sent: return summarise(recipients) == MessageStatus::sent;
        case MessageStatus::queued: return summarise(recipients) == MessageStatus::queued;
    }
    return false;
}

std::string message_error(const std::vector<RecipientState>& recipients) {
    for (bool (*predicate)(RecipientStatus) : {failed, is_deferred}) {
        const RecipientState* first = nullptr;
        std::size_t count = 0;
        for (const RecipientState& r : recipients) {
            if (!predicate(r.status)) continue;
            if (first == nullptr) first = &r;
            ++count;
        }
        if (first == nullptr) continue;
        std::string text = describe_recipient(*first);
        if (count > 1) text += " (+" + std::to_string(count - 1) + " more)";
        return text;
    }
    return std::string();
}

Result<std::int64_t> parse_since(std::string_view text, std::int64_t now) {
    if (auto date = parse_utc_date(text)) return *date;
    auto duration = parse_duration(text);
    if (!duration) {
        return make_error("--since \"" + std::string(text) +
                          "\" is neither a duration (90m, 2d) nor a UTC date (2024-01-31, 2024-01-31T12:00)");
    }
    return now - std::chrono::duration_cast<std::chrono::seconds>(*duration).count();
}

std::string format_time(std::int64_t unix_seconds) {
    const std::time_t time = static_cast<std::time_t>(unix_seconds);
    std::tm utc{};
    ::gmtime_r(&time, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &utc);
    return text;
}

std::string display_from(const MessageRecord& record) {
    if (!record.header_from.empty()) {
        auto mailbox = parse_single_mailbox(record.header_from);
        return mailbox ? mailbox->address() : record.header_from;
    }
    return record.mail_from;
}

std::string cell(std::string_view text, std::size_t max_width) { return terminal_cell(text, max_width); }

std::string render_table(const std::vector<std::string>& headers, const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> widths(headers.size());
    for (std::size_t i = 0; i < headers.size(); ++i) widths[i] = headers[i].size();
    for (const auto& row : rows)
        for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
    std::string out;
    auto line = [&](const std::vector<std::string>& cells) {
        std::string text;
        for (std::size_t i = 0; i < cells.size(); ++i) {
            text += cells[i];
            if (i + 1 < cells.size()) text.append(widths[i] - cells[i].size() + 2, ' ');
        }
        while (!text.empty() && text.back() == ' ') text.pop_back();
        out += text + "\n";
    };
    line(headers);
    for (const auto& row : rows) line(row);
    return out;
}

std::string messages_table(const std::vector<StoredMessage>& messages) {
    std::vector<std::vector<std::string>> rows;
    rows.reserve(messages.size());
    for (const StoredMessage& m : messages) {
        rows.push_back({format_time(m.record.time), cell(m.record.queue_id, 20), cell(m.record.tenant, 20),
                        cell(or_dash(display_from(m.record)), 40), cell(or_dash(m.record.subject), 40),
                        std::string(message_status_name(summarise(m.recipients))),
                        cell(message_error(m.recipients), 100)});
    }
    return render_table({"TIME (UTC)", "QUEUE ID", "TENANT", "FROM", "SUBJECT", "STATUS", "ERROR"}, rows);
}

nlohmann::json message_json(const StoredMessage& message, bool with_history) {
    const MessageRecord& r = message.record;
    nlohmann::json recipients = nlohmann::json::array();
    for (const RecipientState& recipient : message.recipients) recipients.push_back(recipient_json(recipient, with_history));
    return {{"queue_id", r.queue_id},
            {"tenant", r.tenant},
            {"time", r.time},
            {"message_id", r.message_id},
            {"class", r.traffic_class},
            {"mail_from", r.mail_from},
            {"bounce_address", r.bounce_address},
            {"header_from", r.header_from},
            {"header_to", r.header_to},
            {"subject", r.subject},
            {"status", std::string(message_status_name(summarise(message.recipients)))},
            {"error", message_error(message.recipients)},
            {"recipients", std::move(recipients)}};
}

bool is_engagement(const Event& event) {
    return event.kind == EventKind::open || event.kind == EventKind::click || event.kind == EventKind::unsubscribe;
}

std::string engagement_details(const std::vector<Event>& events) {
    std::string out;
    for (const Event& event : events) {
        if (!is_engagement(event)) continue;
        const std::string kind(event_kind_name(event.kind));
        std::string line = "  " + format_time(event.timestamp) + "  " + kind + std::string(12 - kind.size(), ' ') +
                           cell(or_dash(event.recipient), 320);
        const nlohmann::json& details = event.details;
        if (details.is_object()) {
            if (auto url = details.find("url"); url != details.end() && url->is_string()) {
                line += "  " + cell(url->get<std::string>(), 500);
            }
            if (auto automated = details.find("automated"); automated != details.end() && automated->is_string()) {
                line += "  (" + cell(automated->get<std::string>(), 40) + ")";
            }
        }
        out += line + "\n";
    }
    return out.empty() ? out : "opens, clicks and unsubscribes:\n" + out;
}

std::string message_details(const StoredMessage& message) {
    const MessageRecord& r = message.record;
    std::vector<std::vector<std::string>> fields = {
        {"queue id:", cell(r.queue_id, 200)},
        {"tenant:", cell(r.tenant, 200) + (r.traffic_class.empty() ? "" : " (" + cell(r.traffic_class, 40) + ")")},
        {"time:", format_time(r.time) + " UTC"},
        {"message-id:", cell(or_dash(r.message_id), 998)},
        {"envelope from:", cell(or_dash(r.mail_from), 998)},
        {"bounce address:", cell(or_dash(r.bounce_address), 998)},
        {"from:", cell(or_dash(r.header_from), 998)},
        {"to:", cell(or_dash(r.header_to), 998)},
        {"subject:", cell(or_dash(r.subject), 998)},
        {"status:", std::string(message_status_name(summarise(message.recipients)))},
    };
    std::string out;
    for (const auto& field : fields) out += field[0] + std::string(17 - field[0].size(), ' ') + field[1] + "\n";
    out += "recipients:\n";
    for (const RecipientState& recipient : message.recipients) {
        out += "  " + cell(recipient.recipient, 320) + "  " + std::string(recipient_status_name(recipient.status)) + "\n";
        for (const auto& step : recipient.history) {
            std::string line = "    " + format_time(step.time) + "  " + std::string(recipient_status_name(step.status));
            if (!step.reply.empty()) line += std::string(12 - recipient_status_name(step.status).size(), ' ') + cell(step.reply, 500);
            out += line + "\n";
        }
    }
    return out;
}

}  // namespace tenantmail::ctl
