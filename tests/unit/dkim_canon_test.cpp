// dkim_canon_test.cpp — RFC 6376 3.4 canonicalisation: the RFC's own
// example, each rule on its own, and chunk-boundary independence of the
// streaming body canonicaliser.
#include "common/dkim_canon.h"

#include <random>

#include <gtest/gtest.h>

namespace tenantmail {
namespace {

HeaderField field(std::string_view raw) {
    auto parsed = parse_header_field(raw);
    EXPECT_TRUE(parsed.ok()) << parsed.error();
    return parsed.ok() ? *parsed : HeaderField{};
}

struct StringSink final : BodySink {
    std::string text;
    void write(std::string_view bytes) override { text.append(bytes); }
};

std::string canonical_body_in_chunks(Canon canon, std::string_view body, const std::vector<std::size_t>& cuts) {
    StringSink sink;
    BodyCanonicalizer canonicalizer(canon);
    std::size_t at = 0;
    for (std::size_t cut : cuts) {
        canonicalizer.update(body.substr(at, cut - at), sink);
        at = cut;
    }
    canonicalizer.update(body.substr(at), sink);
    canonicalizer.finish(sink);
    return sink.text;
}

// RFC 6376 section 3.4.5, "Canonicalization Examples".
const char rfc_headers[][32] = {"A: X", "B : Y\t\r\n\tZ  "};
const char rfc_body[] = " C \r\nD \t E\r\n\r\n\r\n";

TEST(Rfc6376Example, RelaxedHeaders) {
    EXPECT_EQ(canonical_header(Canon::relaxed, field(rfc_headers[0])), "a:X\r\n");
    EXPECT_EQ(canonical_header(Canon::relaxed, field(rfc_headers[1])), "b:Y Z\r\n");
}

TEST(Rfc6376Example, RelaxedBody) { EXPECT_EQ(canonical_body(Canon::relaxed, rfc_body), " C\r\nD E\r\n"); }

TEST(Rfc6376Example, SimpleHeaders) {
    EXPECT_EQ(canonical_header(Canon::simple, field(rfc_headers[0])), "A: X\r\n");
    EXPECT_EQ(canonical_header(Canon::simple, field(rfc_headers[1])), "B : Y\t\r\n\tZ  \r\n");
}

TEST(Rfc6376Example, SimpleBody) { EXPECT_EQ(canonical_body(Canon::simple, rfc_body), " C \r\nD \t E\r\n"); }

TEST(CanonHeader, SimpleTurnsBareLfFoldingIntoCrlf) {
    EXPECT_EQ(canonical_header(Canon::simple, field("Subject: a\n\tb")), "Subject: a\r\n\tb\r\n");
}

TEST(CanonHeader, RelaxedUnfoldsBareLfAndCompressesAcrossTheFold) {
    EXPECT_EQ(canonical_header(Canon::relaxed, field("Subject: a \n\t b")), "subject:a b\r\n");
    EXPECT_EQ(canonical_header(Canon::relaxed, field("Subject:a\r\n b")), "subject:a b\r\n");
}

TEST(CanonHeader, RelaxedEmptyAndWhitespaceOnlyValues) {
    EXPECT_EQ(canonical_header(Canon::relaxed, field("X-Empty:")), "x-empty:\r\n");
    EXPECT_EQ(canonical_header(Canon::relaxed, field("X-Blank: \t \r\n ")), "x-blank:\r\n");
}

TEST(CanonHeader, RelaxedKeepsValueCaseAndBareCr) {
    EXPECT_EQ(canonical_header(Canon::relaxed, field("SUBJECT: MiXeD\rCase")), "subject:MiXeD\rCase\r\n");
}

TEST(CanonBody, SimpleEmptyBodyIsOneCrlf) {
    EXPECT_EQ(canonical_body(Canon::simple, ""), "\r\n");
    EXPECT_EQ(canonical_body(Canon::simple, "\r\n\r\n\r\n"), "\r\n");
}

TEST(CanonBody, RelaxedEmptyBodyIsEmpty) {
    EXPECT_EQ(canonical_body(Canon::relaxed, ""), "");
    EXPECT_EQ(canonical_body(Canon::relaxed, "\r\n\r\n"), "");
    EXPECT_EQ(canonical_body(Canon::relaxed, " \t\r\n  \r\n"), "");
}

// RFC 6376 3.4.4 ignores whitespace at the end of lines, and only then adds
// the CRLF a body lacks; an unterminated last line keeps one SP (dkimpy reads
// it the same way). SMTP bodies always end in CRLF, so this is rare.
TEST(CanonBody, RelaxedUnterminatedLastLineKeepsItsTrailingSpace) {
    EXPECT_EQ(canonical_body(Canon::relaxed, "abc \t "), "abc \r\n");
    EXPECT_EQ(canonical_body(Canon::relaxed, "a\r\n\r\n\t"), "a\r\n\r\n \r\n");
    EXPECT_EQ(canonical_body(Canon::relaxed, "  "), " \r\n");
}

TEST(CanonBody, MissingFinalCrlfIsAdded) {
    EXPECT_EQ(canonical_body(Canon::simple, "abc"), "abc\r\n");
    EXPECT_EQ(canonical_body(Canon::relaxed, "abc"), "abc\r\n");
}

TEST(CanonBody, TrailingEmptyLinesAreRemovedButInnerOnesKept) {
    EXPECT_EQ(canonical_body(Canon::simple, "a\r\n\r\nb\r\n\r\n\r\n"), "a\r\n\r\nb\r\n");
    EXPECT_EQ(canonical_body(Canon::relaxed, "a\r\n\r\nb\r\n\r\n\r\n"), "a\r\n\r\nb\r\n");
}

TEST(CanonBody, SimpleKeepsWhitespaceOnlyLinesAtTheEnd) {
    EXPECT_EQ(canonical_body(Canon::simple, "a\r\n \r\n\r\n"), "a\r\n \r\n");
}

TEST(CanonBody, RelaxedTreatsWhitespaceOnlyLinesAsEmpty) {
    EXPECT_EQ(canonical_body(Canon::relaxed, "a\r\n \t \r\n\r\nb\r\n  \r\n"), "a\r\n\r\n\r\nb\r\n");
}

TEST(CanonBody, RelaxedKeepsLeadingWhitespaceAsOneSpace) {
    EXPECT_EQ(canonical_body(Canon::relaxed, "\t\t indented\r\n"), " indented\r\n");
}

TEST(CanonBody, BareLfIsALineEndAndBareCrIsContent) {
    EXPECT_EQ(canonical_body(Canon::simple, "a\nb\n\n"), "a\r\nb\r\n");
    EXPECT_EQ(canonical_body(Canon::relaxed, "a \nb\n"), "a\r\nb\r\n");
    EXPECT_EQ(canonical_body(Canon::simple, "a\rb\r\n"), "a\rb\r\n");
    EXPECT_EQ(canonical_body(Canon::relaxed, "a \rb\r\n"), "a \rb\r\n");
    EXPECT_EQ(canonical_body(Canon::relaxed, "a\r\r\n"), "a\r\r\n");
    EXPECT_EQ(canonical_body(Canon::simple, "\r"), "\r\r\n");
}

TEST(CanonBody, ManyTrailingEmptyLinesCostNoMemoryAndVanish) {
    const std::string body = "x\r\n" + std::string(1 << 20, '\n') + "y";
    const std::string out = canonical_body(Canon::relaxed, body);
    EXPECT_EQ(out.size(), 3u + 2u * (1u << 20) + 3u);
    EXPECT_EQ(canonical_body(Canon::relaxed, "x\r\n" + std::string(1 << 20, '\n')), "x\r\n");
}

// Inputs that exercise every held-back state at every possible cut.
const std::vector<std::string>& tricky_bodies() {
    static const std::vector<std::string> bodies = {
        "",
        "\r\n",
        "abc",
        " C \r\nD \t E\r\n\r\n\r\n",
        "line one\r\nline  two \t\r\n\r\n  \r\n\tthree\r\n\r\n",
        "bare\nlf\n\n  \nend  ",
        "cr\ralone\r\r\n\r",
        "a  b\t\tc \t d\r\n \r\n\t\r\n",
        "x\r\n\r\n\r\n\r\ny \r\n \r\n",
        std::string(40, ' ') + "long   run" + std::string(33, '\t') + "\r\n" + std::string(50, 'z') + "\r\n",
    };
    return bodies;
}

TEST(CanonBody, EveryTwoWayCutGivesTheWholeBufferResult) {
    for (const Canon canon : {Canon::simple, Canon::relaxed}) {
        for (const std::string& body : tricky_bodies()) {
            const std::string whole = canonical_body(canon, body);
            for (std::size_t cut = 0; cut <= body.size(); ++cut) {
                ASSERT_EQ(canonical_body_in_chunks(canon, body, {cut}), whole)
                    << canon_name(canon) << " cut at " << cut << " of '" << body << "'";
            }
        }
    }
}

TEST(CanonBody, OneByteChunksGiveTheWholeBufferResult) {
    for (const Canon canon : {Canon::simple, Canon::relaxed}) {
        for (const std::string& body : tricky_bodies()) {
            std::vector<std::size_t> cuts;
            for (std::size_t i = 1; i < body.size(); ++i) cuts.push_back(i);
            EXPECT_EQ(canonical_body_in_chunks(canon, body, cuts), canonical_body(canon, body)) << canon_name(canon);
        }
    }
}

// A straightforward, non-streaming statement of RFC 6376 3.4.3/3.4.4 to
// check the state machine against on random input.
std::string reference_body(Canon canon, std::string_view body) {
    std::vector<std::string> lines;
    std::string line;
    bool open = false;  // a last line without a line end
    for (std::size_t i = 0; i < body.size(); ++i) {
        if (body[i] == '\n' || (body[i] == '\r' && i + 1 < body.size() && body[i + 1] == '\n')) {
            if (body[i] == '\r') ++i;
            lines.push_back(line);
            line.clear();
            open = false;
        } else {
            line += body[i];
            open = true;
        }
    }
    if (open) lines.push_back(line);
    if (canon == Canon::relaxed) {
        for (std::size_t i = 0; i < lines.size(); ++i) {
            std::string out;
            bool space = false;
            for (char c : lines[i]) {
                if (c == ' ' || c == '\t') {
                    space = true;
                    continue;
                }
                if (space) out += ' ';
                space = false;
                out += c;
            }
            // Whitespace at the end of a line goes, but an unterminated last
            // line is not a line yet: its run stays as one SP.
            if (space && open && i + 1 == lines.size()) out += ' ';
            lines[i] = out;
        }
    }
    while (!lines.empty() && lines.back().empty()) lines.pop_back();
    std::string out;
    for (const std::string& l : lines) out += l + "\r\n";
    if (canon == Canon::simple && out.empty()) out = "\r\n";
    return out;
}

TEST(CanonBody, StreamingMatchesReferenceOnRandomBodies) {
    std::mt19937 rng(6376);
    const char alphabet[] = {'a', 'b', ' ', ' ', '\t', '\r', '\n', '\n', 'x', '.'};
    for (int round = 0; round < 3000; ++round) {
        std::string body(rng() % 64, '\0');
        for (char& c : body) c = alphabet[rng() % sizeof alphabet];
        for (const Canon canon : {Canon::simple, Canon::relaxed}) {
            std::vector<std::size_t> cuts;
            for (std::size_t at = 0; body.size() > 0 && (at += 1 + rng() % 9) < body.size();) cuts.push_back(at);
            ASSERT_EQ(canonical_body_in_chunks(canon, body, cuts), reference_body(canon, body))
                << canon_name(canon) << " body of " << body.size() << " bytes, round " << round;
        }
    }
}

// Long bodies take the vectorised paths (whole 64-byte windows need 128
// bytes of chunk); mail-like pieces make every window kind appear, with
// windows decided by bit arithmetic next to ones the state machine handles.
TEST(CanonBody, LongBodiesMatchReferenceWholeAndInChunks) {
    std::mt19937 rng(2024);
    const std::vector<std::string> pieces = {"word",  "longerword", " ",    " ",   "  ",   "\t",   " \t ", "\r\n",
                                             "\r\n", "\r\n",       "\n",   "\r",  " \r\n", "\t\r\n", "\r\n\r\n",
                                             "   \r\n", "=3D",     "\xc3\xa9", std::string(70, 'x'), std::string(20, ' ')};
    for (int round = 0; round < 400; ++round) {
        std::string body;
        const std::size_t size = 100 + rng() % 3000;
        while (body.size() < size) body += pieces[rng() % pieces.size()];
        for (const Canon canon : {Canon::simple, Canon::relaxed}) {
            const std::string expected = reference_body(canon, body);
            ASSERT_EQ(canonical_body(canon, body), expected) << canon_name(canon) << " round " << round;
            std::vector<std::size_t> cuts;
            const std::size_t max_chunk = 1 + rng() % 700;
            for (std::size_t at = 0; (at += 1 + rng() % max_chunk) < body.size();) cuts.push_back(at);
            ASSERT_EQ(canonical_body_in_chunks(canon, body, cuts), expected) << canon_name(canon) << " round " << round;
        }
    }
}

// Every cut position of a body that has a window boundary inside a CRLF, a
// whitespace run, a line-start run and a whitespace-only line.
TEST(CanonBody, WindowBoundariesInsideLineEndsAndRunsDoNotChangeTheResult) {
    for (std::size_t shift = 0; shift < 70; ++shift) {
        const std::string body = std::string(shift, 'a') + " \t " + std::string(60, 'b') + "\r\n" +
                                 std::string(62, 'c') + "    \r\n   d  e\t\r\n \t \r\n" + std::string(130, 'f') +
                                 "\r\n\r\n  \r\n";
        const std::string expected = reference_body(Canon::relaxed, body);
        ASSERT_EQ(canonical_body(Canon::relaxed, body), expected) << "shift " << shift;
        for (std::size_t cut = 0; cut <= body.size(); cut += 7) {
            ASSERT_EQ(canonical_body_in_chunks(Canon::relaxed, body, {cut}), expected) << "shift " << shift << " cut " << cut;
        }
    }
}

// Whitespace-only lines are empty lines: at the end of a body they vanish,
// however long they are and wherever windows and chunks cut them.
TEST(CanonBody, LongWhitespaceOnlyLinesAtTheEndVanish) {
    for (std::size_t shift = 0; shift < 70; shift += 3) {
        for (const std::string& tail : {std::string(100, ' ') + "\r\n", std::string(200, '\t') + "\r\n \r\n",
                                        [] {
                                            std::string t;
                                            for (int i = 0; i < 40; ++i) t += "  \t \r\n";
                                            return t;
                                        }()}) {
            const std::string body = std::string(shift, 'a') + "\r\n" + tail;
            const std::string expected = shift == 0 ? "" : std::string(shift, 'a') + "\r\n";
            ASSERT_EQ(reference_body(Canon::relaxed, body), expected);
            ASSERT_EQ(canonical_body(Canon::relaxed, body), expected) << "shift " << shift;
            for (std::size_t cut = 0; cut <= body.size(); cut += 5) {
                ASSERT_EQ(canonical_body_in_chunks(Canon::relaxed, body, {cut}), expected)
                    << "shift " << shift << " cut " << cut;
            }
        }
    }
}

}  // namespace
}  // namespace tenantmail
