#include "tenantmailctl/tenants_edit.h"

#include <algorithm>

#include "common/text.h"

namespace tenantmail::ctl {
namespace {

struct Line {
    std::string content;  // without the line end
    std::string ending;   // "\n", "\r\n" or "" for a last line without one
};

std::vector<Line> split_lines(std::string_view text) {
    std::vector<Line> lines;
    while (!text.empty()) {
        const std::size_t lf = text.find('\n');
        std::string_view content = text.substr(0, lf);
        std::string ending = lf == std::string_view::npos ? "" : "\n";
        if (!ending.empty() && content.ends_with('\r')) {
            content.remove_suffix(1);
            ending = "\r\n";
        }
        lines.push_back(Line{std::string(content), ending});
        text.remove_prefix(lf == std::string_view::npos ? text.size() : lf + 1);
    }
    return lines;
}

std::string join_lines(const std::vector<Line>& lines) {
    std::string out;
    for (const Line& line : lines) out += line.content + line.ending;
    return out;
}

bool is_comment(std::string_view content) {
    const std::string_view t = trim(content);
    return t.empty() || t.front() == '#' || t.front() == ';';
}

// The end of a value: where an inline comment (whitespace then # or ;) starts.
std::size_t value_end(std::string_view content, std::size_t from) {
    for (std::size_t i = from; i < content.size(); ++i) {
        if ((content[i] == '#' || content[i] == ';') && i > 0 && is_wsp(content[i - 1])) return i;
    }
    return content.size();
}

// "[name]" possibly followed by a comment; the name, or "" for other lines.
std::string section_name(std::string_view content) {
    if (is_comment(content)) return "";
    const std::string_view t = trim(content.substr(0, value_end(content, 0)));
    if (t.size() < 2 || t.front() != '[' || t.back() != ']') return "";
    return std::string(trim(t.substr(1, t.size() - 2)));
}

std::string key_of(std::string_view content) {
    if (is_comment(content) || !section_name(content).empty()) return "";
    const std::size_t equals = content.find('=');
    if (equals == std::string_view::npos) return "";
    return std::string(trim(content.substr(0, equals)));
}

struct Section {
    std::size_t header = 0;    // index of the [tenant] line
    std::size_t end = 0;       // one past its last line (next header or EOF)
    std::size_t last_key = 0;  // index of the last key line, or header when none
};

Result<Section> find_section(const std::vector<Line>& lines, std::string_view tenant) {
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (section_name(lines[i].content) != tenant) continue;
        Section section{i, lines.size(), i};
        for (std::size_t j = i + 1; j < lines.size(); ++j) {
            if (!section_name(lines[j].content).empty()) {
                section.end = j;
                break;
            }
            if (!key_of(lines[j].content).empty()) section.last_key = j;
        }
        return section;
    }
    return make_error("no section [" + std::string(tenant) + "] in the tenants file");
}

std::string default_ending(const std::vector<Line>& lines) {
    for (const Line& line : lines) {
        if (!line.ending.empty()) return line.ending;
    }
    return "\n";
}

// Inserts new lines after index `after`, giving that line an ending first
// if it was the file's unterminated last line.
void insert_after(std::vector<Line>& lines, std::size_t after, const std::vector<std::string>& contents) {
    const std::string ending = default_ending(lines);
    if (lines[after].ending.empty()) lines[after].ending = ending;
    std::vector<Line> added;
    for (const std::string& content : contents) added.push_back(Line{content, ending});
    lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(after + 1), added.begin(), added.end());
}

}  // namespace

Result<std::string> set_tenant_values(std::string_view text, std::string_view tenant,
                                      const std::vector<std::pair<std::string, std::string>>& values) {
    std::vector<Line> lines = split_lines(text);
    auto section = find_section(lines, tenant);
    if (!section) return Error{section.error()};
    std::vector<std::pair<std::string, std::string>> missing;
    for (const auto& [key, value] : values) {
        bool replaced = false;
        for (std::size_t i = section->header + 1; i < section->end; ++i) {
            std::string& content = lines[i].content;
            if (key_of(content) != key) continue;
            std::size_t start = content.find('=') + 1;
            while (start < content.size() && is_wsp(content[start])) ++start;
            std::size_t end = value_end(content, start);
            while (end > start && is_wsp(content[end - 1])) --end;
            // An inline comment stays one space away from the new value.
            const std::string rest = content.substr(end);
            content = content.substr(0, start) + value + (rest.empty() || is_wsp(rest.front()) ? "" : " ") + rest;
            replaced = true;
        }
        if (!replaced) missing.emplace_back(key, value);
    }
    // New lines line their '=' up with the key line they follow.
    std::size_t column = 0;
    const std::string& anchor = lines[section->last_key].content;
    if (!key_of(anchor).empty()) column = anchor.find('=');
    for (const auto& [key, value] : missing) column = std::max(column, key.size() + 1);
    std::vector<std::string> added;
    for (const auto& [key, value] : missing)
        added.push_back(key + std::string(column - key.size(), ' ') + "= " + value);
    if (!added.empty()) insert_after(lines, section->last_key, added);
    return join_lines(lines);
}

std::vector<std::pair<std::size_t, std::string>> tenant_comment_lines(std::string_view text, std::string_view tenant,
                                                                      std::string_view prefix) {
    std::vector<std::pair<std::size_t, std::string>> found;
    const std::vector<Line> lines = split_lines(text);
    auto section = find_section(lines, tenant);
    if (!section) return found;
    for (std::size_t i = section->header + 1; i < section->end; ++i) {
        if (lines[i].content.starts_with(prefix)) found.emplace_back(i + 1, lines[i].content);
    }
    return found;
}

Result<std::string> replace_tenant_comment_lines(std::string_view text, std::string_view tenant,
                                                 std::string_view prefix, const std::vector<std::string>& contents) {
    std::vector<Line> lines = split_lines(text);
    auto section = find_section(lines, tenant);
    if (!section) return Error{section.error()};
    // Where the first old line was, else after the last key line. Erasing
    // from the back leaves every index before insert_at unchanged.
    std::size_t insert_at = section->last_key + 1;
    for (std::size_t i = section->end; i-- > section->header + 1;) {
        if (!lines[i].content.starts_with(prefix)) continue;
        lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(i));
        insert_at = i;
    }
    if (contents.empty()) return join_lines(lines);
    insert_after(lines, insert_at - 1, contents);
    return join_lines(lines);
}

}  // namespace tenantmail::ctl
