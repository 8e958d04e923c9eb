// report_text.cpp — cleaning report text for logs and JSON (see report_text.h).
#include "bounce/report_text.h"

namespace tenantmail::bounce {
namespace {

// Length of the valid UTF-8 sequence at text[i] (RFC 3629: no overlongs,
// no surrogates, at most U+10FFFF), or 0 when there is none.
std::size_t utf8_length(std::string_view text, std::size_t i) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char lead = byte(i);
    std::size_t length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) {
        length = 2;
    } else if (lead >= 0xe0 && lead <= 0xef) {
        length = 3;
        if (lead == 0xe0) low = 0xa0;
        if (lead == 0xed) high = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
        length = 4;
        if (lead == 0xf0) low = 0x90;
        if (lead == 0xf4) high = 0x8f;
    } else {
        return 0;
    }
    if (i + length > text.size()) return 0;
    if (byte(i + 1) < low || byte(i + 1) > high) return 0;
    for (std::size_t k = 2; k < length; ++k) {
        if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return 0;
    }
    return length;
}

}  // namespace

std::string clean_text(std::string_view text, std::size_t max_bytes) {
    std::string out;
    out.reserve(text.size() < max_bytes ? text.size() : max_bytes);
    std::size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        std::size_t length = 1;
        if (c >= 0x80) length = utf8_length(text, i);
        if (out.size() + (length == 0 ? 1 : length) > max_bytes) break;
        if (c >= 0x20 && c < 0x7f) {
            out.push_back(static_cast<char>(c));
        } else if (length > 1) {
            out.append(text.substr(i, length));
        } else {
            out.push_back('?');
            length = 1;
        }
        i += length;
    }
    if (i < text.size()) out += "...";
    return out;
}

}  // namespace tenantmail::bounce
