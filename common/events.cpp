// events.cpp — see events.h.
#include "common/events.h"

#include <openssl/rand.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <stdexcept>

namespace tenantmail {

namespace {
constexpr std::array<std::pair<EventKind, std::string_view>, 10> kKinds{{
    {EventKind::delivery, "delivery"},
    {EventKind::bounce, "bounce"},
    {EventKind::soft_bounce, "soft_bounce"},
    {EventKind::open, "open"},
    {EventKind::click, "click"},
    {EventKind::complaint, "complaint"},
    {EventKind::blocked, "blocked"},
    {EventKind::unsubscribe, "unsubscribe"},
    {EventKind::paused, "paused"},
    {EventKind::resumed, "resumed"},
}};

// Optional string member: absent or null reads as "", anything else not a
// string is an error.
bool read_string(const nlohmann::json& json, const char* name, std::string& out, std::string& error) {
    const auto it = json.find(name);
    if (it == json.end() || it->is_null()) return true;
    if (!it->is_string()) {
        error = std::string("event field \"") + name + "\" is not a string";
        return false;
    }
    out = it->get<std::string>();
    return true;
}
}  // namespace

std::string_view event_kind_name(EventKind kind) {
    for (const auto& [k, name] : kKinds)
        if (k == kind) return name;
    return "unknown";
}

std::optional<EventKind> parse_event_kind(std::string_view name) {
    for (const auto& [k, n] : kKinds)
        if (n == name) return k;
    return std::nullopt;
}

namespace {

// Random octets drawn from the CSPRNG in blocks of 64 ids, so that a busy
// daemon does not take OpenSSL's DRBG lock for every event; per thread, and
// drawn again after a fork so parent and child never share a block.
class EventIdBytes {
public:
    const unsigned char* next() {
        if (used_ == kBlock || pid_ != ::getpid()) refill();
        return bytes_.data() + kIdBytes * used_++;
    }

private:
    static constexpr std::size_t kIdBytes = 16;
    static constexpr std::size_t kBlock = 64;
    void refill() {
        if (RAND_bytes(bytes_.data(), static_cast<int>(bytes_.size())) != 1)
            throw std::runtime_error("OpenSSL RAND_bytes failed; cannot make an event id");
        pid_ = ::getpid();
        used_ = 0;
    }
    std::array<unsigned char, kIdBytes * kBlock> bytes_{};
    std::size_t used_ = kBlock;
    pid_t pid_ = 0;
};

}  // namespace

std::string make_event_id() {
    thread_local EventIdBytes pool;
    const unsigned char* bytes = pool.next();
    static constexpr char kHex[] = "0123456789abcdef";
    std::string id(32, '0');
    for (std::size_t i = 0; i < 16; ++i) {
        id[2 * i] = kHex[bytes[i] >> 4];
        id[2 * i + 1] = kHex[bytes[i] & 0xf];
    }
    return id;
}

Event make_event(EventKind kind, std::string tenant, std::string recipient) {
    Event event;
    event.id = make_event_id();
    event.kind = kind;
    event.tenant = std::move(tenant);
    event.recipient = std::move(recipient);
    event.timestamp = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
    return event;
}

nlohmann::json event_to_json(Event&& event) {
    nlohmann::json details = event.details.is_object() ? std::move(event.details) : nlohmann::json::object();
    return nlohmann::json{
        {"id", std::move(event.id)},
        {"kind", std::string(event_kind_name(event.kind))},
        {"tenant", std::move(event.tenant)},
        {"queue_id", std::move(event.queue_id)},
        {"message_id", std::move(event.message_id)},
        {"recipient", std::move(event.recipient)},
        {"timestamp", event.timestamp},
        {"details", std::move(details)},
    };
}

nlohmann::json event_to_json(const Event& event) {
    return nlohmann::json{
        {"id", event.id},
        {"kind", std::string(event_kind_name(event.kind))},
        {"tenant", event.tenant},
        {"queue_id", event.queue_id},
        {"message_id", event.message_id},
        {"recipient", event.recipient},
        {"timestamp", event.timestamp},
        {"details", event.details.is_object() ? event.details : nlohmann::json::object()},
    };
}

Result<Event> event_from_json(const nlohmann::json& json) {
    if (!json.is_object()) return make_error("event is not a JSON object");
    Event event;
    std::string error;
    std::string kind;
    if (!read_string(json, "id", event.id, error) || !read_string(json, "kind", kind, error) ||
        !read_string(json, "tenant", event.tenant, error) ||
        !read_string(json, "queue_id", event.queue_id, error) ||
        !read_string(json, "message_id", event.message_id, error) ||
        !read_string(json, "recipient", event.recipient, error))
        return make_error(error);
    if (event.id.empty()) return make_error("event has no id");
    const auto parsed = parse_event_kind(kind);
    if (!parsed) return make_error("event has unknown kind \"" + kind + "\"");
    event.kind = *parsed;
    if (const auto it = json.find("timestamp"); it != json.end()) {
        if (!it->is_number_integer()) return make_error("event timestamp is not an integer");
        event.timestamp = it->get<std::int64_t>();
    }
    if (const auto it = json.find("details"); it != json.end() && !it->is_null()) {
        if (!it->is_object()) return make_error("event details is not an object");
        event.details = *it;
    }
    return event;
}

std::string events_document(const std::vector<Event>& events) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& event : events) list.push_back(event_to_json(event));
    // replace: a recipient or diagnostic with invalid UTF-8 (hostile DSNs)
    // must not make dump() throw.
    return nlohmann::json{{"events", std::move(list)}}.dump(-1, ' ', false,
                                                            nlohmann::json::error_handler_t::replace);
}

Result<std::vector<Event>> parse_events_document(std::string_view text) {
    const auto json = nlohmann::json::parse(text, nullptr, false);
    if (json.is_discarded()) return make_error("events document is not valid JSON");
    if (!json.is_object()) return make_error("events document is not a JSON object");
    const auto it = json.find("events");
    if (it == json.end() || !it->is_array()) return make_error("events document has no \"events\" array");
    std::vector<Event> events;
    for (const auto& item : *it) {
        auto event = event_from_json(item);
        if (!event) return make_error(event.error());
        events.push_back(std::move(event).value());
    }
    return events;
}

std::vector<std::string> build_event_xadd(const Event& event, std::size_t cap) {
    return {"XADD",
            events_stream_key(event.tenant),
            "MAXLEN",
            "~",
            std::to_string(cap),
            "*",
            "event",
            event_to_json(event).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

MarkedEvent event_with_message_id_marker(Event event) {
    event.message_id = "@@tenantmail-message-id-" + event.id + "@@";
    MarkedEvent marked;
    marked.marker = "\"" + event.message_id + "\"";  // needs no escaping in JSON
    marked.json = event_to_json(std::move(event)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return marked;
}

}  // namespace tenantmail
