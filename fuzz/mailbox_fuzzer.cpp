// mailbox_fuzzer.cpp — a From, To or Cc field value as the milter reads it
// (mailbox), and display names made into phrases (phrase).
// Invariants: a parsed domain is valid hostname syntax; a mailbox printed
// again (make_phrase + address()) parses back to the same mailbox; the
// phrase of any text is one phrase, never splitting into more addresses.
#include <string>

#include "common/mailbox.h"
#include "common/phrase.h"
#include "fuzz/fuzz_check.h"

namespace {

using namespace tenantmail;

// Printable ASCII without encoded-word openers: such a display name comes
// back unchanged (others are RFC 2047 encoded, which the parser leaves as is).
bool survives_as_written(std::string_view name) {
    for (const char c : name) {
        if (c < 0x20 || c > 0x7e) return false;
    }
    return name.find("=?") == std::string_view::npos;
}

// make_phrase separates words by one space, so runs of spaces inside a
// quoted display name ("a  b") come back as one.
std::string single_spaced(std::string_view text) {
    std::string out;
    for (const char c : text) {
        if (c != ' ' && c != '\t') out += c;
        else if (!out.empty() && out.back() != ' ') out += ' ';
    }
    if (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

void check_round_trip(const Mailbox& mailbox) {
    FUZZ_CHECK(is_valid_domain(mailbox.domain));
    const std::string phrase = make_phrase(mailbox.display_name);
    const std::string printed = phrase.empty() ? mailbox.address() : phrase + " <" + mailbox.address() + ">";
    const auto again = parse_single_mailbox(printed);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(again->local_part == mailbox.local_part);
    FUZZ_CHECK(again->domain == mailbox.domain);
    if (survives_as_written(mailbox.display_name)) {
        FUZZ_CHECK(again->display_name == single_spaced(mailbox.display_name));
    }
}

// Whatever the text, its phrase names exactly one mailbox.
void check_phrase(std::string_view text) {
    const std::string phrase = make_phrase(text);
    if (phrase.empty()) return;
    const auto parsed = parse_single_mailbox(phrase + " <a@example.org>");
    FUZZ_CHECK(parsed.ok());
    FUZZ_CHECK(parsed->address() == "a@example.org");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view value = fuzz::as_text(data, size);
    if (const auto from = parse_single_mailbox(value)) check_round_trip(*from);
    if (const auto list = parse_address_list(value)) {
        FUZZ_CHECK(!list->empty());
        for (const Mailbox& mailbox : *list) check_round_trip(mailbox);
    }
    check_phrase(value);
    const std::string_view prefix = utf8_prefix(value, size / 2);
    FUZZ_CHECK(prefix.size() <= size / 2 && value.starts_with(prefix));
    return 0;
}
