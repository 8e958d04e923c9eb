// dkim_canon.h — DKIM canonicalisation, simple and relaxed (RFC 6376 3.4).
// Header fields are canonicalised one at a time; the body is canonicalised
// as a stream fed in chunks of any size, and the output does not depend on
// where the chunks split. Pure: no I/O, no hashing (see body_hasher.h), no
// failure modes (every byte sequence has a canonical form).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/header_field.h"

namespace tenantmail {

enum class Canon { simple, relaxed };

// The name used in the c= tag: "simple" or "relaxed".
std::string_view canon_name(Canon canon);

// Appends the canonical form of one header field, ending in CRLF.
// simple: the field unchanged, except that bare LF line breaks become CRLF
// (a milter is handed LF-folded fields; the wire carries CRLF).
// relaxed: lowercase name, ':' , value unfolded with whitespace runs reduced
// to one space and whitespace at both ends of the value removed.
void append_canonical_header(Canon canon, const HeaderField& field, std::string& out);
std::string canonical_header(Canon canon, const HeaderField& field);

// Where canonical body bytes go. Called with runs of bytes, never per byte
// on the common path; the view is only valid during the call.
class BodySink {
public:
    virtual void write(std::string_view bytes) = 0;

protected:
    ~BodySink() = default;
};

// Streaming body canonicalisation; see the comment in dkim_canon.cpp for the
// state machine. Between calls it holds back only a possible CR, a pending
// whitespace flag and a count of pending empty lines, never body bytes.
// Within a call, short canonical pieces are gathered in a fixed 4 KB buffer
// and handed to the sink in batches (long runs go to it directly); all of a
// call's output reaches the sink before the call returns.
class BodyCanonicalizer {
public:
    explicit BodyCanonicalizer(Canon canon) : canon_(canon) {}

    void update(std::string_view chunk, BodySink& sink);
    // Emits what the end of the body decides (a final CRLF, or CRLF for an
    // empty simple body). Call once; the object is spent afterwards.
    void finish(BodySink& sink);

private:
    const char* fast_forward(const char* p, const char* end);
    const char* run_windows(const char* p, const char* end);
    const char* scan_general(const char* p, const char* end, const char* limit, bool& needs_step);
    void step(char c);
    void content_byte(char c);
    void end_line();
    void flush_blank_lines();
    bool idle() const { return !pending_cr_ && !pending_wsp_ && pending_blank_lines_ == 0; }
    void emit(std::string_view bytes);
    void flush();

    Canon canon_;
    bool pending_cr_ = false;         // last byte was CR; its meaning depends on the next
    bool pending_wsp_ = false;        // relaxed: whitespace seen, one SP owed if content follows
    bool line_has_content_ = false;   // current line has emitted content
    bool emitted_any_ = false;        // simple: distinguishes an empty body
    std::uint64_t pending_blank_lines_ = 0;  // empty lines owed if content follows

    BodySink* sink_ = nullptr;  // set only during update() and finish()
    std::size_t buffered_ = 0;
    std::array<char, 4096> buffer_{};
};

// Whole-buffer convenience (tests, small bodies).
std::string canonical_body(Canon canon, std::string_view body);

}  // namespace tenantmail
