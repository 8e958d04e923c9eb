// printable.cpp — see printable.h.
#include "common/printable.h"

namespace tenantmail {

void append_printable(std::string& out, std::string_view text, std::size_t max_length) {
    const std::size_t length = text.size() > max_length ? max_length : text.size();
    out.reserve(out.size() + length + 3);
    for (std::size_t i = 0; i < length; ++i) {
        const char c = text[i];
        out += (c >= 0x20 && c <= 0x7e) ? c : '?';
    }
    if (length < text.size()) out += "...";
}

std::string excerpt(std::string_view text, std::size_t max_length) {
    std::string out;
    append_printable(out, text, max_length);
    return out;
}

}  // namespace tenantmail
