// dkim_canon.cpp — header and streaming body canonicalisation (RFC 6376 3.4).
// The body path is the hot loop of signing: it passes runs of input through
// untouched and only drops to a byte-at-a-time state machine where the
// canonical form differs from the input. Longer than most files here because
// the vectorised fast paths must sit next to the state machine they mirror.
#include "common/dkim_canon.h"

#include <algorithm>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/text.h"

namespace tenantmail {

std::string_view canon_name(Canon canon) { return canon == Canon::simple ? "simple" : "relaxed"; }

// ---- header fields --------------------------------------------------------

namespace {

void append_simple_header(std::string_view raw, std::string& out) {
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '\n' && (i == 0 || raw[i - 1] != '\r')) out += '\r';
        out += raw[i];
    }
    out += "\r\n";
}

void append_relaxed_header(const HeaderField& field, std::string& out) {
    for (const char c : field.name()) out += ascii_lower(c);
    out += ':';
    const std::string_view value = field.value();
    bool any = false;    // leading whitespace after the colon is dropped
    bool space = false;  // a whitespace run is owed as one SP before more content
    for (std::size_t i = 0; i < value.size(); ++i) {
        const char c = value[i];
        // Unfolding removes the line breaks only; the whitespace that follows
        // them joins the run around it.
        if (c == '\n') continue;
        if (c == '\r' && i + 1 < value.size() && value[i + 1] == '\n') continue;
        if (is_wsp(c)) {
            space = any;
            continue;
        }
        if (space) out += ' ';
        space = false;
        out += c;
        any = true;
    }
    out += "\r\n";
}

}  // namespace

void append_canonical_header(Canon canon, const HeaderField& field, std::string& out) {
    if (canon == Canon::simple) {
        append_simple_header(field.raw, out);
    } else {
        append_relaxed_header(field, out);
    }
}

std::string canonical_header(Canon canon, const HeaderField& field) {
    std::string out;
    out.reserve(field.raw.size() + 2);
    append_canonical_header(canon, field, out);
    return out;
}

// ---- body -----------------------------------------------------------------
//
// The body canonicalisations rewrite only a few things, and all of them are
// about line ends and whitespace:
//
//   both     trailing empty lines are removed; a last line without CRLF gets
//            one; bare LF counts as a line end (written CRLF), bare CR is an
//            ordinary content byte.
//   simple   an empty body becomes a single CRLF.
//   relaxed  a run of spaces/tabs becomes one SP; a run at the end of a line
//            is removed (so a whitespace-only line is an empty line; an
//            unterminated last line is not a line yet and keeps its SP); an
//            empty body stays empty.
//
// None of these can be decided byte by byte when the deciding byte is still
// to come, possibly in the next chunk. So the machine holds back exactly the
// undecided things, as state, not as copies:
//
//   pending_cr_           a CR was the last byte. If LF follows, it was a line
//                         end; otherwise it was content, emitted before the
//                         next byte.
//   pending_wsp_          (relaxed) a whitespace run has started. If content
//                         follows on the same line, one SP is emitted first;
//                         if the line ends, the run is dropped.
//   pending_blank_lines_  empty lines seen since the last content. If content
//                         follows, that many CRLFs are emitted first; at the
//                         end of the body they are dropped. A count, so a body
//                         of a million empty lines costs nothing to hold.
//   line_has_content_     whether the current line emitted anything; a line
//                         end after content is emitted at once as CRLF, a
//                         line end on an empty line becomes a pending one.
//
// A content byte "pays" what is owed (pending CRLFs, then the pending SP) and
// is emitted; finish() emits the final CRLF for an unterminated last line and
// drops everything else that is owed. Because every decision waits for the
// byte that settles it, and the state carries over between update() calls,
// the output is the same however the body is cut into chunks.
//
// The byte-at-a-time step() is the definition; the rest is speed, used only
// when nothing is owed (idle()) and always handing back to step() at the
// first byte whose meaning needs the state above (an empty line, a bare CR
// or LF, anything undecidable before the next chunk):
//
//   scan_general()   passes input runs whose canonical form is themselves
//                    (text, single spaces between words, CRLF after content)
//                    to the sink as whole spans, finding the bytes that need
//                    a look with SSE2 compares, and settles relaxed
//                    whitespace runs whose fate is visible by cutting spans.
//   run_windows()    relaxed on AVX2 machines: decides 64 bytes at a time with
//                    bit arithmetic and no data-dependent branches (see
//                    there); windows it cannot decide go to scan_general().
//
// Mispredicted branches, not arithmetic, are what a canonicaliser pays for
// on real text (a stop per trailing or double space); the tiers exist to
// keep relaxed close to the SHA-256 that follows it. Every tier must give
// step()'s output exactly: the tests compare long random bodies, cut into
// random chunks, against a plain restatement of the RFC rules.

namespace {

bool is_wsp_or_line_end(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Whether the byte at q needs more than being copied, given the byte before
// it (prev) and the chunk end. Copyable: content bytes, a CRLF that ends a
// line with content, and for relaxed a single space before content. Special:
//   CR   not followed by LF (bare, or the follower is in the next chunk), or
//        starting an empty line (prev is LF)
//   LF   not preceded by CR (bare LF)
//   TAB  always (relaxed: becomes SP or disappears)
//   SP   followed by SP, TAB, CR, LF or the chunk end (relaxed: a run or a
//        trailing space)
template <bool relaxed>
inline __attribute__((always_inline)) bool is_special(char prev, const char* q, const char* end) {
    const char c = *q;
    const bool has_next = q + 1 < end;
    if (c == '\r') return !has_next || q[1] != '\n' || prev == '\n';
    if (c == '\n') return prev != '\r';
    if constexpr (relaxed) {
        if (c == '\t') return true;
        if (c == ' ') return !has_next || is_wsp_or_line_end(q[1]);
    }
    return false;
}

#if defined(__SSE2__)
// Bit i set when q[i] is special, for i in 0..15: is_special() on 16 bytes
// at once, with the neighbours loaded shifted by one each way. Reads q[-1]
// .. q[16].
template <bool relaxed>
inline unsigned special_mask(const char* q) {
    const __m128i cr = _mm_set1_epi8('\r');
    const __m128i lf = _mm_set1_epi8('\n');
    const __m128i before = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q - 1));
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
    const __m128i after = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + 1));
    const __m128i is_cr = _mm_cmpeq_epi8(v, cr);
    const __m128i after_lf = _mm_cmpeq_epi8(after, lf);
    __m128i special =
        _mm_or_si128(_mm_andnot_si128(after_lf, is_cr), _mm_and_si128(is_cr, _mm_cmpeq_epi8(before, lf)));
    special = _mm_or_si128(special, _mm_andnot_si128(_mm_cmpeq_epi8(before, cr), _mm_cmpeq_epi8(v, lf)));
    if constexpr (relaxed) {
        const __m128i sp = _mm_set1_epi8(' ');
        const __m128i tab = _mm_set1_epi8('\t');
        const __m128i after_blank = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(after, sp), _mm_cmpeq_epi8(after, tab)),
                                                 _mm_or_si128(_mm_cmpeq_epi8(after, cr), after_lf));
        special = _mm_or_si128(special, _mm_cmpeq_epi8(v, tab));
        special = _mm_or_si128(special, _mm_and_si128(_mm_cmpeq_epi8(v, sp), after_blank));
    }
    return static_cast<unsigned>(_mm_movemask_epi8(special));
}
#endif

// Bits of a block mask at offsets from `from` on, for blocks of 16 or 64.
inline unsigned bits_from(std::ptrdiff_t from) { return from >= 16 ? 0u : from <= 0 ? 0xffffu : 0xffffu << from; }
inline std::uint64_t bits64_from(std::ptrdiff_t from) {
    return from >= 64 ? 0u : from <= 0 ? ~std::uint64_t{0} : ~std::uint64_t{0} << from;
}

struct ScanResult {
    const char* at;
    bool needs_step;  // at is a special byte step() must handle
};

// Calls settle(s) for each special byte s in [p, limit) in order, skipping
// bytes before the position each call returns (settle may look up to end);
// stops at the first special byte settle() returns nullptr for. prev stands
// for the byte before p. Returns that byte, or where scanning got to.
//
// The cost on text is branch mispredictions, not arithmetic: whether a block
// holds a special byte, and how many, is as random as the text. So the scan
// goes in 64-byte windows at a fixed stride, whatever settle() does (no
// re-scan that waits on the last stop), and walks a window's special bytes
// as bits of one mask: about one misprediction per window with stops
// instead of one or two per special byte.
template <bool relaxed, class Settle>
inline ScanResult for_each_special(const char* p, const char* end, const char* limit, char prev, Settle&& settle) {
    const char* resume = p + 1;
    if (is_special<relaxed>(prev, p, end)) {
        resume = settle(p);
        if (resume == nullptr) return {p, true};
    }
    const char* q = p + 1;  // from here on q[-1] is inside the chunk
#if defined(__SSE2__)
    for (; limit - q >= 64 && end - q >= 65; q += 64) {
        std::uint64_t mask = special_mask<relaxed>(q) | std::uint64_t{special_mask<relaxed>(q + 16)} << 16 |
                             std::uint64_t{special_mask<relaxed>(q + 32)} << 32 |
                             std::uint64_t{special_mask<relaxed>(q + 48)} << 48;
        if (mask == 0) continue;
        mask &= bits64_from(resume - q);
        while (mask != 0) {
            const char* s = q + __builtin_ctzll(mask);
            resume = settle(s);
            if (resume == nullptr) return {s, true};
            mask &= bits64_from(resume - q);
        }
    }
    for (; limit - q >= 16 && end - q >= 17; q += 16) {
        unsigned mask = special_mask<relaxed>(q);
        if (mask == 0) continue;
        mask &= bits_from(resume - q);
        while (mask != 0) {
            const char* s = q + __builtin_ctz(mask);
            resume = settle(s);
            if (resume == nullptr) return {s, true};
            mask &= bits_from(resume - q);
        }
    }
#endif
    for (q = std::max(q, resume); q < limit; ++q) {
        if (q >= resume && is_special<relaxed>(q[-1], q, end)) {
            resume = settle(q);
            if (resume == nullptr) return {q, true};
        }
    }
    return {std::max(limit, resume), false};
}

// The end of the whitespace run starting at s (the first byte that is not a
// space or tab), or end. Runs are short; measuring one with a compare and a
// bit count instead of a byte loop saves a hard-to-predict branch per run.
inline const char* run_end_of(const char* s, const char* end) {
#if defined(__SSE2__)
    const __m128i sp = _mm_set1_epi8(' ');
    const __m128i tab = _mm_set1_epi8('\t');
    for (; end - s >= 16; s += 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
        const auto blank =
            static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, sp), _mm_cmpeq_epi8(v, tab))));
        if (blank != 0xffffu) return s + __builtin_ctz(~blank);
    }
#endif
    while (s < end && is_wsp(*s)) ++s;
    return s;
}

#if defined(__x86_64__)
// ---- relaxed: 64-byte windows without branches (AVX2) ----------------------
//
// On prose the scan above still mispredicts about once per line (trailing
// spaces, double spaces). This path decides whole 64-byte windows with bit
// arithmetic instead and compacts the kept bytes with byte shuffles, so a
// window costs the same whatever it holds. The trick that makes it local:
// a whitespace run may be reduced to ANY one of its bytes, so keep its last
// one, and whether the last one stays depends only on the byte after it
// (content: keep it as SP; CR/LF: the run is trailing, drop it). Windows
// with anything the state machine must see (bare CR or LF, an empty or
// whitespace-only line) are left to the general path.

struct Classes {
    std::uint64_t sp, tab, cr, lf;  // bit i: byte i of the window is that character
};

__attribute__((target("avx2"))) inline std::uint64_t equal_bits(__m256i a, __m256i b, char c) {
    const __m256i k = _mm256_set1_epi8(c);
    return std::uint64_t{static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, k)))} |
           std::uint64_t{static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, k)))} << 32;
}

__attribute__((target("avx2"))) inline Classes classify(const char* w) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 32));
    return {equal_bits(a, b, ' '), equal_bits(a, b, '\t'), equal_bits(a, b, '\r'), equal_bits(a, b, '\n')};
}

// For each 8-bit keep mask, the pshufb indices that move the kept bytes of
// an 8-byte group to its front (0x80: a zero byte, never counted).
struct CompactTable {
    std::array<std::array<std::uint8_t, 8>, 256> index{};
    constexpr CompactTable() {
        for (unsigned mask = 0; mask < 256; ++mask) {
            unsigned n = 0;
            for (unsigned i = 0; i < 8; ++i) {
                if ((mask >> i) & 1u) index[mask][n++] = static_cast<std::uint8_t>(i);
            }
            for (; n < 8; ++n) index[mask][n] = 0x80;
        }
    }
};
constexpr CompactTable compact_table;

// Writes the kept bytes of w[0, 64) to out, tabs as spaces; returns the new
// end of out. Writes up to 16 bytes past the result (scratch).
__attribute__((target("avx2,popcnt"))) inline char* compact_window(const char* w, std::uint64_t keep, char* out) {
    const __m128i tab = _mm_set1_epi8('\t');
    const __m128i tab_to_space = _mm_set1_epi8('\t' ^ ' ');
    const __m128i eight = _mm_set1_epi8(8);
    for (int lane = 0; lane < 4; ++lane) {
        __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 16 * lane));
        v = _mm_xor_si128(v, _mm_and_si128(_mm_cmpeq_epi8(v, tab), tab_to_space));
        const auto bits = static_cast<unsigned>(keep >> (16 * lane));
        const unsigned lo = bits & 0xffu;
        const unsigned hi = (bits >> 8) & 0xffu;
        const __m128i lo_index = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(compact_table.index[lo].data()));
        const __m128i hi_index = _mm_add_epi8(
            _mm_loadl_epi64(reinterpret_cast<const __m128i*>(compact_table.index[hi].data())), eight);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_shuffle_epi8(v, lo_index));
        out += __builtin_popcount(lo);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_shuffle_epi8(v, hi_index));
        out += __builtin_popcount(hi);
    }
    return out;
}

struct WindowState {
    const char* w;      // next window to decide
    const char* clean;  // start of input passed through unchanged, not yet emitted
    char* out;          // where compacted windows go
    char* out_end;      // out may advance while out_end - out >= 80
    bool prev_cr;       // the byte before w is CR
    bool prev_lf;       // ... is LF (or w starts a line)
    bool run_from_line_start;  // ... is whitespace that began a line
};

enum class WindowStop { general_path, emit_clean, buffer_full };

// Decides and writes windows while each is local and 128 bytes remain (the
// next window is the lookahead). Returns why it stopped.
__attribute__((target("avx2,popcnt"))) WindowStop relaxed_windows(WindowState& st, const char* end) {
    if (end - st.w < 128) return WindowStop::general_path;
    Classes cur = classify(st.w);
    for (; end - st.w >= 128; st.w += 64) {
        const Classes next = classify(st.w + 64);
        const std::uint64_t blank = cur.sp | cur.tab;
        const std::uint64_t blank_or_eol = blank | cur.cr | cur.lf;
        const std::uint64_t next_blank_or_eol = next.sp | next.tab | next.cr | next.lf;
        const std::uint64_t after_blank_or_eol = (blank_or_eol >> 1) | (next_blank_or_eol << 63);
        const std::uint64_t after_lf = (cur.lf >> 1) | (next.lf << 63);
        const std::uint64_t before_cr = (cur.cr << 1) | std::uint64_t{st.prev_cr};
        const std::uint64_t before_lf = (cur.lf << 1) | std::uint64_t{st.prev_lf};
        // Bare CR, bare LF and CRLF right after LF (an empty line).
        std::uint64_t general = (cur.cr & ~after_lf) | (cur.lf & ~before_cr) | (cur.cr & before_lf);
        // Whitespace-only lines: adding a run's first bit to the run carries
        // to the byte after it; for runs that start a line, that byte must
        // not be CR or LF. The carry out continues such a run in the next window.
        unsigned long long carried = 0;
        const unsigned char carry_out =
            _addcarry_u64(st.run_from_line_start, blank, blank & before_lf, &carried);
        general |= carried & ~blank & (cur.cr | cur.lf);
        if (general != 0) return WindowStop::general_path;

        const std::uint64_t drop = blank & after_blank_or_eol;
        if (drop != 0 || cur.tab != 0) {
            if (st.clean != st.w) return WindowStop::emit_clean;
            if (st.out_end - st.out < 80) return WindowStop::buffer_full;
            st.out = compact_window(st.w, ~drop, st.out);
            st.clean = st.w + 64;
        }
        st.prev_cr = (cur.cr >> 63) != 0;
        st.prev_lf = (cur.lf >> 63) != 0;
        st.run_from_line_start = carry_out != 0;
        cur = next;
    }
    return WindowStop::general_path;
}

bool has_avx2() {
    static const bool supported = [] {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
    }();
    return supported;
}
#endif

// Enough CRLFs to pay a large count of pending empty lines in few writes.
constexpr std::string_view crlf_block =
    "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"
    "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n";

}  // namespace

void BodyCanonicalizer::update(std::string_view chunk, BodySink& sink) {
    sink_ = &sink;
    const char* p = chunk.data();
    const char* const end = p + chunk.size();
    while (p < end) {
        if (idle()) {
            p = fast_forward(p, end);
            if (p == end) break;
        }
        step(*p++);
    }
    flush();
    sink_ = nullptr;
}

// Long runs go straight to the sink; short pieces (text between whitespace
// runs, single CRLFs) are batched, as one sink call per piece would cost more
// than the copy.
void BodyCanonicalizer::emit(std::string_view bytes) {
    emitted_any_ = true;
    if (bytes.size() >= 512) {
        flush();
        sink_->write(bytes);
        return;
    }
    if (buffered_ + bytes.size() > buffer_.size()) flush();
    std::memcpy(buffer_.data() + buffered_, bytes.data(), bytes.size());
    buffered_ += bytes.size();
}

void BodyCanonicalizer::flush() {
    if (buffered_ > 0) sink_->write(std::string_view(buffer_.data(), buffered_));
    buffered_ = 0;
}

// Handles as much input from p as can be decided without looking past the
// chunk; only called when nothing is owed. Relaxed on AVX2 goes window by
// window and lets scan_general() take each window the windows cannot decide;
// otherwise scan_general() runs to the chunk end. Returns where step() must
// take over (an empty line, a bare CR or LF, anything whose meaning depends
// on the next chunk, a whitespace run cut by a window edge), or end.
const char* BodyCanonicalizer::fast_forward(const char* p, const char* end) {
    while (true) {
        const char* limit = end;
#if defined(__x86_64__)
        if (canon_ == Canon::relaxed && end - p >= 128 && has_avx2()) {
            p = run_windows(p, end);
            if (!idle() || p == end) return p;
            limit = std::min(end, p + 64);  // the window the windows could not decide
        }
#endif
        bool needs_step = false;
        const char* at = scan_general(p, end, limit, needs_step);
        if (needs_step || at >= end || limit == end) return at;
        p = at;
    }
}

#if defined(__x86_64__)
// Runs relaxed_windows() from p (nothing owed) and leaves the state as the
// state machine would have it at the returned position.
const char* BodyCanonicalizer::run_windows(const char* p, const char* end) {
    WindowState st{p, p, buffer_.data() + buffered_, buffer_.data() + buffer_.size(), false, !line_has_content_, false};
    for (bool done = false; !done;) {
        switch (relaxed_windows(st, end)) {
            case WindowStop::emit_clean:
                buffered_ = static_cast<std::size_t>(st.out - buffer_.data());
                emit(std::string_view(st.clean, static_cast<std::size_t>(st.w - st.clean)));
                st.clean = st.w;
                st.out = buffer_.data() + buffered_;
                break;
            case WindowStop::buffer_full:
                buffered_ = static_cast<std::size_t>(st.out - buffer_.data());
                flush();
                st.out = buffer_.data();
                break;
            case WindowStop::general_path:
                done = true;
                break;
        }
    }
    buffered_ = static_cast<std::size_t>(st.out - buffer_.data());
    if (st.clean != st.w) emit(std::string_view(st.clean, static_cast<std::size_t>(st.w - st.clean)));
    const char* w = st.w;
    if (w == p) return p;
    emitted_any_ = true;
    // What the window rules left undecided at the boundary, as state.
    const char last = w[-1];
    if (last == '\r') {  // CRLF across the boundary: the CR went out, the LF follows
        emit("\n");
        line_has_content_ = false;
        return w + 1;
    }
    if (is_wsp(last) && is_wsp_or_line_end(*w)) {  // a run across the boundary was dropped so far
        pending_wsp_ = true;
        line_has_content_ = !st.run_from_line_start;
        return w;
    }
    line_has_content_ = last != '\n';
    return w;
}
#endif

// The general fast path from p up to limit (looking up to end if needed):
// passes runs that canonicalise to themselves through as spans and settles
// relaxed whitespace runs whose fate is visible in the chunk by cutting spans.
// Within the scan, whether the line so far has content is read off the byte
// before: every byte passed over on a line is content or a space that is
// followed by content, so only an LF before means "nothing yet". At p itself
// the state stands in for that byte.
const char* BodyCanonicalizer::scan_general(const char* p, const char* end, const char* limit, bool& needs_step) {
    const char* span = p;  // start of the verbatim span not yet written
    auto line_has_content_before = [&](const char* at) { return at == p ? line_has_content_ : at[-1] != '\n'; };
    auto write_span = [&](const char* to) {
        if (to != span) emit(std::string_view(span, static_cast<std::size_t>(to - span)));
    };
    // Settles the special byte at s if it is a relaxed whitespace run whose
    // fate is visible here; returns where scanning resumes, or nullptr when
    // step() must take over at s.
    auto settle = [&](const char* s) __attribute__((always_inline)) -> const char* {
        if (!is_wsp(*s)) return nullptr;
        const char* run_end = run_end_of(s, end);
        if (run_end == end) return nullptr;  // what follows the run is in the next chunk
        // Computed without branches where possible: which case a run is in
        // varies from run to run, and mispredictions are what cost here.
        const char after = *run_end;
        const bool trailing = (after == '\r') | (after == '\n');
        // A whitespace-only line is an empty line (step() counts those);
        // whitespace before a bare CR is not trailing (the CR is content).
        const bool bare_cr = after == '\r' && (run_end + 1 == end || run_end[1] != '\n');
        if (trailing & (!line_has_content_before(s) | bare_cr)) return nullptr;
        // Inner run: its first space stands for the run. Trailing: cut out.
        const bool space_first = *s == ' ';
        write_span(s + (!trailing & space_first));
        if (!trailing & !space_first) {
            emit(" ");  // an inner run starting with a tab
        }
        span = run_end;
        return run_end;
    };
    auto stop_here = [](const char*) -> const char* { return nullptr; };
    const char prev = line_has_content_ ? 'x' : '\n';
    ScanResult scan = canon_ == Canon::relaxed ? for_each_special<true>(p, end, limit, prev, settle)
                                               : for_each_special<false>(p, end, limit, prev, stop_here);
    // Never stop between the CR and LF of a verbatim CRLF: whoever goes on
    // from here would take the LF for a bare one.
    if (!scan.needs_step && scan.at > p && scan.at < end && scan.at[-1] == '\r' && *scan.at == '\n') ++scan.at;
    write_span(scan.at);
    line_has_content_ = line_has_content_before(scan.at);
    needs_step = scan.needs_step;
    return scan.at;
}

void BodyCanonicalizer::step(char c) {
    if (pending_cr_) {
        pending_cr_ = false;
        if (c == '\n') {
            end_line();
            return;
        }
        content_byte('\r');  // a bare CR is content; c is still to handle
    }
    if (c == '\r') {
        pending_cr_ = true;
    } else if (c == '\n') {
        end_line();  // bare LF: a line end like CRLF
    } else if (canon_ == Canon::relaxed && is_wsp(c)) {
        pending_wsp_ = true;
    } else {
        content_byte(c);
    }
}

void BodyCanonicalizer::content_byte(char c) {
    flush_blank_lines();
    if (pending_wsp_) {
        emit(" ");
        pending_wsp_ = false;
    }
    emit(std::string_view(&c, 1));
    line_has_content_ = true;
}

void BodyCanonicalizer::end_line() {
    pending_wsp_ = false;  // whitespace at the end of a line is dropped
    if (line_has_content_) {
        emit("\r\n");
        line_has_content_ = false;
    } else {
        ++pending_blank_lines_;
    }
}

void BodyCanonicalizer::flush_blank_lines() {
    while (pending_blank_lines_ > 0) {
        const std::uint64_t lines = std::min<std::uint64_t>(pending_blank_lines_, crlf_block.size() / 2);
        emit(crlf_block.substr(0, static_cast<std::size_t>(lines) * 2));
        pending_blank_lines_ -= lines;
    }
}

void BodyCanonicalizer::finish(BodySink& sink) {
    sink_ = &sink;
    if (pending_cr_) {
        pending_cr_ = false;
        content_byte('\r');  // a CR as the very last byte is content
    }
    if (pending_wsp_) {
        // An unterminated last line is not a line whose end whitespace is
        // ignored: RFC 6376 3.4.4 step (a) works on lines and only step (b)
        // adds their CRLF. One SP stays, as dkimpy and a plain reading agree.
        flush_blank_lines();
        emit(" ");
        pending_wsp_ = false;
        line_has_content_ = true;
    }
    pending_blank_lines_ = 0;  // trailing empty lines are dropped
    if (line_has_content_) {
        emit("\r\n");  // a last line without its CRLF gets one
        line_has_content_ = false;
    } else if (canon_ == Canon::simple && !emitted_any_) {
        emit("\r\n");  // simple: an empty body is one CRLF
    }
    emitted_any_ = true;
    flush();
    sink_ = nullptr;
}

std::string canonical_body(Canon canon, std::string_view body) {
    struct StringSink final : BodySink {
        std::string text;
        void write(std::string_view bytes) override { text.append(bytes); }
    } sink;
    BodyCanonicalizer canonicalizer(canon);
    canonicalizer.update(body, sink);
    canonicalizer.finish(sink);
    return std::move(sink.text);
}

}  // namespace tenantmail
