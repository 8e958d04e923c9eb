// follow_state.cpp — see follow_state.h.
#include "maillog/follow_state.h"

#include <charconv>

namespace tenantmail::maillog {
namespace {

constexpr std::string_view kMagic = "tenantmail-maillog-state 1";

bool parse_u64(std::string_view text, std::uint64_t& out) {
    if (text.empty() || text.size() > 20) return false;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size();
}

bool is_hex64(std::string_view text) {
    if (text.size() != 64) return false;
    for (const char c : text) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

}  // namespace

std::string encode_state(const FollowState& state) {
    std::string out(kMagic);
    out += "\nfile " + state.file;
    out += "\ndevice " + std::to_string(state.identity.device);
    out += "\ninode " + std::to_string(state.identity.inode);
    out += "\noffset " + std::to_string(state.offset);
    out += "\nhead " + std::to_string(state.head_length) + " " + state.head_sha256 + "\n";
    return out;
}

Result<FollowState> decode_state(std::string_view text) {
    if (text.size() > 8192) return make_error("state file too large");
    FollowState state;
    bool seen[5] = {false, false, false, false, false};
    bool magic = false;
    std::size_t line_number = 0;
    while (!text.empty()) {
        const std::size_t end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
        ++line_number;
        if (line_number == 1) {
            if (line != kMagic) return make_error("not a tenantmail-maillog state file (version 1)");
            magic = true;
            continue;
        }
        if (line.empty()) continue;
        const std::size_t space = line.find(' ');
        if (space == std::string_view::npos) return make_error("line " + std::to_string(line_number) + ": no value");
        const std::string_view key = line.substr(0, space);
        const std::string_view value = line.substr(space + 1);
        const auto bad = [&] {
            return make_error("line " + std::to_string(line_number) + ": bad " + std::string(key));
        };
        if (key == "file") {
            if (value.empty()) return bad();
            state.file = std::string(value);
            seen[0] = true;
        } else if (key == "device") {
            if (!parse_u64(value, state.identity.device)) return bad();
            seen[1] = true;
        } else if (key == "inode") {
            if (!parse_u64(value, state.identity.inode)) return bad();
            seen[2] = true;
        } else if (key == "offset") {
            if (!parse_u64(value, state.offset)) return bad();
            seen[3] = true;
        } else if (key == "head") {
            const std::size_t split = value.find(' ');
            if (split == std::string_view::npos || !parse_u64(value.substr(0, split), state.head_length) ||
                !is_hex64(value.substr(split + 1)))
                return bad();
            state.head_sha256 = std::string(value.substr(split + 1));
            seen[4] = true;
        } else {
            return make_error("line " + std::to_string(line_number) + ": unknown key \"" + std::string(key) + "\"");
        }
    }
    if (!magic) return make_error("empty state file");
    for (const bool s : seen) {
        if (!s) return make_error("state file lacks file, device, inode, offset or head");
    }
    if (state.head_length != head_length_for(state.offset)) return make_error("head length does not match the offset");
    return state;
}

Resume decide_resume(const std::optional<FollowState>& saved, std::string_view path, const FileFacts& at_path,
                     bool head_matches) {
    if (!saved || saved->file != path) return Resume::from_start;
    if (saved->identity != at_path.identity) return Resume::rotated;
    if (at_path.size < saved->offset) return Resume::truncated;
    if (!head_matches) return Resume::replaced;
    return Resume::at_offset;
}

AtEof decide_at_eof(const FileFacts& open, std::uint64_t read_offset, const std::optional<FileFacts>& at_path) {
    if (open.size < read_offset) return AtEof::truncated;
    if (at_path && at_path->identity != open.identity && at_path->size > 0) return AtEof::rotated;
    return AtEof::read_on;
}

}  // namespace tenantmail::maillog
