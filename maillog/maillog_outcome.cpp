// maillog_outcome.cpp — see maillog_outcome.h.
#include "maillog/maillog_outcome.h"

#include <openssl/evp.h>

#include <array>
#include <stdexcept>

#include "common/log.h"

namespace tenantmail::maillog {

RecipientStatus recipient_status_for(DeliveryStatus status) {
    switch (status) {
        case DeliveryStatus::sent: return RecipientStatus::delivered;
        case DeliveryStatus::deferred: return RecipientStatus::deferred;
        case DeliveryStatus::bounced:
        case DeliveryStatus::expired: return RecipientStatus::bounced;
    }
    TM_PANIC("recipient_status_for: unknown delivery status %d", static_cast<int>(status));
}

EventKind event_kind_for(DeliveryStatus status) {
    switch (status) {
        case DeliveryStatus::sent: return EventKind::delivery;
        case DeliveryStatus::deferred: return EventKind::soft_bounce;
        case DeliveryStatus::bounced:
        case DeliveryStatus::expired: return EventKind::bounce;
    }
    TM_PANIC("event_kind_for: unknown delivery status %d", static_cast<int>(status));
}

std::string_view recorded_recipient(const DeliveryLine& line) {
    return line.orig_to.empty() ? line.recipient : line.orig_to;
}

std::string line_event_id(const DeliveryLine& line, std::string_view recipient) {
    // NUL-separated, so no two different field lists give the same input.
    std::string input = "tenantmail-maillog";
    for (const std::string_view field :
         {line.host, line.queue_id, recipient, line.status_word, line.timestamp, line.dsn, line.reply}) {
        input.push_back('\0');
        input.append(field);
    }
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    if (EVP_Digest(input.data(), input.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1 || length < 16)
        throw std::runtime_error("OpenSSL SHA-256 failed; cannot make an event id");
    static constexpr char kHex[] = "0123456789abcdef";
    std::string id;
    id.reserve(32);
    for (std::size_t i = 0; i < 16; ++i) {
        id.push_back(kHex[digest[i] >> 4]);
        id.push_back(kHex[digest[i] & 0xf]);
    }
    return id;
}

Outcome make_outcome(const DeliveryLine& line, const OutcomeFacts& facts) {
    Outcome outcome;
    outcome.queue_id = std::string(line.queue_id);
    outcome.recipient = std::string(facts.recipient);
    outcome.status = recipient_status_for(line.status);
    outcome.reply = std::string(facts.reply);

    Event& event = outcome.event;
    event.id = line_event_id(line, facts.recipient);
    event.kind = event_kind_for(line.status);
    event.tenant = std::string(facts.tenant);
    event.queue_id = outcome.queue_id;
    event.message_id = std::string(facts.message_id);
    event.recipient = outcome.recipient;
    event.timestamp = facts.timestamp;
    const std::string_view dsn =
        line.dsn.empty() && line.status == DeliveryStatus::expired ? kExpiredDsn : line.dsn;
    event.details = nlohmann::json{
        {"dsn", std::string(dsn)},
        {"reply", outcome.reply},
        {"relay", std::string(line.relay)},
        {"status", std::string(delivery_status_name(line.status))},
        {"source", "maillog"},
    };
    if (!line.orig_to.empty() && line.orig_to != line.recipient && facts.recipient == line.orig_to)
        event.details["final_recipient"] = std::string(line.recipient);
    if (line.reply_truncated) event.details["reply_truncated"] = true;
    return outcome;
}

}  // namespace tenantmail::maillog
