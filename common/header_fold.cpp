// header_fold.cpp — greedy folding: per physical line, break at the last
// allowed whitespace within the width, or at the first one past it when the
// width cannot be kept.
#include "common/header_fold.h"

#include "common/text.h"

namespace tenantmail {
namespace {

// Folds one physical line; first_allowed keeps the name and colon (and the
// value's first character) on the first line. A break goes before a space or
// tab not preceded by a backslash, with text (not only whitespace) on both
// sides of it. Each pass scans only what it then moves to out, or at most
// width octets back, so the whole is linear.
void fold_line(std::string_view line, std::size_t first_allowed, std::size_t width, std::string& out) {
    std::size_t last_text = line.size();  // the last character that is not whitespace
    while (last_text > 0 && is_wsp(line[last_text - 1])) --last_text;
    if (last_text > 0) --last_text;
    std::size_t first_text = 0;  // the first one, for lines after a break
    while (first_text < line.size() && is_wsp(line[first_text])) ++first_text;
    if (first_allowed <= first_text) first_allowed = first_text + 1;
    auto allowed = [&](std::size_t pos) {
        return pos >= first_allowed && pos < last_text && is_wsp(line[pos]) && line[pos - 1] != '\\';
    };
    while (line.size() > width) {
        std::size_t cut = 0;
        for (std::size_t pos = std::min(width, line.size() - 1); pos >= first_allowed && cut == 0; --pos) {
            if (allowed(pos)) cut = pos;
        }
        for (std::size_t pos = width + 1; pos < last_text && cut == 0; ++pos) {
            if (allowed(pos)) cut = pos;
        }
        if (cut == 0) break;  // no whitespace to fold at: the line stays long
        out.append(line.substr(0, cut));
        out += "\r\n";
        line.remove_prefix(cut);
        last_text -= cut;
        // The new line starts with the whitespace at cut; its text follows.
        first_text = 0;
        while (first_text < line.size() && is_wsp(line[first_text])) ++first_text;
        first_allowed = first_text + 1;
    }
    out.append(line);
}

}  // namespace

std::size_t longest_line(std::string_view raw_field) {
    std::size_t longest = 0;
    std::size_t start = 0;
    while (start <= raw_field.size()) {
        std::size_t end = raw_field.find('\n', start);
        const bool last = end == std::string_view::npos;
        if (last) end = raw_field.size();
        std::size_t length = end - start;
        if (!last && length > 0 && raw_field[end - 1] == '\r') --length;
        if (length > longest) longest = length;
        if (last) break;
        start = end + 1;
    }
    return longest;
}

std::string fold_field(std::string_view raw_field, std::size_t width) {
    std::string out;
    out.reserve(raw_field.size() + raw_field.size() / width * 2 + 2);
    const std::size_t colon = raw_field.find(':');
    std::size_t start = 0;
    bool first = true;
    while (start <= raw_field.size()) {
        std::size_t end = raw_field.find('\n', start);
        const bool last = end == std::string_view::npos;
        if (last) end = raw_field.size();
        std::size_t content_end = end;
        if (!last && content_end > start && raw_field[content_end - 1] == '\r') --content_end;
        const std::string_view line = raw_field.substr(start, content_end - start);
        // First line: nothing before the colon, and the value's first
        // character stays beside it ("Subject: x", not "Subject:\r\n x").
        const std::size_t first_allowed = first ? (colon == std::string_view::npos ? line.size() : colon + 2) : 1;
        fold_line(line, first_allowed, width, out);
        if (last) break;
        out.append(raw_field.substr(content_end, end + 1 - content_end));  // the line end as it was
        start = end + 1;
        first = false;
    }
    return out;
}

}  // namespace tenantmail
