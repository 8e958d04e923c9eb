#include "common/tag_list.h"

#include <algorithm>

#include "common/text.h"

namespace tenantmail {
namespace {

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// tag-name = ALPHA *ALNUMPUNC, ALNUMPUNC = ALPHA / DIGIT / "_"
bool valid_tag_name(std::string_view name) {
    return !name.empty() && is_alpha(name.front()) &&
           std::all_of(name.begin(), name.end(), [](char c) { return is_alpha(c) || is_digit(c) || c == '_'; });
}

// tval characters are VCHAR except ';'; whitespace may separate them.
bool valid_tag_value(std::string_view value) {
    return std::all_of(value.begin(), value.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return is_space(c) || (u >= 0x21 && u <= 0x7e && c != ';');
    });
}

}  // namespace

const Tag* TagList::find(std::string_view name) const {
    const auto it = std::find_if(tags.begin(), tags.end(), [&](const Tag& tag) { return tag.name == name; });
    return it == tags.end() ? nullptr : &*it;
}

std::optional<std::string> TagList::value(std::string_view name) const {
    const Tag* tag = find(name);
    if (tag == nullptr) return std::nullopt;
    return tag->value;
}

Result<TagList> parse_tag_list(std::string_view text) {
    TagList list;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find(';', start);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view spec = trim(text.substr(start, end - start));
        const bool last = end == text.size();
        if (spec.empty()) {
            // "a=1;" is fine; "a=1;;b=2" and "" are not records.
            if (last && !list.tags.empty()) break;
            return make_error(list.tags.empty() ? "empty record" : "empty tag between ';'");
        }
        const std::size_t equals = spec.find('=');
        if (equals == std::string_view::npos) return make_error("\"" + std::string(spec) + "\" is not tag=value");
        const std::string_view name = trim(spec.substr(0, equals));
        const std::string_view value = trim(spec.substr(equals + 1));
        if (!valid_tag_name(name)) return make_error("invalid tag name \"" + std::string(name) + "\"");
        if (!valid_tag_value(value)) return make_error("invalid character in " + std::string(name) + "=");
        if (list.find(name) != nullptr) return make_error("tag " + std::string(name) + "= given twice");
        list.tags.push_back(Tag{std::string(name), std::string(value)});
        if (last) break;
        start = end + 1;
    }
    return list;
}

}  // namespace tenantmail
