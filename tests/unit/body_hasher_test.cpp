// body_hasher_test.cpp — bh= values: the published empty-body hashes, the
// hash of the canonical bytes, and independence from chunk boundaries.
#include "common/body_hasher.h"

#include <random>

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "common/base64.h"

namespace tenantmail {
namespace {

std::string body_hash_b64(Canon canon, std::string_view body, const std::vector<std::size_t>& cuts = {}) {
    BodyHasher hasher(canon);
    std::size_t at = 0;
    for (std::size_t cut : cuts) {
        hasher.update(body.substr(at, cut - at));
        at = cut;
    }
    hasher.update(body.substr(at));
    auto digest = hasher.finish();
    EXPECT_TRUE(digest.ok()) << digest.error();
    return digest.ok() ? base64_encode(*digest) : std::string();
}

std::string plain_sha256_b64(std::string_view bytes) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EXPECT_EQ(EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr), 1);
    return base64_encode(std::string_view(reinterpret_cast<const char*>(digest), length));
}

TEST(BodyHasher, EmptyBodyHashesAreThePublishedOnes) {
    EXPECT_EQ(body_hash_b64(Canon::relaxed, ""), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    EXPECT_EQ(body_hash_b64(Canon::simple, ""), "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=");
    EXPECT_EQ(body_hash_b64(Canon::simple, "\r\n\r\n"), "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=");
}

TEST(BodyHasher, FinishTwiceIsAnError) {
    BodyHasher hasher(Canon::relaxed);
    ASSERT_TRUE(hasher.finish().ok());
    EXPECT_FALSE(hasher.finish().ok());
}

// Mail-like text: words with single and double spaces, tabs, trailing
// whitespace, whitespace-only lines, runs of empty lines, bare LF and bare CR,
// and long runs that take the hasher's direct (unstaged) path.
std::string random_body(std::mt19937& rng, std::size_t size) {
    static const char* pieces[] = {"word", " ", " ", "  ", "\t", " \t ", "\r\n", "\r\n", "\n",
                                   "\r",   "\r\n\r\n\r\n", "  \r\n", "\t\r\n", "=3D", "x"};
    std::string body;
    while (body.size() < size) {
        if (rng() % 50 == 0) body += std::string(600 + rng() % 2000, static_cast<char>('A' + rng() % 26));
        body += pieces[rng() % std::size(pieces)];
    }
    if (rng() % 2) body += "\r\n\r\n  \r\n";
    return body;
}

TEST(BodyHasher, RandomChunkSplitsGiveTheWholeBufferHash) {
    std::mt19937 rng(8463);
    for (int round = 0; round < 60; ++round) {
        const std::string body = random_body(rng, 1 + rng() % 20000);
        for (const Canon canon : {Canon::simple, Canon::relaxed}) {
            const std::string whole = body_hash_b64(canon, body);
            EXPECT_EQ(whole, plain_sha256_b64(canonical_body(canon, body)));
            for (int split = 0; split < 20; ++split) {
                std::vector<std::size_t> cuts;
                const std::size_t max_chunk = 1 + rng() % (split % 2 ? 8 : 5000);
                for (std::size_t at = 0; (at += 1 + rng() % max_chunk) < body.size();) cuts.push_back(at);
                ASSERT_EQ(body_hash_b64(canon, body, cuts), whole)
                    << canon_name(canon) << " round " << round << " split " << split;
            }
        }
    }
}

TEST(BodyHasher, CrlfAndWhitespaceSplitAcrossChunksHashAsWhole) {
    const std::string body = "a  \r\n\r\n \t\r\nb\r\n\r\n";
    for (const Canon canon : {Canon::simple, Canon::relaxed}) {
        const std::string whole = body_hash_b64(canon, body);
        for (std::size_t cut = 0; cut <= body.size(); ++cut) {
            EXPECT_EQ(body_hash_b64(canon, body, {cut}), whole) << canon_name(canon) << " cut " << cut;
        }
    }
}

TEST(BodyHasher, LargeBodyInMilterSizedChunks) {
    std::mt19937 rng(42);
    const std::string body = random_body(rng, 3 << 20);
    for (const Canon canon : {Canon::simple, Canon::relaxed}) {
        std::vector<std::size_t> cuts;
        for (std::size_t at = 65535; at < body.size(); at += 65535) cuts.push_back(at);
        EXPECT_EQ(body_hash_b64(canon, body, cuts), plain_sha256_b64(canonical_body(canon, body)));
    }
}

}  // namespace
}  // namespace tenantmail
