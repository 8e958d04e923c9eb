// text_tracking.cpp — see text_tracking.h.
#include "milter/text_tracking.h"

#include <algorithm>
#include <cstddef>

#include "common/text.h"
#include "milter/html_tracking.h"

namespace tenantmail::milter {
namespace {

bool ends_url(unsigned char c) {
    return c <= 0x20 || c == 0x7f || c == '"' || c == '<' || c == '>' || c == '`' || c == '{' || c == '}' ||
           c == '|' || c == '\\' || c == '^';
}

bool is_trailing_punctuation(char c) {
    return c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' || c == '\'';
}

bool is_word_octet(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' || c == '.' ||
           c == '-' || c == '_' || c == '+';
}

// The length of "http://" or "https://" (any case) at text[i], not inside a
// word; 0 when there is none.
std::size_t scheme_length(std::string_view text, std::size_t i) {
    if (i > 0 && is_word_octet(text[i - 1])) return 0;
    for (std::string_view scheme : {std::string_view("https://"), std::string_view("http://")}) {
        if (text.size() - i >= scheme.size() && iequals(text.substr(i, scheme.size()), scheme)) return scheme.size();
    }
    return 0;
}

}  // namespace

std::string_view url_at(std::string_view text, std::size_t start) {
    // Scans at most one octet past the limit: a longer URL is left alone anyway.
    const std::size_t limit = std::min(text.size(), start + kMaxTextUrlOctets + 1);
    std::size_t end = start;
    std::ptrdiff_t parentheses = 0;  // opened minus closed
    std::ptrdiff_t brackets = 0;
    for (; end < limit && !ends_url(static_cast<unsigned char>(text[end])); ++end) {
        parentheses += text[end] == '(' ? 1 : text[end] == ')' ? -1 : 0;
        brackets += text[end] == '[' ? 1 : text[end] == ']' ? -1 : 0;
    }
    // Trailing punctuation, and closing brackets the URL itself did not
    // open, belong to the text around it.
    while (end > start) {
        const char last = text[end - 1];
        if (is_trailing_punctuation(last)) {
            --end;
        } else if (last == ')' && parentheses < 0) {
            ++parentheses;
            --end;
        } else if (last == ']' && brackets < 0) {
            ++brackets;
            --end;
        } else {
            break;
        }
    }
    return text.substr(start, end - start);
}

TextTrackingResult track_text_links(std::string_view text,
                                    const std::function<std::optional<std::string>(std::string_view url)>& click_link) {
    TextTrackingResult result;
    result.text.reserve(text.size() + text.size() / 8);
    std::size_t copied = 0;
    for (std::size_t i = text.find_first_of("hH"); i != std::string_view::npos && i < text.size();
         i = text.find_first_of("hH", i)) {
        const std::size_t scheme = scheme_length(text, i);
        if (scheme == 0) {
            ++i;
            continue;
        }
        const std::string_view url = url_at(text, i);
        if (url.size() == scheme || url.size() > kMaxTextUrlOctets || is_untracked_target(url)) {
            i += url.size() == scheme ? scheme : url.size();
            continue;
        }
        if (auto link = click_link(url)) {
            result.text.append(text.substr(copied, i - copied));
            result.text.append(*link);
            copied = i + url.size();
            ++result.links_rewritten;
        }
        i += url.size();
    }
    result.text.append(text.substr(copied));
    return result;
}

}  // namespace tenantmail::milter
