// maillog_follow_state_test.cpp — the state file's encoding, and the
// decisions on resuming after a restart and at the end of the file
// (truncation, rotation, a new file that is still empty).
#include "maillog/follow_state.h"

#include <gtest/gtest.h>

namespace tenantmail::maillog {
namespace {

FollowState sample() {
    FollowState state;
    state.file = "/var/log/postfix.log";
    state.identity = {2049, 1310734};
    state.offset = 48213;
    state.head_length = 1024;
    state.head_sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    return state;
}

TEST(MaillogFollowState, EncodesAsDocumentedAndDecodesBack) {
    const std::string text = encode_state(sample());
    EXPECT_EQ(text,
              "tenantmail-maillog-state 1\nfile /var/log/postfix.log\ndevice 2049\ninode 1310734\noffset 48213\n"
              "head 1024 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n");
    const auto decoded = decode_state(text);
    ASSERT_TRUE(decoded.ok()) << decoded.error();
    EXPECT_EQ(*decoded, sample());
}

TEST(MaillogFollowState, SmallOffsetsHashOnlyWhatWasRead) {
    EXPECT_EQ(head_length_for(0), 0u);
    EXPECT_EQ(head_length_for(100), 100u);
    EXPECT_EQ(head_length_for(1024), 1024u);
    EXPECT_EQ(head_length_for(1u << 30), 1024u);
    FollowState state = sample();
    state.offset = 100;
    state.head_length = 100;
    EXPECT_TRUE(decode_state(encode_state(state)).ok());
    state.head_length = 1024;  // inconsistent with the offset
    EXPECT_FALSE(decode_state(encode_state(state)).ok());
}

TEST(MaillogFollowState, BrokenStateFilesAreRefused) {
    const std::string good = encode_state(sample());
    for (const std::string& text : {
             std::string(),
             std::string("garbage\n"),
             std::string("tenantmail-maillog-state 2\n") + good.substr(good.find('\n') + 1),
             good.substr(0, good.find("offset")),                      // missing offset and head
             std::string(good).replace(good.find("48213"), 5, "-1"),   // negative
             std::string(good).replace(good.find("48213"), 5, "4x"),   // not a number
             std::string(good).replace(good.find("2049"), 4, "99999999999999999999999"),  // overflow
             std::string(good).replace(good.find("9f86"), 4, "9F86"),  // upper-case hex
             std::string(good).replace(good.find("9f86"), 2, ""),      // short hash
             good + "colour blue\n",                                   // unknown key
             good + "inode\n",                                         // no value
             std::string(9000, 'x'),
         }) {
        EXPECT_FALSE(decode_state(text).ok()) << text;
    }
}

TEST(MaillogFollowState, ResumeAtTheSavedOffsetOnlyInTheSameUnchangedFile) {
    const FollowState saved = sample();
    const FileFacts same{saved.identity, 50000};
    EXPECT_EQ(decide_resume(saved, saved.file, same, true), Resume::at_offset);
    EXPECT_EQ(decide_resume(saved, saved.file, FileFacts{saved.identity, saved.offset}, true), Resume::at_offset);
    EXPECT_EQ(decide_resume(std::nullopt, saved.file, same, true), Resume::from_start);
    EXPECT_EQ(decide_resume(saved, "/var/log/mail.log", same, true), Resume::from_start);
    EXPECT_EQ(decide_resume(saved, saved.file, FileFacts{saved.identity, 100}, true), Resume::truncated);
    EXPECT_EQ(decide_resume(saved, saved.file, same, false), Resume::replaced);
    EXPECT_EQ(decide_resume(saved, saved.file, FileFacts{{2049, 99}, 50000}, true), Resume::rotated);
    EXPECT_EQ(decide_resume(saved, saved.file, FileFacts{{2050, saved.identity.inode}, 50000}, true),
              Resume::rotated);
}

TEST(MaillogFollowState, AtEndOfFileReadOnUntilANewFileHasData) {
    const FileFacts open{{1, 10}, 5000};
    EXPECT_EQ(decide_at_eof(open, 5000, open), AtEof::read_on);
    // The path was renamed away and not yet recreated.
    EXPECT_EQ(decide_at_eof(open, 5000, std::nullopt), AtEof::read_on);
    // A new, still empty file: the writer may still append to the old one.
    EXPECT_EQ(decide_at_eof(open, 5000, FileFacts{{1, 11}, 0}), AtEof::read_on);
    EXPECT_EQ(decide_at_eof(open, 5000, FileFacts{{1, 11}, 120}), AtEof::rotated);
}

TEST(MaillogFollowState, ShrunkFileIsTruncatedEvenIfRotatedToo) {
    EXPECT_EQ(decide_at_eof(FileFacts{{1, 10}, 0}, 5000, FileFacts{{1, 10}, 0}), AtEof::truncated);
    EXPECT_EQ(decide_at_eof(FileFacts{{1, 10}, 100}, 5000, FileFacts{{1, 10}, 100}), AtEof::truncated);
    EXPECT_EQ(decide_at_eof(FileFacts{{1, 10}, 0}, 5000, FileFacts{{1, 11}, 10}), AtEof::truncated);
}

}  // namespace
}  // namespace tenantmail::maillog
