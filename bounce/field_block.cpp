// field_block.cpp — splitting report bodies into field groups (see field_block.h).
#include "bounce/field_block.h"

#include "common/text.h"

namespace tenantmail::bounce {
namespace {

// RFC 5322 field names: printable ASCII except the colon. A line whose text
// before the first colon is anything else (or empty) is not a field.
bool is_field_name(std::string_view name) {
    if (name.empty()) return false;
    for (const char c : name) {
        if (c <= 32 || c >= 127 || c == ':') return false;
    }
    return true;
}

std::string_view next_line(std::string_view text, std::size_t& position) {
    const std::size_t end = text.find('\n', position);
    std::string_view line = text.substr(position, end == std::string_view::npos ? std::string_view::npos : end - position);
    position = end == std::string_view::npos ? text.size() : end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
}

bool is_blank(std::string_view line) {
    for (const char c : line) {
        if (!is_space(c)) return false;
    }
    return true;
}

class Builder {
public:
    void field(std::string_view name, std::string_view value) {
        if (fields_ >= kMaxFields) {
            result_.truncated = true;
            return;
        }
        if (result_.groups.empty() || group_closed_) result_.groups.emplace_back();
        group_closed_ = false;
        result_.groups.back().fields.push_back(Field{std::string(name), {}});
        ++fields_;
        open_ = true;
        append(value);
    }

    void continuation(std::string_view text) {
        if (!open_) {
            ++result_.skipped_lines;
            return;
        }
        append(text);
    }

    void end_group() {
        group_closed_ = true;
        open_ = false;
    }

    void skip() {
        ++result_.skipped_lines;
        open_ = false;
    }

    FieldGroups take() { return std::move(result_); }

private:
    void append(std::string_view text) {
        text = trim(text);
        if (text.empty()) return;
        std::string& value = result_.groups.back().fields.back().value;
        const std::size_t room = kMaxFieldValueBytes - value.size();
        if (!value.empty()) {
            if (room < 2) {
                result_.truncated = true;
                return;
            }
            value.push_back(' ');
        }
        if (text.size() > kMaxFieldValueBytes - value.size()) {
            text = text.substr(0, kMaxFieldValueBytes - value.size());
            result_.truncated = true;
        }
        value.append(text);
    }

    FieldGroups result_;
    std::size_t fields_ = 0;
    bool open_ = false;          // a field is open for continuation lines
    bool group_closed_ = false;  // an empty line ended the last group
};

}  // namespace

const Field* FieldGroup::find(std::string_view name) const {
    for (const Field& field : fields) {
        if (iequals(field.name, name)) return &field;
    }
    return nullptr;
}

FieldGroups parse_field_groups(std::string_view text) {
    Builder builder;
    std::size_t position = 0;
    while (position < text.size()) {
        const std::string_view line = next_line(text, position);
        if (is_blank(line)) {
            builder.end_group();
        } else if (is_wsp(line.front())) {
            builder.continuation(line);
        } else if (const std::size_t colon = line.find(':');
                   colon != std::string_view::npos && is_field_name(trim(line.substr(0, colon)))) {
            builder.field(trim(line.substr(0, colon)), line.substr(colon + 1));
        } else {
            builder.skip();
        }
    }
    return builder.take();
}

}  // namespace tenantmail::bounce
