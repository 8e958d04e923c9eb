// maillog_line_fuzzer.cpp — lines of Postfix's log as tenantmail-maillog
// reads them (maillog_line), one per input line.
// Invariants: every field of a delivery is a view into the line itself; a
// line over the length limit is never a delivery; a malformed line says why;
// turning the stamp into unix time never fails hard.
#include <ctime>

#include "fuzz/fuzz_check.h"
#include "maillog/maillog_line.h"

namespace {

using namespace tenantmail;
using namespace tenantmail::maillog;

void check_delivery(const DeliveryLine& delivery, std::string_view line) {
    for (const std::string_view field : {delivery.timestamp, delivery.host, delivery.service, delivery.queue_id,
                                         delivery.recipient, delivery.orig_to, delivery.sender, delivery.relay,
                                         delivery.dsn}) {
        FUZZ_CHECK(fuzz::is_within(field, line));
    }
    // qmgr's expiry line has no status word or reply to point at; the
    // parser supplies its own text for those.
    FUZZ_CHECK(fuzz::is_within(delivery.status_word, line) || delivery.status_word == "expired");
    FUZZ_CHECK(fuzz::is_within(delivery.reply, line) || delivery.reply == "returned to sender");
    FUZZ_CHECK(!delivery.queue_id.empty());
    FUZZ_CHECK(!delivery_status_name(delivery.status).empty());
    if (!delivery.time.absolute) {
        FUZZ_CHECK(delivery.time.month >= 1 && delivery.time.month <= 12);
    }
    // A fixed "now" (2026-01-15) so a run is reproducible.
    (void)line_time_to_unix(delivery.time, static_cast<std::time_t>(1768435200));
}

void check_queue_event(const QueueEvent& event, std::string_view line) {
    for (std::string_view field : {event.timestamp, event.host, event.service, event.queue_id, event.value}) {
        FUZZ_CHECK(fuzz::is_within(field, line));
    }
    FUZZ_CHECK(!event.queue_id.empty());
}

void check_line(std::string_view line) {
    const ParsedLine parsed = parse_maillog_line(line);
    switch (parsed.kind) {
        case LineKind::delivery:
            FUZZ_CHECK(line.size() <= kMaxLineLength + 1);
            check_delivery(parsed.delivery, line);
            break;
        case LineKind::queue_event:
            check_queue_event(parsed.queue, line);
            break;
        case LineKind::malformed:
            FUZZ_CHECK(!parsed.problem.empty());
            break;
        case LineKind::other:
            break;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text = fuzz::as_text(data, size);
    while (!text.empty()) {
        const std::size_t newline = text.find('\n');
        check_line(text.substr(0, newline));
        if (newline == std::string_view::npos) break;
        text.remove_prefix(newline + 1);
    }
    return 0;
}
