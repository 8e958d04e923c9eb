// maillog_line_buffer_test.cpp — LineBuffer: lines split across reads, the
// byte count behind every offset, over-long lines dropped as they arrive,
// and the unterminated last line of a finished file.
#include "maillog/line_buffer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tenantmail::maillog {
namespace {

// Everything complete in the buffer: (text or "<overlong>", bytes).
std::vector<std::pair<std::string, std::uint64_t>> drain(LineBuffer& buffer) {
    std::vector<std::pair<std::string, std::uint64_t>> lines;
    while (const auto line = buffer.front()) {
        lines.emplace_back(line->overlong ? "<overlong>" : std::string(line->text), line->bytes);
        buffer.pop();
    }
    return lines;
}

using Lines = std::vector<std::pair<std::string, std::uint64_t>>;

TEST(MaillogLineBuffer, SplitsLinesAndCountsTheirBytesWithNewline) {
    LineBuffer buffer(100);
    buffer.append("one\ntwo\n\nthree\r\n");
    EXPECT_EQ(drain(buffer), (Lines{{"one", 4}, {"two", 4}, {"", 1}, {"three\r", 7}}));
    EXPECT_EQ(buffer.pending_bytes(), 0u);
}

TEST(MaillogLineBuffer, LineSplitAcrossReadsComesOutOnceComplete) {
    LineBuffer buffer(100);
    buffer.append("hel");
    EXPECT_FALSE(buffer.front());
    buffer.append("lo wor");
    EXPECT_FALSE(buffer.front());
    EXPECT_EQ(buffer.pending_bytes(), 9u);
    buffer.append("ld\nnext");
    EXPECT_EQ(drain(buffer), (Lines{{"hello world", 12}}));
    EXPECT_EQ(buffer.pending_bytes(), 4u);
    buffer.append("\n");
    EXPECT_EQ(drain(buffer), (Lines{{"next", 5}}));
}

TEST(MaillogLineBuffer, OffsetsAddUpWhateverTheChunking) {
    std::string text;
    for (int i = 0; i < 500; ++i)
        text += "line " + std::to_string(i) + std::string(static_cast<std::size_t>(i % 37), 'x') + "\n";
    for (const std::size_t chunk : {1u, 2u, 7u, 64u, 4096u}) {
        LineBuffer buffer(1000);
        std::uint64_t total = 0;
        std::size_t count = 0;
        for (std::size_t at = 0; at < text.size(); at += chunk) {
            buffer.append(std::string_view(text).substr(at, chunk));
            for (const auto& [line, bytes] : drain(buffer)) {
                EXPECT_EQ(line, text.substr(total, bytes - 1));
                total += bytes;
                ++count;
            }
        }
        EXPECT_EQ(total, text.size()) << chunk;
        EXPECT_EQ(count, 500u) << chunk;
    }
}

TEST(MaillogLineBuffer, OverlongLineIsDroppedAsItArrivesAndCountedExactly) {
    LineBuffer buffer(16);
    buffer.append("short\n");
    EXPECT_EQ(drain(buffer), (Lines{{"short", 6}}));
    for (int i = 0; i < 1000; ++i) {
        buffer.append(std::string(1000, 'x'));
        EXPECT_FALSE(buffer.front());
    }
    // Memory stays bounded: nothing of the long line is kept.
    buffer.append("yyy\nafter\n");
    EXPECT_EQ(drain(buffer), (Lines{{"<overlong>", 1000 * 1000 + 4}, {"after", 6}}));
}

TEST(MaillogLineBuffer, LongLineArrivingInOneReadIsOverlongToo) {
    LineBuffer buffer(16);
    buffer.append(std::string(17, 'a') + "\n" + std::string(16, 'b') + "\n");
    EXPECT_EQ(drain(buffer), (Lines{{"<overlong>", 18}, {std::string(16, 'b'), 17}}));
}

TEST(MaillogLineBuffer, FinishTurnsTheUnterminatedTailIntoALine) {
    LineBuffer buffer(100);
    EXPECT_FALSE(buffer.finish());
    buffer.append("complete\npartial");
    EXPECT_TRUE(buffer.finish());
    EXPECT_EQ(drain(buffer), (Lines{{"complete", 9}, {"partial", 7}}));
    EXPECT_FALSE(buffer.finish());
    // After it, the buffer works as new.
    buffer.append("a");
    EXPECT_FALSE(buffer.front());
    buffer.append("\n");
    EXPECT_EQ(drain(buffer), (Lines{{"a", 2}}));
}

TEST(MaillogLineBuffer, FinishDuringAnOverlongLineCountsWhatWasDropped) {
    LineBuffer buffer(4);
    buffer.append("abcdefgh");
    EXPECT_FALSE(buffer.front());
    EXPECT_TRUE(buffer.finish());
    EXPECT_EQ(drain(buffer), (Lines{{"<overlong>", 8}}));
}

TEST(MaillogLineBuffer, ClearForgetsEverything) {
    LineBuffer buffer(4);
    buffer.append("abcdefgh");
    EXPECT_FALSE(buffer.front());
    buffer.clear();
    EXPECT_EQ(buffer.pending_bytes(), 0u);
    buffer.append("ok\n");
    EXPECT_EQ(drain(buffer), (Lines{{"ok", 3}}));
}

}  // namespace
}  // namespace tenantmail::maillog
