#include "tenantmailctl/rotation_state.h"

#include "common/ini_file.h"
#include "common/text.h"
#include "tenantmailctl/tenants_edit.h"

namespace tenantmail::ctl {

std::string_view to_string(KeySlot slot) { return slot == KeySlot::rsa ? "rsa" : "ed25519"; }
std::string_view selector_field(KeySlot slot) { return slot == KeySlot::rsa ? "selector" : "ed25519_selector"; }
std::string_view key_field(KeySlot slot) { return slot == KeySlot::rsa ? "key" : "ed25519_key"; }

std::string format_rotation_mark(const RotationMark& mark) {
    return std::string(kRotationPrefix) + " " + (mark.state == RotationMark::State::pending ? "pending" : "retiring") +
           " " + std::string(to_string(mark.slot)) + " " + mark.selector + " " + mark.date + " " + mark.key_path;
}

std::optional<RotationMark> parse_rotation_mark(std::string_view line) {
    if (!line.starts_with(kRotationPrefix)) return std::nullopt;
    std::string_view rest = line.substr(kRotationPrefix.size());
    std::vector<std::string_view> fields;
    for (int i = 0; i < 4; ++i) {
        rest = trim(rest);
        const std::size_t space = rest.find_first_of(" \t");
        if (space == std::string_view::npos) return std::nullopt;
        fields.push_back(rest.substr(0, space));
        rest.remove_prefix(space);
    }
    RotationMark mark;
    if (fields[0] != "pending" && fields[0] != "retiring") return std::nullopt;
    if (fields[1] != "rsa" && fields[1] != "ed25519") return std::nullopt;
    mark.state = fields[0] == "pending" ? RotationMark::State::pending : RotationMark::State::retiring;
    mark.slot = fields[1] == "rsa" ? KeySlot::rsa : KeySlot::ed25519;
    mark.selector = std::string(fields[2]);
    mark.date = std::string(fields[3]);
    mark.key_path = std::string(trim(rest));
    if (mark.key_path.empty() || mark.key_path.front() != '/') return std::nullopt;
    return mark;
}

Result<std::vector<RotationMark>> rotation_marks(std::string_view tenants_text, std::string_view tenant,
                                                 std::string_view filename) {
    std::vector<RotationMark> marks;
    for (const auto& [line, content] : tenant_comment_lines(tenants_text, tenant, kRotationPrefix)) {
        auto mark = parse_rotation_mark(content);
        if (!mark) {
            return make_error(ini_error(filename, line,
                                        "unreadable rotation note (expected \"" + std::string(kRotationPrefix) +
                                            " pending|retiring rsa|ed25519 SELECTOR YYYY-MM-DD /KEY/PATH\")"));
        }
        marks.push_back(std::move(*mark));
    }
    return marks;
}

Result<std::string> with_rotation_marks(std::string_view tenants_text, std::string_view tenant,
                                        const std::vector<RotationMark>& marks) {
    std::vector<std::string> lines;
    for (const RotationMark& mark : marks) lines.push_back(format_rotation_mark(mark));
    return replace_tenant_comment_lines(tenants_text, tenant, kRotationPrefix, lines);
}

bool valid_new_selector(std::string_view selector) {
    if (selector.empty() || selector.size() > 63) return false;
    for (std::string_view rest = selector;;) {
        const std::size_t dot = rest.find('.');
        const std::string_view label = rest.substr(0, dot);
        if (label.empty() || label.front() == '-' || label.back() == '-') return false;
        for (const char c : label) {
            const char l = ascii_lower(c);
            if (!((l >= 'a' && l <= 'z') || (l >= '0' && l <= '9') || c == '-')) return false;
        }
        if (dot == std::string_view::npos) return true;
        rest.remove_prefix(dot + 1);
    }
}

const RotationMark* find_mark(const std::vector<RotationMark>& marks, RotationMark::State state, KeySlot slot) {
    for (const RotationMark& mark : marks) {
        if (mark.state == state && mark.slot == slot) return &mark;
    }
    return nullptr;
}

}  // namespace tenantmail::ctl
