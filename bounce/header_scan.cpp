// header_scan.cpp — bounding header lines before parsing (see header_scan.h).
#include "bounce/header_scan.h"

#include <string>

#include "common/text.h"

namespace tenantmail::bounce {
namespace {

bool starts_with_ci(std::string_view text, std::string_view prefix) {
    return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

// "Content-Type: message/..." (the embedded message's headers come next).
bool declares_message_part(std::string_view line) {
    if (!starts_with_ci(line, "content-type:")) return false;
    return starts_with_ci(trim(line.substr(13)), "message/");
}

class HeaderScanner {
public:
    explicit HeaderScanner(const HeaderLimits& limits) : limits_(limits) {}

    Result<void> line(std::string_view text) {
        if (!in_header_) {
            if (text.substr(0, 2) == "--") start_block();
            return {};
        }
        if (text.empty()) {
            // The header of a message/* part is followed by another header.
            in_header_ = message_part_;
            block_lines_ = 0;
            field_bytes_ = 0;
            message_part_ = false;
            return {};
        }
        const bool continuation = text.front() == ' ' || text.front() == '\t';
        field_bytes_ = continuation ? field_bytes_ + text.size() : text.size();
        if (!continuation && declares_message_part(text)) message_part_ = true;
        if (++block_lines_ > limits_.lines_per_block) {
            return make_error("more than " + std::to_string(limits_.lines_per_block) + " lines in one header");
        }
        if (++total_lines_ > limits_.lines_total) {
            return make_error("more than " + std::to_string(limits_.lines_total) + " header lines in the message");
        }
        if (field_bytes_ > limits_.field_bytes) {
            return make_error("a header field longer than " + std::to_string(limits_.field_bytes) + " bytes");
        }
        return {};
    }

private:
    void start_block() {
        in_header_ = true;
        block_lines_ = 0;
        field_bytes_ = 0;
        message_part_ = false;
    }

    const HeaderLimits& limits_;
    bool in_header_ = true;  // the message starts with its header
    bool message_part_ = false;
    std::size_t block_lines_ = 0;
    std::size_t total_lines_ = 0;
    std::size_t field_bytes_ = 0;
};

}  // namespace

Result<void> check_header_bounds(std::string_view message, const HeaderLimits& limits) {
    HeaderScanner scanner(limits);
    std::size_t start = 0;
    while (start < message.size()) {
        std::size_t end = message.find('\n', start);
        if (end == std::string_view::npos) end = message.size();
        std::string_view text = message.substr(start, end - start);
        if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
        if (auto ok = scanner.line(text); !ok) return ok;
        start = end + 1;
    }
    return {};
}

std::string_view top_header_block(std::string_view message) {
    std::size_t start = 0;
    while (start < message.size()) {
        const std::size_t end = message.find('\n', start);
        if (end == std::string_view::npos) return message;
        const std::string_view text = message.substr(start, end - start);
        if (text.empty() || text == "\r") return message.substr(0, start);
        start = end + 1;
    }
    return message;
}

}  // namespace tenantmail::bounce
