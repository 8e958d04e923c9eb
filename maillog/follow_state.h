// follow_state.h — where the follower stands in the log, and the decisions
// that depend only on file identities and sizes: where to resume after a
// restart, and what to do at the end of the file (read on, start over after
// a truncation, move on to the file that replaced it after a rotation).
// The state file is a few "key value" lines, written by the program with
// write + rename after the outcomes of every line before the offset are in
// Redis. Pure: the program stats the files and hashes the head bytes.
//
//   tenantmail-maillog-state 1
//   file /var/log/postfix.log
//   device 2049
//   inode 1310734
//   offset 48213
//   head 1024 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
//
// head: SHA-256 of the file's first N bytes (N = min(offset, 1024)), so a
// new file that happens to get the old inode number is not taken for the old.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace tenantmail::maillog {

inline constexpr std::uint64_t kHeadBytes = 1024;

struct FileIdentity {
    std::uint64_t device = 0;
    std::uint64_t inode = 0;
    bool operator==(const FileIdentity&) const = default;
};

struct FollowState {
    std::string file;            // the configured path when saved
    FileIdentity identity;
    std::uint64_t offset = 0;    // first byte not yet processed
    std::uint64_t head_length = 0;
    std::string head_sha256;     // lower-case hex, 64 digits
    bool operator==(const FollowState&) const = default;
};

std::string encode_state(const FollowState& state);
Result<FollowState> decode_state(std::string_view text);

// How many head bytes to hash for a given offset.
inline std::uint64_t head_length_for(std::uint64_t offset) { return offset < kHeadBytes ? offset : kHeadBytes; }

// What is at a path (or at an open descriptor) right now.
struct FileFacts {
    FileIdentity identity;
    std::uint64_t size = 0;
};

enum class Resume {
    at_offset,          // same file, not shorter, same head: continue
    from_start,         // no usable state: read the whole file
    truncated,          // same file, now shorter than the offset: from the start
    replaced,           // same inode but other content (inode reused): from the start
    rotated,            // another file is at the path now: finish the old one first, if found
};

// saved: the state file's content, if any (its file must be the configured
// path); at_path: what is at the path; head_matches: whether the first
// saved.head_length bytes of that file hash to saved.head_sha256.
Resume decide_resume(const std::optional<FollowState>& saved, std::string_view path, const FileFacts& at_path,
                     bool head_matches);

enum class AtEof {
    read_on,    // nothing changed: wait and read again
    truncated,  // the open file shrank below what was read: from the start
    rotated,    // another file with data is at the path: drain the open one, switch
};

// open: the file being read, read_offset: bytes read from it so far,
// at_path: what is at the path now (nullopt: nothing, e.g. renamed away and
// not yet recreated). A new file that is still empty is not switched to yet:
// the writer (postlogd, rsyslog) may still be appending to the old one
// until it reopens, and only once the new file has data is the old final.
AtEof decide_at_eof(const FileFacts& open, std::uint64_t read_offset, const std::optional<FileFacts>& at_path);

}  // namespace tenantmail::maillog
