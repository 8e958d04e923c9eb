// dkim_canon.cpp — header and streaming body canonicalisation (RFC 6376 3.4).
// The body path is the hot loop of signing: it passes runs of input through
// untouched and only drops to a byte-at-a-time state machine where the
// canonical form differs from the input.
#include "common/dkim_canon.h"

#include <algorithm>

#if defined(__SSE2__)
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
//            is removed (so a whitespace-only line is an empty line); an
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
// The byte-at-a-time step() is the definition. fast_forward() is the speed:
// when nothing is owed, input runs whose canonical form is themselves (text,
// single spaces between words, CRLF after content) are passed to the sink as
// whole spans, found with 16-byte SSE2 compares where available; relaxed
// whitespace runs whose fate is visible in the chunk are settled by cutting
// spans. It stops at the first byte that needs the state machine (an empty
// line, a bare CR or LF, anything undecidable before the next chunk) and
// hands it to step().

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

// Bits of a 16-bit block mask at offsets from `from` on.
inline unsigned bits_from(std::ptrdiff_t from) { return from >= 16 ? 0u : from <= 0 ? 0xffffu : 0xffffu << from; }

// Calls settle(s) for each special byte s in [p, end) in order, skipping
// bytes before the position each call returns; stops at the first special
// byte settle() returns nullptr for, and returns it (or end). prev stands for
// the byte before p. Blocks are scanned at a fixed stride whatever settle()
// does, so finding the next special byte never waits for the last one to be
// handled (a re-scan from each stop costs a dependent reload every time).
template <bool relaxed, class Settle>
inline const char* for_each_special(const char* p, const char* end, char prev, Settle&& settle) {
    const char* resume = p + 1;
    if (is_special<relaxed>(prev, p, end)) {
        resume = settle(p);
        if (resume == nullptr) return p;
    }
    const char* q = p + 1;  // from here on q[-1] is inside the chunk
#if defined(__SSE2__)
    for (; end - q >= 17; q += 16) {
        unsigned mask = special_mask<relaxed>(q);
        if (mask == 0) continue;
        mask &= bits_from(resume - q);
        while (mask != 0) {
            const char* s = q + __builtin_ctz(mask);
            resume = settle(s);
            if (resume == nullptr) return s;
            mask &= bits_from(resume - q);
        }
    }
#endif
    for (q = std::max(q, resume); q < end; ++q) {
        if (q >= resume && is_special<relaxed>(q[-1], q, end)) {
            resume = settle(q);
            if (resume == nullptr) return q;
        }
    }
    return end;
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

// Enough CRLFs to pay a large count of pending empty lines in few writes.
constexpr std::string_view crlf_block =
    "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"
    "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n";

}  // namespace

void BodyCanonicalizer::update(std::string_view chunk, BodySink& sink) {
    const char* p = chunk.data();
    const char* const end = p + chunk.size();
    while (p < end) {
        if (idle()) {
            p = fast_forward(p, end, sink);
            if (p == end) break;
        }
        step(*p++, sink);
    }
}

// Handles as much input from p as can be decided without looking past the
// chunk, writing whole spans: runs that canonicalise to themselves (lines
// and their CRLFs included) go out as they are, relaxed whitespace runs
// inside a line become one SP by cutting the span, whitespace before a CRLF
// is cut out. Only called when nothing is owed, so no span needs a prefix.
// Returns where step() must take over (an empty line, a bare CR or LF,
// anything whose meaning depends on the next chunk), or end.
//
// Within the scan, whether the line so far has content is read off the byte
// before: every byte passed over on a line is content or a space that is
// followed by content, so only an LF before means "nothing yet". At p itself
// the state stands in for that byte.
const char* BodyCanonicalizer::fast_forward(const char* p, const char* end, BodySink& sink) {
    const char* span = p;  // start of the verbatim span not yet written
    auto line_has_content_before = [&](const char* at) { return at == p ? line_has_content_ : at[-1] != '\n'; };
    auto write_span = [&](const char* to) {
        if (to != span) {
            sink.write(std::string_view(span, static_cast<std::size_t>(to - span)));
            emitted_any_ = true;
        }
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
            sink.write(" ");  // an inner run starting with a tab
            emitted_any_ = true;
        }
        span = run_end;
        return run_end;
    };
    auto stop_here = [](const char*) -> const char* { return nullptr; };
    const char prev = line_has_content_ ? 'x' : '\n';
    const char* stop = canon_ == Canon::relaxed ? for_each_special<true>(p, end, prev, settle)
                                                : for_each_special<false>(p, end, prev, stop_here);
    write_span(stop);
    line_has_content_ = line_has_content_before(stop);
    return stop;
}

void BodyCanonicalizer::step(char c, BodySink& sink) {
    if (pending_cr_) {
        pending_cr_ = false;
        if (c == '\n') {
            end_line(sink);
            return;
        }
        content_byte('\r', sink);  // a bare CR is content; c is still to handle
    }
    if (c == '\r') {
        pending_cr_ = true;
    } else if (c == '\n') {
        end_line(sink);  // bare LF: a line end like CRLF
    } else if (canon_ == Canon::relaxed && is_wsp(c)) {
        pending_wsp_ = true;
    } else {
        content_byte(c, sink);
    }
}

void BodyCanonicalizer::content_byte(char c, BodySink& sink) {
    flush_blank_lines(sink);
    if (pending_wsp_) {
        sink.write(" ");
        pending_wsp_ = false;
    }
    sink.write(std::string_view(&c, 1));
    line_has_content_ = true;
    emitted_any_ = true;
}

void BodyCanonicalizer::end_line(BodySink& sink) {
    pending_wsp_ = false;  // whitespace at the end of a line is dropped
    if (line_has_content_) {
        sink.write("\r\n");
        line_has_content_ = false;
        emitted_any_ = true;
    } else {
        ++pending_blank_lines_;
    }
}

void BodyCanonicalizer::flush_blank_lines(BodySink& sink) {
    while (pending_blank_lines_ > 0) {
        const std::uint64_t lines = std::min<std::uint64_t>(pending_blank_lines_, crlf_block.size() / 2);
        sink.write(crlf_block.substr(0, static_cast<std::size_t>(lines) * 2));
        pending_blank_lines_ -= lines;
        emitted_any_ = true;
    }
}

void BodyCanonicalizer::finish(BodySink& sink) {
    if (pending_cr_) {
        pending_cr_ = false;
        content_byte('\r', sink);  // a CR as the very last byte is content
    }
    pending_wsp_ = false;
    pending_blank_lines_ = 0;  // trailing empty lines are dropped
    if (line_has_content_) {
        sink.write("\r\n");  // a last line without its CRLF gets one
        line_has_content_ = false;
    } else if (canon_ == Canon::simple && !emitted_any_) {
        sink.write("\r\n");  // simple: an empty body is one CRLF
    }
    emitted_any_ = true;
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
