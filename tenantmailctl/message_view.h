// message_view.h — what `tenantmailctl messages` and `tenantmailctl message`
// show of the message records (common/message_store.h): one status per
// message from its recipients' statuses, the error worth showing, filters,
// the --since syntax, and the table, detail and JSON renderings.
// Pure: no Redis, no clock (callers pass "now"); returns text.
// Times are shown in UTC ("2024-01-31 12:00:05"), as the records keep Unix
// seconds and several hosts may read them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/events.h"
#include "common/message_store.h"
#include "common/result.h"

namespace tenantmail::ctl {

// One word per message. failed: some recipient bounced, complained or was
// blocked; deferred: none failed, some deferred; sent: every recipient
// delivered; queued: anything else (still on its way, or no recipients known).
enum class MessageStatus { queued, sent, deferred, failed };
std::string_view message_status_name(MessageStatus status);

MessageStatus summarise(const std::vector<RecipientState>& recipients);

// The --status filter: sent = all delivered, failed = any bounced,
// complained or blocked, deferred = any deferred. A message can match both
// failed and deferred. Unknown names: nullopt.
std::optional<MessageStatus> parse_status_filter(std::string_view name);
bool matches_status(const std::vector<RecipientState>& recipients, MessageStatus filter);

// What went wrong, for the ERROR column: the first failed recipient and its
// reply ("a@x: 550 5.1.1 user unknown"), else the first deferred one, with
// "(+N more)" when several; "" when nothing went wrong.
std::string message_error(const std::vector<RecipientState>& recipients);

// --since: a duration back from now ("90m", "2d") or a UTC date/time
// ("2024-01-31", "2024-01-31T12:00", "2024-01-31 12:00:05", optional "Z").
Result<std::int64_t> parse_since(std::string_view text, std::int64_t now);

std::string format_time(std::int64_t unix_seconds);

// The From to show: the address of the From header, else the envelope sender.
std::string display_from(const MessageRecord& record);

// Text safe for one terminal cell: common/text.h terminal_cell (a
// Subject's ESC shows as "\x1b"; at most max_width bytes, ending "...").
std::string cell(std::string_view text, std::size_t max_width);

// Columns padded to the widest cell; the last column is not padded.
std::string render_table(const std::vector<std::string>& headers, const std::vector<std::vector<std::string>>& rows);

std::string messages_table(const std::vector<StoredMessage>& messages);
// with_history: each recipient's steps as well (the message command).
nlohmann::json message_json(const StoredMessage& message, bool with_history);
std::string message_details(const StoredMessage& message);
// The opens, clicks and unsubscribes of a message (events of those kinds,
// oldest first): one line each, time, kind, recipient, then the URL of a
// click and the flags trackd set (image proxy, scanner); "" for none.
std::string engagement_details(const std::vector<Event>& events);
bool is_engagement(const Event& event);

}  // namespace tenantmail::ctl
