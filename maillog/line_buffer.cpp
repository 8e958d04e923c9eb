// line_buffer.cpp — see line_buffer.h.
#include "maillog/line_buffer.h"

namespace tenantmail::maillog {

void LineBuffer::append(std::string_view data) {
    // Drop what was consumed once it is at least half the buffer, so the
    // copy costs no more than the bytes it saves.
    if (start_ > 0 && start_ * 2 >= buffer_.size()) {
        buffer_.erase(0, start_);
        scanned_ -= start_;
        if (newline_) *newline_ -= start_;
        start_ = 0;
    }
    buffer_.append(data);
}

std::optional<BufferedLine> LineBuffer::front() {
    bool terminated = true;
    if (!newline_) {
        const std::size_t pos = buffer_.find('\n', scanned_);
        if (pos != std::string::npos) {
            newline_ = pos;
            scanned_ = pos;
        } else if (finished_ && pending_bytes() > 0) {
            newline_ = buffer_.size();
            scanned_ = buffer_.size();
        } else {
            scanned_ = buffer_.size();
            if (buffer_.size() - start_ > max_line_) {
                // Too long to be a line we would read: count it, keep nothing.
                dropping_ = true;
                dropped_ += buffer_.size() - start_;
                buffer_.resize(start_);
                scanned_ = start_;
            }
            return std::nullopt;
        }
    }
    terminated = *newline_ < buffer_.size();
    const std::size_t length = *newline_ - start_;
    BufferedLine line;
    line.bytes = dropped_ + length + (terminated ? 1 : 0);
    if (dropping_ || length > max_line_) {
        line.overlong = true;
    } else {
        line.text = std::string_view(buffer_).substr(start_, length);
    }
    return line;
}

void LineBuffer::pop() {
    if (!newline_ && !front()) return;
    start_ = *newline_ < buffer_.size() ? *newline_ + 1 : buffer_.size();
    scanned_ = start_;
    newline_.reset();
    dropping_ = false;
    dropped_ = 0;
    if (start_ == buffer_.size()) {
        buffer_.clear();
        start_ = 0;
        scanned_ = 0;
        finished_ = false;
    }
}

bool LineBuffer::finish() {
    if (pending_bytes() == 0) return false;
    finished_ = true;
    return true;
}

void LineBuffer::clear() {
    buffer_.clear();
    start_ = 0;
    scanned_ = 0;
    dropped_ = 0;
    dropping_ = false;
    newline_.reset();
    finished_ = false;
}

}  // namespace tenantmail::maillog
