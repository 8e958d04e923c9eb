// line_buffer.h — splits the bytes read from a log file into lines, with a
// byte count for each so the reader always knows the file offset of the
// first line not yet processed. A line longer than the limit is not kept:
// its bytes are counted and dropped as they arrive, and it comes out as one
// "overlong" entry, so memory stays bounded by the limit plus one read.
// Pure; each byte is scanned once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tenantmail::maillog {

struct BufferedLine {
    std::string_view text;   // without the newline; empty when overlong
    std::uint64_t bytes = 0; // what the line occupies in the file, newline included
    bool overlong = false;
};

class LineBuffer {
public:
    explicit LineBuffer(std::size_t max_line) : max_line_(max_line) {}

    void append(std::string_view data);
    // The next complete line, if any; stays the front until pop(). The view
    // is valid until the next append(), pop() or clear().
    std::optional<BufferedLine> front();
    void pop();
    // The end of a file that will not grow any more: an unterminated last
    // line becomes a complete one. False when nothing was pending.
    bool finish();
    void clear();

    // Bytes held or being dropped that no complete line accounts for yet.
    std::uint64_t pending_bytes() const { return (buffer_.size() - start_) + dropped_; }

private:
    std::size_t max_line_;
    std::string buffer_;
    std::size_t start_ = 0;          // first byte of the front line in buffer_
    std::size_t scanned_ = 0;        // bytes of buffer_ searched for '\n' so far
    std::uint64_t dropped_ = 0;      // bytes of an overlong line already dropped
    bool dropping_ = false;
    std::optional<std::size_t> newline_;  // position of the front line's '\n' in buffer_
    bool finished_ = false;          // finish(): the rest of buffer_ is a line
};

}  // namespace tenantmail::maillog
