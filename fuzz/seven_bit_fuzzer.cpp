// seven_bit_fuzzer.cpp — a tenant's message body as S/MIME signing makes it
// 7-bit: the input's first line is the Content-Type value, the second the
// Content-Transfer-Encoding value, the rest the body (anything a tenant
// sends). Invariants: an entity that comes back is canonical 7-bit with
// lines of at most 998 octets (what a relay passes untouched), and the
// conversion is deterministic; an error is fine, a crash or hang is not.
#include <string>

#include "fuzz/fuzz_check.h"
#include "milter/seven_bit.h"

namespace {

std::string_view next_line(std::string_view& text) {
    const std::size_t lf = text.find('\n');
    const std::string_view line = text.substr(0, lf);
    text.remove_prefix(lf == std::string_view::npos ? text.size() : lf + 1);
    return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > 256 * 1024) return 0;  // the milter's limit is far larger; keep runs fast
    std::string_view input = tenantmail::fuzz::as_text(data, size);
    const std::string_view content_type = next_line(input);
    const std::string_view encoding = next_line(input);
    const auto first = tenantmail::milter::seven_bit_entity(content_type, encoding, input);
    const auto second = tenantmail::milter::seven_bit_entity(content_type, encoding, input);
    FUZZ_CHECK(first.ok() == second.ok());
    if (!first.ok()) return 0;
    FUZZ_CHECK(*first == *second);
    FUZZ_CHECK(tenantmail::milter::is_clean_seven_bit(*first, 998));
    return 0;
}
