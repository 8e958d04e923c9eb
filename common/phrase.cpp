// phrase.cpp — the display name is cut into words at whitespace; maximal runs
// of ordinary words become one quoted string, or encoded words when the run
// has 8-bit text; valid encoded words are kept between them. RFC 2047 6.2
// drops whitespace between two encoded words, so a run encoded next to a
// kept encoded word carries its separating space inside the encoding ("_").
#include "common/phrase.h"

#include <vector>

namespace tenantmail {
namespace {

constexpr std::size_t max_encoded_word = 75;  // RFC 2047 2
constexpr std::string_view q_prefix = "=?utf-8?q?";
constexpr std::string_view q_suffix = "?=";

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Whitespace for word splitting: space, and every control character (tab,
// CR and LF included), which a phrase must not carry.
bool is_separator(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7F;
}

// RFC 2047 token: printable ASCII except especials (RFC 2047 2: backslash
// included; left bare in a phrase it would be a quoted-pair outside quotes).
bool is_charset_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F) return false;
    return std::string_view("()<>@,;:\\\"/[]?.=").find(c) == std::string_view::npos;
}

// The Q characters a phrase allows literally (RFC 2047 5(3)), '=' and '_'
// aside: they have their own meaning.
bool is_q_literal(char c) { return is_alnum(c) || std::string_view("!*+-/").find(c) != std::string_view::npos; }

bool is_q_text(std::string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '=') {
            if (i + 2 >= text.size() || !is_hex(text[i + 1]) || !is_hex(text[i + 2])) return false;
            i += 2;
            continue;
        }
        if (c != '_' && !is_q_literal(c)) return false;
    }
    return true;
}

bool is_b_text(std::string_view text) {
    if (text.empty() || text.size() % 4 != 0) return false;
    std::size_t padding = 0;
    for (char c : text) {
        if (c == '=') {
            ++padding;
            continue;
        }
        if (padding > 0 || !(is_alnum(c) || c == '+' || c == '/')) return false;
    }
    return padding <= 2;
}

// Octets of the UTF-8 sequence that starts with lead (1 for ASCII and for
// bytes that start none: they are encoded one by one).
std::size_t sequence_length(unsigned char lead) {
    if (lead >= 0xF0 && lead <= 0xF4) return 4;
    if (lead >= 0xE0 && lead <= 0xEF) return 3;
    if (lead >= 0xC2 && lead <= 0xDF) return 2;
    return 1;
}

bool has_8bit(std::string_view text) {
    for (char c : text) {
        if (static_cast<unsigned char>(c) >= 0x80) return true;
    }
    return false;
}

std::string quoted(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') out.push_back('\\');
        out.push_back(c);
    }
    out.push_back('"');
    return out;
}

// text as Q encoded words, each at most 75 characters, never splitting a
// UTF-8 sequence; spaces inside become '_'.
std::string q_encoded(std::string_view text) {
    static constexpr char digits[] = "0123456789ABCDEF";
    const std::size_t room = max_encoded_word - q_prefix.size() - q_suffix.size();
    std::string out;
    std::string word;
    for (std::size_t i = 0; i < text.size();) {
        std::size_t length = sequence_length(static_cast<unsigned char>(text[i]));
        if (length > text.size() - i) length = 1;
        std::string unit;
        for (std::size_t k = i; k < i + length; ++k) {
            const char c = text[k];
            if (c == ' ') {
                unit += '_';
            } else if (is_q_literal(c)) {
                unit += c;
            } else {
                const auto u = static_cast<unsigned char>(c);
                unit += '=';
                unit += digits[u >> 4];
                unit += digits[u & 0x0F];
            }
        }
        if (word.size() + unit.size() > room) {
            if (!out.empty()) out += ' ';
            out += std::string(q_prefix) + word + std::string(q_suffix);
            word.clear();
        }
        word += unit;
        i += length;
    }
    if (!word.empty()) {
        if (!out.empty()) out += ' ';
        out += std::string(q_prefix) + word + std::string(q_suffix);
    }
    return out;
}

struct Segment {
    bool encoded_word = false;  // kept as it was
    std::string text;           // words joined by one space
};

std::vector<Segment> segments_of(std::string_view text) {
    std::vector<Segment> segments;
    for (std::size_t pos = 0; pos < text.size();) {
        if (is_separator(text[pos])) {
            ++pos;
            continue;
        }
        std::size_t end = pos;
        while (end < text.size() && !is_separator(text[end])) ++end;
        const std::string_view word = text.substr(pos, end - pos);
        pos = end;
        if (is_phrase_encoded_word(word)) {
            segments.push_back({true, std::string(word)});
        } else if (segments.empty() || segments.back().encoded_word) {
            segments.push_back({false, std::string(word)});
        } else {
            segments.back().text += ' ';
            segments.back().text += word;
        }
    }
    return segments;
}

}  // namespace

bool is_phrase_encoded_word(std::string_view word) {
    if (word.size() > max_encoded_word || word.size() < 8) return false;
    if (word.substr(0, 2) != "=?" || word.substr(word.size() - 2) != "?=") return false;
    const std::string_view inner = word.substr(2, word.size() - 4);  // charset?E?text
    const std::size_t q1 = inner.find('?');
    if (q1 == std::string_view::npos || q1 == 0 || q1 + 2 >= inner.size() || inner[q1 + 2] != '?') return false;
    for (char c : inner.substr(0, q1)) {
        if (!is_charset_char(c)) return false;
    }
    const char encoding = inner[q1 + 1];
    const std::string_view payload = inner.substr(q1 + 3);
    if (payload.empty() || payload.find('?') != std::string_view::npos) return false;
    if (encoding == 'Q' || encoding == 'q') return is_q_text(payload);
    if (encoding == 'B' || encoding == 'b') return is_b_text(payload);
    return false;
}

std::string make_phrase(std::string_view text) {
    const std::vector<Segment> segments = segments_of(text);
    std::string out;
    for (std::size_t i = 0; i < segments.size(); ++i) {
        const Segment& segment = segments[i];
        if (!out.empty()) out += ' ';
        if (segment.encoded_word) {
            out += segment.text;
        } else if (!has_8bit(segment.text)) {
            out += quoted(segment.text);  // whitespace next to an encoded word survives decoding
        } else {
            const bool after = i > 0;  // the neighbours of a run are kept encoded words
            const bool before = i + 1 < segments.size();
            out += q_encoded((after ? " " : "") + segment.text + (before ? " " : ""));
        }
    }
    return out;
}

std::string_view utf8_prefix(std::string_view text, std::size_t max_octets) {
    if (text.size() <= max_octets) return text;
    std::size_t end = max_octets;
    // Back up over continuation bytes to the start of the cut sequence.
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0u) == 0x80u) --end;
    return text.substr(0, end);
}

}  // namespace tenantmail
