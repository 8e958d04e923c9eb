#include "common/text.h"

#include <cstdint>

namespace tenantmail {

std::string to_lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = ascii_lower(c);
    return out;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    }
    return true;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
    while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
    return text;
}

std::vector<std::string_view> split_list(std::string_view text) {
    std::vector<std::string_view> items;
    size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && (is_space(text[i]) || text[i] == ',')) ++i;
        const size_t start = i;
        while (i < text.size() && !is_space(text[i]) && text[i] != ',') ++i;
        if (i > start) items.push_back(text.substr(start, i - start));
    }
    return items;
}

namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

void append_hex_byte(std::string& out, unsigned char byte) {
    out += "\\x";
    out += kHexDigits[byte >> 4];
    out += kHexDigits[byte & 0x0f];
}

// Only code points up to U+FFFF are ever escaped this way.
void append_code_point(std::string& out, std::uint32_t code_point) {
    out += "\\u";
    for (int shift = 12; shift >= 0; shift -= 4) out += kHexDigits[(code_point >> shift) & 0x0f];
}

// Length of the UTF-8 sequence at text[i] and its code point; 0 when the
// bytes there are not one (overlong, surrogate, truncated, above U+10FFFF).
std::size_t utf8_sequence(std::string_view text, std::size_t i, std::uint32_t& code_point) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    std::uint32_t min = 0;
    if (lead >= 0xc2 && lead <= 0xdf) {
        length = 2;
        min = 0x80;
        code_point = lead & 0x1fu;
    } else if (lead >= 0xe0 && lead <= 0xef) {
        length = 3;
        min = 0x800;
        code_point = lead & 0x0fu;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
        length = 4;
        min = 0x10000;
        code_point = lead & 0x07u;
    } else {
        return 0;
    }
    if (i + length > text.size()) return 0;
    for (std::size_t k = 1; k < length; ++k) {
        const auto next = static_cast<unsigned char>(text[i + k]);
        if ((next & 0xc0u) != 0x80u) return 0;
        code_point = (code_point << 6) | (next & 0x3fu);
    }
    if (code_point < min || code_point > 0x10ffff || (code_point >= 0xd800 && code_point <= 0xdfff)) return 0;
    return length;
}

// C1 controls and the bidirectional embeddings, overrides and isolates,
// which reorder what follows them on screen.
bool hidden_code_point(std::uint32_t code_point) {
    return (code_point >= 0x80 && code_point <= 0x9f) || (code_point >= 0x202a && code_point <= 0x202e) ||
           (code_point >= 0x2066 && code_point <= 0x2069);
}

// keep_newlines: for messages of several lines.
std::string escape_for_terminal(std::string_view text, bool keep_newlines) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        const auto byte = static_cast<unsigned char>(text[i]);
        if (byte == '\\') {
            out += "\\\\";
            ++i;
        } else if (byte >= 0x20 && byte < 0x7f) {
            out += static_cast<char>(byte);
            ++i;
        } else if (byte == '\n' && keep_newlines) {
            out += '\n';
            ++i;
        } else if (byte < 0x80) {
            append_hex_byte(out, byte);
            ++i;
        } else if (std::uint32_t code_point = 0; const std::size_t length = utf8_sequence(text, i, code_point)) {
            if (hidden_code_point(code_point)) {
                append_code_point(out, code_point);
            } else {
                out.append(text.substr(i, length));
            }
            i += length;
        } else {
            append_hex_byte(out, byte);
            ++i;
        }
    }
    return out;
}

// Length of the unit of terminal_text output at `at`: an escape ("\\",
// "\x1b", "\u009b") or one UTF-8 character.
std::size_t escaped_unit_length(const std::string& out, std::size_t at) {
    if (out[at] == '\\') {
        const char kind = at + 1 < out.size() ? out[at + 1] : '\\';
        return kind == 'x' ? 4 : kind == 'u' ? 6 : 2;
    }
    std::size_t length = 1;
    while (at + length < out.size() && (static_cast<unsigned char>(out[at + length]) & 0xc0) == 0x80) ++length;
    return length;
}

}  // namespace

std::string terminal_text(std::string_view text) { return escape_for_terminal(text, false); }
std::string terminal_lines(std::string_view text) { return escape_for_terminal(text, true); }

std::string terminal_cell(std::string_view text, std::size_t max_width) {
    std::string out = terminal_text(text);
    if (out.size() <= max_width) return out;
    const std::size_t room = max_width >= 3 ? max_width - 3 : 0;
    // Cut between two units of the escaped text, never inside one.
    std::size_t cut = 0;
    while (cut < out.size()) {
        const std::size_t unit = escaped_unit_length(out, cut);
        if (cut + unit > room) break;
        cut += unit;
    }
    out.resize(cut);
    return out + "...";
}

std::string lf_to_crlf(std::string_view text) {
    std::string out;
    out.reserve(text.size() + text.size() / 32);
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) out.push_back('\r');
        out.push_back(text[i]);
    }
    return out;
}

std::string crlf_to_lf(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
        out.push_back(text[i]);
    }
    return out;
}

}  // namespace tenantmail
