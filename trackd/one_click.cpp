// one_click.cpp — see one_click.h.
#include "trackd/one_click.h"

#include <string>

#include "common/text.h"

namespace tenantmail::trackd {
namespace {

constexpr std::string_view kName = "List-Unsubscribe";
constexpr std::string_view kValue = "One-Click";

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// application/x-www-form-urlencoded decoding; a bad escape stays as it is.
std::string form_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '+') {
            out.push_back(' ');
        } else if (c == '%' && i + 2 < text.size() && hex_digit(text[i + 1]) >= 0 && hex_digit(text[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hex_digit(text[i + 1]) * 16 + hex_digit(text[i + 2])));
            i += 2;
        } else {
            out.push_back(c);
        }
    }
    return out;
}

bool urlencoded_has_one_click(std::string_view body) {
    body = trim(body);
    while (!body.empty()) {
        const auto amp = body.find('&');
        const std::string_view pair = body.substr(0, amp);
        body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
        const auto equals = pair.find('=');
        if (equals == std::string_view::npos) continue;
        if (form_decode(pair.substr(0, equals)) == kName && form_decode(pair.substr(equals + 1)) == kValue) return true;
    }
    return false;
}

// The media type of a Content-Type value, and the value of one parameter
// (quotes removed); "" when absent.
std::string_view media_type(std::string_view content_type) {
    return trim(content_type.substr(0, content_type.find(';')));
}

std::string_view parameter(std::string_view value, std::string_view name) {
    std::size_t at = value.find(';');
    while (at != std::string_view::npos) {
        std::string_view rest = value.substr(at + 1);
        const auto next = rest.find(';');
        std::string_view item = trim(rest.substr(0, next));
        const auto equals = item.find('=');
        if (equals != std::string_view::npos && iequals(trim(item.substr(0, equals)), name)) {
            std::string_view v = trim(item.substr(equals + 1));
            if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
            return v;
        }
        at = next == std::string_view::npos ? std::string_view::npos : at + 1 + next;
    }
    return {};
}

// One part of a multipart body: headers up to the blank line, then content.
bool part_is_one_click(std::string_view part) {
    // The part starts after the boundary line's CRLF.
    if (part.starts_with("\r\n")) part.remove_prefix(2);
    else if (part.starts_with("\n")) part.remove_prefix(1);
    std::size_t end = part.find("\r\n\r\n");
    std::size_t skip = 4;
    if (end == std::string_view::npos) {
        end = part.find("\n\n");
        skip = 2;
    }
    if (end == std::string_view::npos) return false;
    const std::string_view headers = part.substr(0, end);
    const std::string_view content = trim(part.substr(end + skip));
    bool named = false;
    std::string_view lines = headers;
    while (!lines.empty()) {
        const auto newline = lines.find('\n');
        const std::string_view line = trim(lines.substr(0, newline));
        lines = newline == std::string_view::npos ? std::string_view() : lines.substr(newline + 1);
        const auto colon = line.find(':');
        if (colon == std::string_view::npos || !iequals(trim(line.substr(0, colon)), "Content-Disposition")) continue;
        const std::string_view value = line.substr(colon + 1);
        named = iequals(media_type(value), "form-data") && parameter(value, "name") == kName;
    }
    return named && content == kValue;
}

bool multipart_has_one_click(std::string_view content_type, std::string_view body) {
    const std::string_view boundary = parameter(content_type, "boundary");
    if (boundary.empty() || boundary.size() > 70) return false;  // RFC 2046's limit
    const std::string delimiter = "--" + std::string(boundary);
    std::size_t at = body.find(delimiter);
    while (at != std::string_view::npos) {
        const std::size_t start = at + delimiter.size();
        if (body.substr(start).starts_with("--")) return false;  // the closing delimiter
        const std::size_t next = body.find(delimiter, start);
        std::string_view part = body.substr(start, next == std::string_view::npos ? std::string_view::npos : next - start);
        if (part_is_one_click(part)) return true;
        at = next;
    }
    return false;
}

}  // namespace

bool is_one_click_request(std::string_view content_type, std::string_view body) {
    const std::string_view type = media_type(content_type);
    if (iequals(type, "application/x-www-form-urlencoded")) return urlencoded_has_one_click(body);
    if (iequals(type, "multipart/form-data")) return multipart_has_one_click(content_type, body);
    return false;
}

}  // namespace tenantmail::trackd
