// mail_header_fuzzer.cpp — a message as the milter receives it: split into
// header fields (header_field), each field folded (header_fold).
// Invariants: every field split_message accepts parses again on its own with
// the same name; folding keeps the field valid, means the same once unfolded,
// and makes no line longer; the body offset stays inside the message.
#include <string>

#include "common/header_field.h"
#include "common/header_fold.h"
#include "fuzz/fuzz_check.h"

namespace {

using namespace tenantmail;

std::string without_line_breaks(std::string_view text) {
    std::string out;
    for (const char c : text) {
        if (c != '\r' && c != '\n') out += c;
    }
    return out;
}

void check_folding(const HeaderField& field) {
    const std::string folded = fold_field(field.raw);
    FUZZ_CHECK(without_line_breaks(folded) == without_line_breaks(field.raw));
    FUZZ_CHECK(longest_line(folded) <= longest_line(field.raw));
    // Folding adds octets, so it may pass the size limit; nothing else.
    HeaderLimits roomy;
    roomy.max_field_bytes = folded.size();
    const auto reparsed = parse_header_field(folded, roomy);
    FUZZ_CHECK(reparsed.ok());
    FUZZ_CHECK(reparsed->name() == field.name());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view message = fuzz::as_text(data, size);
    const auto split = split_message(message);
    if (!split) return 0;
    FUZZ_CHECK(split->body_offset <= message.size());
    for (const HeaderField& field : split->headers) {
        const auto alone = parse_header_field(field.raw);
        FUZZ_CHECK(alone.ok());
        FUZZ_CHECK(alone->name() == field.name());
        FUZZ_CHECK(alone->value() == field.value());
        check_folding(field);
    }
    return 0;
}
