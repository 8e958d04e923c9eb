// log_follower.cpp — see log_follower.h.
#include "maillog/log_follower.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <vector>

#include "common/log.h"

namespace tenantmail::maillog {
namespace {

constexpr std::size_t kReadChunk = 64 * 1024;

FileFacts facts_of(const struct stat& st) {
    FileFacts facts;
    facts.identity.device = static_cast<std::uint64_t>(st.st_dev);
    facts.identity.inode = static_cast<std::uint64_t>(st.st_ino);
    facts.size = static_cast<std::uint64_t>(st.st_size);
    return facts;
}

std::optional<FileFacts> stat_path(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return std::nullopt;
    return facts_of(st);
}

std::optional<FileFacts> stat_fd(int fd) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return std::nullopt;
    return facts_of(st);
}

unsigned long long ull(std::uint64_t value) { return static_cast<unsigned long long>(value); }

// Opens a regular file for reading. O_NONBLOCK so a FIFO at the path cannot
// hang us; it is refused below anyway.
UniqueFd open_regular(const std::string& path, int& error) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (fd.get() < 0) {
        error = errno;
        return fd;
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
        error = EINVAL;
        return UniqueFd();
    }
    error = 0;
    return fd;
}

}  // namespace

LogFollower::LogFollower(std::string path, std::size_t max_line) : path_(std::move(path)), buffer_(max_line) {}

std::optional<std::string> LogFollower::head_hash(int fd, std::uint64_t length) {
    std::vector<unsigned char> head(static_cast<std::size_t>(length));
    std::size_t got = 0;
    while (got < head.size()) {
        const ssize_t n = ::pread(fd, head.data() + got, head.size() - got, static_cast<off_t>(got));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return std::nullopt;
        got += static_cast<std::size_t>(n);
    }
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int digest_length = 0;
    if (EVP_Digest(head.data(), head.size(), digest.data(), &digest_length, EVP_sha256(), nullptr) != 1)
        return std::nullopt;
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    for (unsigned int i = 0; i < digest_length; ++i) {
        hex.push_back(kHex[digest[i] >> 4]);
        hex.push_back(kHex[digest[i] & 0xf]);
    }
    return hex;
}

// The previous file of a rotation done while we were stopped, under the
// names logrotate (path.1, or path.0) gives it before compressing it.
bool LogFollower::open_rotated_predecessor(const FollowState& saved) {
    for (const char* suffix : {".1", ".0"}) {
        const std::string candidate = path_ + suffix;
        int error = 0;
        UniqueFd fd = open_regular(candidate, error);
        if (fd.get() < 0) continue;
        const auto facts = stat_fd(fd.get());
        if (!facts || facts->identity != saved.identity || facts->size < saved.offset) continue;
        const auto hash = head_hash(fd.get(), saved.head_length);
        if (!hash || *hash != saved.head_sha256) continue;
        LOG_INFO("%s was rotated while stopped: finishing %s from offset %llu first", path_.c_str(),
                 candidate.c_str(), ull(saved.offset));
        fd_ = std::move(fd);
        identity_ = facts->identity;
        read_offset_ = processed_offset_ = saved.offset;
        draining_ = true;
        opened_before_ = true;
        full_head_hash_.clear();
        return true;
    }
    return false;
}

bool LogFollower::open_path() {
    int error = 0;
    UniqueFd fd = open_regular(path_, error);
    if (fd.get() < 0) {
        if (error == ENOENT) {
            if (!waiting_logged_) LOG_INFO("waiting for %s to appear", path_.c_str());
            waiting_logged_ = true;
        } else if (open_error_logged_ != error) {
            LOG_ERROR("cannot read %s: %s; trying again", path_.c_str(),
                      error == EINVAL ? "not a regular file" : std::strerror(error));
            open_error_logged_ = error;
        }
        return false;
    }
    waiting_logged_ = false;
    open_error_logged_ = 0;
    const auto facts = stat_fd(fd.get());
    if (!facts) return false;

    std::optional<FollowState> saved = std::move(saved_);
    saved_.reset();
    std::uint64_t start = 0;
    if (saved) {
        const bool head_matches =
            facts->size >= saved->head_length && head_hash(fd.get(), saved->head_length) == saved->head_sha256;
        switch (decide_resume(saved, path_, *facts, head_matches)) {
            case Resume::at_offset:
                start = saved->offset;
                LOG_INFO("resuming %s at offset %llu", path_.c_str(), ull(start));
                break;
            case Resume::from_start:
                LOG_INFO("the state file is for %s: reading %s from the start", saved->file.c_str(), path_.c_str());
                break;
            case Resume::truncated:
                LOG_WARNING("%s is shorter (%llu bytes) than where reading stopped (%llu): reading it from the start",
                            path_.c_str(), ull(facts->size), ull(saved->offset));
                break;
            case Resume::replaced:
                LOG_WARNING("%s is not the file reading stopped in (its first bytes differ): reading it from the start",
                            path_.c_str());
                break;
            case Resume::rotated:
                if (open_rotated_predecessor(*saved)) return true;
                LOG_WARNING("%s was rotated while stopped and the previous file (inode %llu) is not at %s.1 or %s.0: "
                            "its lines after offset %llu were not read; reading the new file from the start",
                            path_.c_str(), ull(saved->identity.inode), path_.c_str(), path_.c_str(),
                            ull(saved->offset));
                break;
        }
    } else if (!opened_before_) {
        LOG_INFO("reading %s from the start", path_.c_str());
    }
    opened_before_ = true;
    fd_ = std::move(fd);
    identity_ = facts->identity;
    read_offset_ = processed_offset_ = start;
    draining_ = false;
    full_head_hash_.clear();
    buffer_.clear();
    return true;
}

void LogFollower::start_over() {
    buffer_.clear();
    read_offset_ = processed_offset_ = 0;
    full_head_hash_.clear();
}

void LogFollower::switch_to_path() {
    LOG_INFO("finished the previous %s at offset %llu; reading the new one from the start", path_.c_str(),
             ull(processed_offset_));
    fd_.reset();
    buffer_.clear();
    draining_ = false;
    read_offset_ = processed_offset_ = 0;
    open_path();
}

LogFollower::Poll LogFollower::poll() {
    if (fd_.get() < 0) return open_path() ? Poll::progress : Poll::no_file;
    if (buffer_.front()) return Poll::progress;

    std::array<char, kReadChunk> chunk{};
    const ssize_t n = ::pread(fd_.get(), chunk.data(), chunk.size(), static_cast<off_t>(read_offset_));
    if (n > 0) {
        buffer_.append(std::string_view(chunk.data(), static_cast<std::size_t>(n)));
        read_offset_ += static_cast<std::uint64_t>(n);
        return Poll::progress;
    }
    if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) return Poll::progress;
        LOG_ERROR("cannot read %s: %s", path_.c_str(), std::strerror(errno));
        return Poll::idle;
    }

    // End of the file.
    if (draining_) {
        if (buffer_.finish()) return Poll::progress;  // its unterminated last line
        switch_to_path();
        return Poll::progress;
    }
    const auto open = stat_fd(fd_.get());
    if (!open) return Poll::idle;
    switch (decide_at_eof(*open, read_offset_, stat_path(path_))) {
        case AtEof::read_on:
            return Poll::idle;
        case AtEof::truncated:
            LOG_WARNING("%s was truncated (now %llu bytes, %llu were read): reading it from the start", path_.c_str(),
                        ull(open->size), ull(read_offset_));
            start_over();
            return Poll::progress;
        case AtEof::rotated:
            // Read the old file once more to its end before switching: the
            // writer may have added to it after our last read and before it
            // moved to the new file.
            LOG_INFO("%s was rotated: finishing the previous file", path_.c_str());
            draining_ = true;
            return Poll::progress;
    }
    return Poll::idle;
}

void LogFollower::pop() {
    const auto line = buffer_.front();
    if (!line) return;
    processed_offset_ += line->bytes;
    buffer_.pop();
}

std::optional<FollowState> LogFollower::state() {
    if (fd_.get() < 0) return std::nullopt;
    FollowState state;
    state.file = path_;
    state.identity = identity_;
    state.offset = processed_offset_;
    state.head_length = head_length_for(processed_offset_);
    if (state.head_length == kHeadBytes && !full_head_hash_.empty()) {
        state.head_sha256 = full_head_hash_;
    } else {
        auto hash = head_hash(fd_.get(), state.head_length);
        if (!hash) return std::nullopt;
        state.head_sha256 = *hash;
        if (state.head_length == kHeadBytes) full_head_hash_ = *hash;
    }
    return state;
}

std::uint64_t LogFollower::unprocessed() const {
    struct stat st{};
    if (fd_.get() < 0 || ::fstat(fd_.get(), &st) != 0) return 0;
    const auto size = static_cast<std::uint64_t>(st.st_size);
    return size > processed_offset_ ? size - processed_offset_ : 0;
}

}  // namespace tenantmail::maillog
