// log_follower.h — reads Postfix's log file as it grows, line by line, and
// keeps the file offset of the first line not yet processed. Follows
// rotation (a new file at the path: finish the old one, then read the new
// one from its start), truncation in place (read again from the start) and
// a file that does not exist yet (wait for it); resumes from a saved state.
// The decisions are follow_state.h's; this is the I/O around them. Never
// blocks beyond one read(); logs what it does to the file (rotation,
// truncation, waiting), never the lines themselves.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/unique_fd.h"
#include "maillog/follow_state.h"
#include "maillog/line_buffer.h"

namespace tenantmail::maillog {

class LogFollower {
public:
    LogFollower(std::string path, std::size_t max_line);

    // Where to start when the file is first opened.
    void resume_from(std::optional<FollowState> saved) { saved_ = std::move(saved); }

    enum class Poll {
        progress,  // lines may be ready (front()), or something changed: poll again
        idle,      // at the end of the file, nothing new: wait before polling again
        no_file,   // the file does not exist (yet): wait
    };
    // Opens the file, or reads one chunk, or at the end of the file deals
    // with truncation and rotation. Lines already buffered are handed out
    // first: poll() reads nothing while front() has a line.
    Poll poll();

    std::optional<BufferedLine> front() { return buffer_.front(); }
    // The front line is processed: the offset moves past it.
    void pop();

    // For the state file: the open file and the offset of the first line not
    // yet processed; nullopt while no file is open.
    std::optional<FollowState> state();

    const std::string& path() const { return path_; }
    std::uint64_t offset() const { return processed_offset_; }
    // Bytes of the open file past offset() (0 with no file open).
    std::uint64_t unprocessed() const;

private:
    bool open_path();
    bool open_rotated_predecessor(const FollowState& saved);
    void start_over();
    void switch_to_path();
    std::optional<std::string> head_hash(int fd, std::uint64_t length);

    std::string path_;
    LineBuffer buffer_;
    std::optional<FollowState> saved_;
    UniqueFd fd_;
    FileIdentity identity_;
    std::uint64_t read_offset_ = 0;       // bytes of the open file read so far
    std::uint64_t processed_offset_ = 0;  // bytes of the open file fully processed
    bool draining_ = false;               // rotated: read the old file to its end, then switch
    bool opened_before_ = false;          // later opens follow a rotation, which says so itself
    bool waiting_logged_ = false;
    int open_error_logged_ = 0;
    // SHA-256 of the open file's first kHeadBytes, once it has that many.
    std::string full_head_hash_;
};

}  // namespace tenantmail::maillog
