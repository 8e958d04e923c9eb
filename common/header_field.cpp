// header_field.cpp — header block splitting and field validation.
// Strict on purpose: the signer must sign exactly the fields a receiver will
// see, so anything two parsers could read differently is refused with the
// line number rather than guessed at.
#include "common/header_field.h"

#include <cstring>

#include "common/text.h"

namespace tenantmail {
namespace {

// RFC 5322 ftext: printable US-ASCII except the colon.
bool is_field_name_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 33 && u <= 126 && c != ':';
}

bool has_nul(std::string_view text) { return std::memchr(text.data(), '\0', text.size()) != nullptr; }

// One physical line of the header block.
struct Line {
    std::string_view content;  // without its line end
    std::size_t next = 0;      // offset just past the line end
};

Line line_at(std::string_view text, std::size_t pos) {
    const std::size_t lf = text.find('\n', pos);
    if (lf == std::string_view::npos) return {text.substr(pos), text.size()};
    std::size_t end = lf;
    if (end > pos && text[end - 1] == '\r') --end;
    return {text.substr(pos, end - pos), lf + 1};
}

// Validates the name part of a field's first line; returns the name length.
Result<std::size_t> check_name(std::string_view first_line, std::size_t colon) {
    std::size_t name_end = colon;
    // obs-optional: whitespace between the name and the colon is tolerated
    // (RFC 5322 4.5.8) and is not part of the name.
    while (name_end > 0 && is_wsp(first_line[name_end - 1])) --name_end;
    if (name_end == 0) return make_error("header field has an empty name");
    for (std::size_t i = 0; i < name_end; ++i) {
        if (!is_field_name_char(first_line[i])) {
            return make_error("header field name '" + std::string(first_line.substr(0, name_end)) +
                              "' contains a space, control or non-ASCII character");
        }
    }
    return name_end;
}

}  // namespace

Result<HeaderField> parse_header_field(std::string_view raw, const HeaderLimits& limits) {
    if (raw.size() > limits.max_field_bytes) {
        return make_error("header field is " + std::to_string(raw.size()) + " bytes, over the limit of " +
                          std::to_string(limits.max_field_bytes));
    }
    if (has_nul(raw)) return make_error("header field contains a NUL byte");
    if (raw.empty() || is_wsp(raw.front())) return make_error("header field starts with whitespace or is empty");
    const Line first = line_at(raw, 0);
    const std::size_t colon = first.content.find(':');
    if (colon == std::string_view::npos) {
        return make_error("header field '" + std::string(first.content.substr(0, 40)) + "' has no colon");
    }
    auto name_length = check_name(first.content, colon);
    if (!name_length) return Error{name_length.error()};
    // Every further line must be a continuation; a final line end would make
    // the field end with an empty line, which belongs to no field.
    for (std::size_t pos = first.next; pos < raw.size() || (pos == raw.size() && raw.back() == '\n');) {
        const Line line = line_at(raw, pos);
        if (line.content.empty() || !is_wsp(line.content.front())) {
            return make_error("header field '" + std::string(raw.substr(0, *name_length)) +
                              "' contains a line break that is not followed by whitespace");
        }
        pos = line.next;
    }
    return HeaderField{std::string(raw), *name_length, colon};
}

Result<SplitMessage> split_message(std::string_view message, const HeaderLimits& limits) {
    SplitMessage split;
    split.body_offset = message.size();
    std::size_t field_start = 0;
    std::size_t field_end = 0;  // end of the current field's last line content
    bool in_field = false;
    std::size_t line_number = 0;

    // Turns message[field_start, field_end) into a field.
    auto close_field = [&]() -> Result<void> {
        if (!in_field) return {};
        in_field = false;
        if (split.headers.size() >= limits.max_fields) {
            return make_error("header block has more than " + std::to_string(limits.max_fields) + " fields");
        }
        auto field = parse_header_field(message.substr(field_start, field_end - field_start), limits);
        if (!field) return Error{"header ending at line " + std::to_string(line_number - 1) + ": " + field.error()};
        split.headers.push_back(std::move(field).value());
        return {};
    };

    for (std::size_t pos = 0; pos < message.size();) {
        const Line line = line_at(message, pos);
        ++line_number;
        auto where = [&] { return "header line " + std::to_string(line_number); };
        const std::size_t content_end = static_cast<std::size_t>(line.content.data() - message.data()) +
                                        line.content.size();
        if (line.content.empty()) {  // the empty line: the body follows
            if (auto closed = close_field(); !closed) return Error{closed.error()};
            split.body_offset = line.next;
            return split;
        }
        if (is_wsp(line.content.front())) {
            if (!in_field) return make_error(where() + " is a continuation line with no header field before it");
            // Checked as the field grows so a hostile endless field stops early.
            if (content_end - field_start > limits.max_field_bytes) {
                return make_error(where() + ": header field is over the limit of " +
                                  std::to_string(limits.max_field_bytes) + " bytes");
            }
        } else {
            if (auto closed = close_field(); !closed) return Error{closed.error()};
            if (line.content.find(':') == std::string_view::npos) {
                return make_error(where() + " is neither a header field (no colon) nor a continuation line");
            }
            in_field = true;
            field_start = pos;
        }
        field_end = content_end;
        pos = line.next;
    }
    // No empty line: the whole message is header block and the body is empty.
    ++line_number;
    if (auto closed = close_field(); !closed) return Error{closed.error()};
    return split;
}

}  // namespace tenantmail
