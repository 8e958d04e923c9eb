// policy_protocol.cpp — incremental parser for Postfix policy requests.
// Lines are parsed as soon as they are complete and never rescanned, so a
// request that arrives one byte at a time costs the same as one that
// arrives whole.
#include "policyd/policy_protocol.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace tenantmail::policyd {

namespace {

bool name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.';
}

// What of a bad line to show in the log: printable ASCII only, short.
std::string excerpt(std::string_view line) {
    std::string out;
    for (const char c : line.substr(0, 40)) out += (c >= 0x20 && c <= 0x7e) ? c : '?';
    if (line.size() > 40) out += "...";
    return out;
}

}  // namespace

void PolicyRequest::clear() {
    request.clear();
    protocol_state.clear();
    sasl_username.clear();
    client_address.clear();
    client_port.clear();
    server_address.clear();
    recipient.clear();
    queue_id.clear();
    instance.clear();
    attributes = 0;
}

PolicyParser::PolicyParser(PolicyLimits limits) : limits_(limits) {}

std::span<char> PolicyParser::writable(std::size_t min_free) {
    if (begin_ == end_) begin_ = scan_ = end_ = 0;  // all consumed: start over at the front
    if (capacity_ - end_ < min_free && begin_ > 0) {
        std::memmove(buffer_.get(), buffer_.get() + begin_, end_ - begin_);
        scan_ -= begin_;
        end_ -= begin_;
        begin_ = 0;
    }
    if (capacity_ - end_ < min_free) {
        // Doubling, but not past what one request of the largest size and
        // one read need: a partial request never exceeds max_request_size.
        const std::size_t ceiling = std::max(end_, limits_.max_request_size) + min_free;
        const std::size_t capacity = std::max(std::min(capacity_ * 2, ceiling), end_ + min_free);
        auto bigger = std::make_unique<char[]>(capacity);
        if (end_ > 0) std::memcpy(bigger.get(), buffer_.get(), end_);
        buffer_ = std::move(bigger);
        capacity_ = capacity;
    }
    return {buffer_.get() + end_, capacity_ - end_};
}

void PolicyParser::commit(std::size_t count) { end_ += std::min(count, capacity_ - end_); }

void PolicyParser::feed(std::string_view data) {
    const std::span<char> space = writable(data.size());
    std::memcpy(space.data(), data.data(), data.size());
    commit(data.size());
}

PolicyParser::Status PolicyParser::fail(std::string reason) {
    failed_ = true;
    error_ = std::move(reason);
    return Status::error;
}

PolicyParser::Status PolicyParser::parse() {
    if (failed_) return Status::error;
    if (!in_request_) {
        request_.clear();
        in_request_ = true;
    }
    const char* data = buffer_.get();
    for (;;) {
        const void* newline = scan_ < end_ ? std::memchr(data + scan_, '\n', end_ - scan_) : nullptr;
        const std::size_t line_end =
            newline != nullptr ? static_cast<std::size_t>(static_cast<const char*>(newline) - data) : end_;
        // Checked before waiting for more, so a client cannot make us buffer
        // an endless line.
        const std::size_t request_size = (newline != nullptr ? line_end + 1 : end_) - begin_;
        if (request_size > limits_.max_request_size) {
            return fail("request larger than " + std::to_string(limits_.max_request_size) + " bytes");
        }
        if (newline == nullptr) return Status::need_more;
        std::string_view line(data + scan_, line_end - scan_);
        scan_ = line_end + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // tolerate CRLF from hand-typed tests
        if (line.empty()) {
            if (request_.attributes == 0) return fail("empty request (an empty line without attributes before it)");
            begin_ = scan_;
            in_request_ = false;
            return Status::ready;
        }
        if (!take_line(line)) return Status::error;
    }
}

bool PolicyParser::take_line(std::string_view line) {
    for (const char c : line) {
        const auto byte = static_cast<unsigned char>(c);
        if ((byte < 0x20 && c != '\t') || byte == 0x7f) {
            char reason[64];
            std::snprintf(reason, sizeof reason, "control byte 0x%02x in a request line", byte);
            fail(reason);
            return false;
        }
    }
    const std::size_t equals = line.find('=');
    if (equals == std::string_view::npos) {
        fail("line without '=': \"" + excerpt(line) + "\"");
        return false;
    }
    const std::string_view name = line.substr(0, equals);
    if (name.empty() || !std::all_of(name.begin(), name.end(), name_char)) {
        fail("invalid attribute name: \"" + excerpt(line) + "\"");
        return false;
    }
    if (++request_.attributes > limits_.max_attributes) {
        fail("more than " + std::to_string(limits_.max_attributes) + " attributes in one request");
        return false;
    }
    const std::string_view value = line.substr(equals + 1);
    // Postfix sends each attribute once; should one repeat, the last wins.
    switch (name.front()) {
        case 'r':
            if (name == "request") request_.request.assign(value);
            else if (name == "recipient") request_.recipient.assign(value);
            break;
        case 'p':
            if (name == "protocol_state") request_.protocol_state.assign(value);
            break;
        case 's':
            if (name == "sasl_username") request_.sasl_username.assign(value);
            else if (name == "server_address") request_.server_address.assign(value);
            break;
        case 'c':
            if (name == "client_address") request_.client_address.assign(value);
            else if (name == "client_port") request_.client_port.assign(value);
            break;
        case 'q':
            if (name == "queue_id") request_.queue_id.assign(value);
            break;
        case 'i':
            if (name == "instance") request_.instance.assign(value);
            break;
        default:
            break;
    }
    return true;
}

bool PolicyParser::finish() {
    if (failed_) return false;
    if (end_ > begin_) {
        error_ = "connection closed in the middle of a request (" + std::to_string(end_ - begin_) +
                 " bytes without the final empty line)";
        return false;
    }
    return true;
}

void append_reply(std::string& out, std::string_view action) {
    out.append("action=").append(action).append("\n\n");
}

}  // namespace tenantmail::policyd
