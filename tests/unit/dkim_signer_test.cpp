// dkim_signer_test.cpp — what the signer signs (header selection, over-
// signing, bottom-up instances), what it refuses (From rules, bad options,
// malformed fields), the shape of the DKIM-Signature it writes (tag order,
// folding) and that b= verifies over exactly the data it claims to sign.
// Independent verification (dkimpy) lives in the integration tests.
#include "common/dkim_signer.h"

#include <ctime>
#include <map>
#include <memory>

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "common/base64.h"

namespace tenantmail {
namespace {

const DkimKey& test_key(KeyAlgorithm algorithm) {
    static std::map<KeyAlgorithm, DkimKey> keys;
    auto it = keys.find(algorithm);
    if (it == keys.end()) {
        auto key = DkimKey::generate(algorithm);
        if (!key) ADD_FAILURE() << key.error();
        it = keys.emplace(algorithm, std::move(key).value()).first;
    }
    return it->second;
}

const std::string message =
    "Received: from a by b; Mon, 23 Nov 2026 09:00:00 +0000\r\n"
    "From: \"Careers Service\" <careers@careers.uni.example>\r\n"
    "To: student@example.org\r\n"
    "Subject: Careers fair\r\n"
    "\tnext week\r\n"
    "Date: Mon, 23 Nov 2026 09:00:00 +0000\r\n"
    "Message-ID: <t.1@careers.uni.example>\r\n"
    "X-Mailer: test\r\n"
    "List-Unsubscribe: <mailto:u@careers.uni.example>\r\n"
    "\r\n"
    "Hello  there, \r\n"
    "\r\n"
    "See you.\r\n\r\n\r\n";

SignOptions options_for(std::initializer_list<KeyAlgorithm> algorithms) {
    SignOptions options;
    options.domain = "careers.uni.example";
    for (KeyAlgorithm algorithm : algorithms) {
        options.keys.push_back(SignerKey{&test_key(algorithm), algorithm == KeyAlgorithm::rsa ? "rsa1" : "ed1"});
    }
    options.timestamp = 1795400000;
    return options;
}

std::vector<HeaderField> headers_of(std::string_view text) {
    auto split = split_message(text);
    EXPECT_TRUE(split.ok()) << split.error();
    return split.ok() ? split->headers : std::vector<HeaderField>{};
}

// A tag's value with folding whitespace removed ("" when absent).
std::string tag(std::string_view field, std::string_view name) {
    std::string value(field.substr(field.find(':') + 1));
    std::string compact;
    for (char c : value) {
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') compact += c;
    }
    const std::string key = std::string(name) + "=";
    std::size_t at = 0;
    while (at < compact.size()) {
        const std::size_t end = std::min(compact.find(';', at), compact.size());
        if (compact.compare(at, key.size(), key) == 0) return compact.substr(at + key.size(), end - at - key.size());
        at = end + 1;
    }
    return "";
}

std::vector<std::string> tag_names(std::string_view field) {
    std::vector<std::string> names;
    std::string value(field.substr(field.find(':') + 1));
    std::size_t at = 0;
    while (at < value.size()) {
        const std::size_t eq = value.find('=', at);
        if (eq == std::string::npos) break;
        std::string name;
        for (std::size_t i = at; i < eq; ++i) {
            if (value[i] != ' ' && value[i] != '\t' && value[i] != '\r' && value[i] != '\n') name += value[i];
        }
        names.push_back(name);
        const std::size_t semi = value.find(';', eq);
        if (semi == std::string::npos) break;
        at = semi + 1;
    }
    return names;
}

// The field with its b= value removed, as a verifier reconstructs it.
std::string unsigned_field(const std::string& field) {
    const std::size_t bh = field.find("bh=");
    const std::size_t semi = field.find(';', bh);
    const std::size_t b = field.find("b=", semi);
    return field.substr(0, b + 2);
}

bool verifies(const DkimKey& key, const std::string& data, const std::string& signature) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    std::string input = data;
    const EVP_MD* md = EVP_sha256();
    if (key.algorithm() == KeyAlgorithm::ed25519) {
        unsigned char digest[32];
        EVP_Digest(data.data(), data.size(), digest, nullptr, EVP_sha256(), nullptr);
        input.assign(reinterpret_cast<const char*>(digest), sizeof digest);
        md = nullptr;
    }
    return EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key.native()) == 1 &&
           EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                            reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
}

// Checks b= against the data a verifier would rebuild from this field.
void expect_self_consistent(const std::string& field, const std::vector<HeaderField>& headers, Canon header_canon,
                            const DkimKey& key) {
    std::vector<std::string> names;
    const std::string h_tag = tag(field, "h");
    for (std::string_view h = h_tag; !h.empty();) {
        const std::size_t colon = std::min(h.find(':'), h.size());
        names.emplace_back(h.substr(0, colon));
        h.remove_prefix(std::min(colon + 1, h.size()));
    }
    auto data = signing_input(header_canon, headers, names, unsigned_field(field));
    ASSERT_TRUE(data.ok()) << data.error();
    auto signature = base64_decode(tag(field, "b"));
    ASSERT_TRUE(signature.has_value());
    EXPECT_TRUE(verifies(key, *data, *signature)) << field;
}

TEST(ChooseSignedHeaders, OverSignsFromAndPresentCoreAndUnsubscribeHeaders) {
    auto names = choose_signed_headers(headers_of(message));
    ASSERT_TRUE(names.ok()) << names.error();
    const std::vector<std::string> expected = {"from", "from", "subject", "subject", "date", "date",
                                               "to", "to", "message-id", "message-id", "list-unsubscribe",
                                               "list-unsubscribe"};
    EXPECT_EQ(*names, expected);
}

TEST(ChooseSignedHeaders, SkipsAbsentOptionalHeadersAndUnknownOnes) {
    auto names = choose_signed_headers(headers_of("From: a@example.com\r\nX-Other: 1\r\nReceived: x\r\n\r\n"));
    ASSERT_TRUE(names.ok()) << names.error();
    EXPECT_EQ(*names, (std::vector<std::string>{"from", "from"}));
}

TEST(ChooseSignedHeaders, ListsEachInstanceOfRepeatedHeaders) {
    auto names = choose_signed_headers(
        headers_of("From: a@example.com\r\nreferences: <1@x>\r\nReferences: <2@x>\r\nList-Id: l\r\nLIST-ID: m\r\n\r\n"));
    ASSERT_TRUE(names.ok()) << names.error();
    EXPECT_EQ(*names, (std::vector<std::string>{"from", "from", "references", "references", "references", "list-id",
                                                "list-id"}));
}

TEST(ChooseSignedHeaders, RefusesMessageWithoutFrom) {
    auto names = choose_signed_headers(headers_of("To: a@example.com\r\n\r\n"));
    ASSERT_FALSE(names.ok());
    EXPECT_NE(names.error().find("no From"), std::string::npos) << names.error();
}

TEST(ChooseSignedHeaders, RefusesMessageWithTwoFromFields) {
    auto names = choose_signed_headers(headers_of("From: a@example.com\r\nfrom: b@example.com\r\n\r\n"));
    ASSERT_FALSE(names.ok());
    EXPECT_NE(names.error().find("2 From"), std::string::npos) << names.error();
}

TEST(ChooseSignedHeaders, RefusesFromWithSeveralAddressesOrAGroup) {
    EXPECT_FALSE(choose_signed_headers(headers_of("From: a@example.com, b@example.com\r\n\r\n")).ok());
    EXPECT_FALSE(choose_signed_headers(headers_of("From: team: a@example.com, b@example.com;\r\n\r\n")).ok());
    EXPECT_FALSE(choose_signed_headers(headers_of("From: not an address\r\n\r\n")).ok());
}

TEST(SigningInput, TakesRepeatedHeadersBottomUpAndOverSignedNamesAddNothing) {
    const auto headers = headers_of("X: 1\r\nY: a\r\nX: 2\r\n\r\n");
    auto data = signing_input(Canon::relaxed, headers, {"x", "x", "x", "y"}, "DKIM-Signature: v=1; b=");
    ASSERT_TRUE(data.ok()) << data.error();
    EXPECT_EQ(*data, "x:2\r\nx:1\r\ny:a\r\ndkim-signature:v=1; b=");
}

TEST(SigningInput, AnAddedFromChangesTheSignedData) {
    const auto original = headers_of(message);
    auto names = choose_signed_headers(original);
    ASSERT_TRUE(names.ok()) << names.error();
    auto tampered = original;
    tampered.insert(tampered.begin(), *parse_header_field("From: ceo@careers.uni.example"));
    const std::string field = "DKIM-Signature: b=";
    EXPECT_NE(*signing_input(Canon::relaxed, original, *names, field),
              *signing_input(Canon::relaxed, tampered, *names, field));
}

TEST(DkimSigner, WritesTagsInOrderWithoutLOrI) {
    auto fields = sign_message(message, options_for({KeyAlgorithm::rsa}));
    ASSERT_TRUE(fields.ok()) << fields.error();
    ASSERT_EQ(fields->size(), 1u);
    const std::string& field = fields->front();
    EXPECT_EQ(field.rfind("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=careers.uni.example;", 0), 0u)
        << field;
    EXPECT_EQ(tag_names(field), (std::vector<std::string>{"v", "a", "c", "d", "s", "t", "h", "bh", "b"}));
    EXPECT_EQ(tag(field, "s"), "rsa1");
    EXPECT_EQ(tag(field, "t"), "1795400000");
    EXPECT_EQ(tag(field, "h"), "from:from:subject:subject:date:date:to:to:message-id:message-id:list-unsubscribe:list-unsubscribe");
    EXPECT_EQ(tag(field, "bh"), base64_encode(*[] {
                  BodyHasher hasher(Canon::relaxed);
                  hasher.update("Hello there,\r\n\r\nSee you.\r\n");
                  return hasher.finish();
              }()));
}

TEST(DkimSigner, SignatureVerifiesOverTheDataItClaimsForEveryCanonAndAlgorithm) {
    const auto headers = headers_of(message);
    for (const Canon header_canon : {Canon::simple, Canon::relaxed}) {
        for (const Canon body_canon : {Canon::simple, Canon::relaxed}) {
            SignOptions options = options_for({KeyAlgorithm::rsa, KeyAlgorithm::ed25519});
            options.header_canon = header_canon;
            options.body_canon = body_canon;
            auto fields = sign_message(message, options);
            ASSERT_TRUE(fields.ok()) << fields.error();
            ASSERT_EQ(fields->size(), 2u);
            EXPECT_EQ(tag((*fields)[0], "a"), "rsa-sha256");
            EXPECT_EQ(tag((*fields)[1], "a"), "ed25519-sha256");
            EXPECT_EQ(tag((*fields)[0], "c"), std::string(canon_name(header_canon)) + "/" +
                                                  std::string(canon_name(body_canon)));
            // One body hash for the message, shared by both signatures.
            EXPECT_EQ(tag((*fields)[0], "bh"), tag((*fields)[1], "bh"));
            expect_self_consistent((*fields)[0], headers, header_canon, test_key(KeyAlgorithm::rsa));
            expect_self_consistent((*fields)[1], headers, header_canon, test_key(KeyAlgorithm::ed25519));
        }
    }
}

TEST(DkimSigner, FoldsEveryLineWithinSeventyEightCharacters) {
    std::string big = "From: a@careers.uni.example\r\n";
    for (int i = 0; i < 12; ++i) big += "References: <" + std::to_string(i) + "@x>\r\nCc: c@x.example\r\n";
    big += "Content-Transfer-Encoding: quoted-printable\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n";
    big += "\r\nbody\r\n";
    SignOptions options = options_for({KeyAlgorithm::rsa, KeyAlgorithm::ed25519});
    options.domain = "a-rather-long-subdomain-name-for-testing.careers.university.example";
    options.expire_after = 86400;
    auto fields = sign_message(big, options);
    ASSERT_TRUE(fields.ok()) << fields.error();
    for (const std::string& field : *fields) {
        EXPECT_NE(field.substr(field.size() - 2), "\r\n");
        std::size_t start = 0;
        int lines = 0;
        while (start <= field.size()) {
            const std::size_t end = std::min(field.find("\r\n", start), field.size());
            const std::string line = field.substr(start, end - start);
            EXPECT_LE(line.size(), 78u) << line;
            if (lines++ > 0) {
                EXPECT_EQ(line.front(), '\t');
            }
            EXPECT_EQ(line.find('\n'), std::string::npos);
            start = end + 2;
        }
        EXPECT_GT(lines, 5);
        expect_self_consistent(field, headers_of(big), Canon::relaxed,
                               tag(field, "a") == "rsa-sha256" ? test_key(KeyAlgorithm::rsa)
                                                               : test_key(KeyAlgorithm::ed25519));
    }
}

TEST(DkimSigner, ExpiryTagOnlyWhenAskedAndRelativeToTimestamp) {
    SignOptions options = options_for({KeyAlgorithm::ed25519});
    auto without = sign_message(message, options);
    ASSERT_TRUE(without.ok()) << without.error();
    EXPECT_EQ(tag(without->front(), "x"), "");
    options.expire_after = 3600;
    auto with = sign_message(message, options);
    ASSERT_TRUE(with.ok()) << with.error();
    EXPECT_EQ(tag(with->front(), "x"), "1795403600");
    EXPECT_EQ(tag_names(with->front()), (std::vector<std::string>{"v", "a", "c", "d", "s", "t", "x", "h", "bh", "b"}));
}

TEST(DkimSigner, ZeroTimestampMeansNow) {
    SignOptions options = options_for({KeyAlgorithm::ed25519});
    options.timestamp = 0;
    const std::int64_t before = std::time(nullptr);
    auto fields = sign_message(message, options);
    ASSERT_TRUE(fields.ok()) << fields.error();
    const std::int64_t t = std::stoll(tag(fields->front(), "t"));
    EXPECT_GE(t, before);
    EXPECT_LE(t, std::time(nullptr));
}

TEST(DkimSigner, StreamingHeadersAndChunkedBodyGiveTheSameSignatures) {
    const SignOptions options = options_for({KeyAlgorithm::rsa, KeyAlgorithm::ed25519});
    auto whole = sign_message(message, options);
    ASSERT_TRUE(whole.ok()) << whole.error();
    auto split = split_message(message);
    ASSERT_TRUE(split.ok());
    for (std::size_t chunk : {1u, 2u, 3u, 7u, 64u}) {
        DkimSigner signer(options);
        for (const HeaderField& field : split->headers) signer.add_header(field.raw);
        const std::string_view body = std::string_view(message).substr(split->body_offset);
        for (std::size_t at = 0; at < body.size(); at += chunk) signer.add_body(body.substr(at, chunk));
        auto fields = signer.finish();
        ASSERT_TRUE(fields.ok()) << fields.error();
        EXPECT_EQ(*fields, *whole) << "chunk " << chunk;
    }
}

TEST(DkimSigner, LfFoldedFieldsFromAMilterSignAsTheirCrlfForm) {
    const SignOptions options = options_for({KeyAlgorithm::ed25519});
    for (const Canon canon : {Canon::simple, Canon::relaxed}) {
        SignOptions o = options;
        o.header_canon = canon;
        DkimSigner crlf(o), lf(o);
        for (DkimSigner* s : {&crlf, &lf}) s->add_header("From: a@careers.uni.example");
        crlf.add_header("Subject: a\r\n\tb");
        lf.add_header("Subject: a\n\tb");
        auto a = crlf.finish();
        auto b = lf.finish();
        ASSERT_TRUE(a.ok() && b.ok());
        EXPECT_EQ(*a, *b) << canon_name(canon);
    }
}

TEST(DkimSigner, RefusesMalformedHeaderFieldAtFinish) {
    DkimSigner signer(options_for({KeyAlgorithm::ed25519}));
    signer.add_header("From: a@careers.uni.example");
    signer.add_header("no colon here");
    auto fields = signer.finish();
    ASSERT_FALSE(fields.ok());
    EXPECT_NE(fields.error().find("header field 2"), std::string::npos) << fields.error();
}

TEST(DkimSigner, RefusesZeroAndTwoFromFields) {
    const SignOptions options = options_for({KeyAlgorithm::rsa});
    EXPECT_FALSE(sign_message("To: a@example.org\r\n\r\nbody\r\n", options).ok());
    auto two = sign_message("From: a@careers.uni.example\r\nFrom: b@careers.uni.example\r\n\r\nbody\r\n", options);
    ASSERT_FALSE(two.ok());
    EXPECT_NE(two.error().find("refusing to sign"), std::string::npos) << two.error();
}

TEST(DkimSigner, RefusesBadOptions) {
    SignOptions options = options_for({KeyAlgorithm::rsa});
    options.domain = "evil.example; l=0";
    EXPECT_FALSE(sign_message(message, options).ok());
    options = options_for({});
    EXPECT_FALSE(sign_message(message, options).ok());
    options = options_for({KeyAlgorithm::rsa});
    options.keys[0].selector = "a b";
    EXPECT_FALSE(sign_message(message, options).ok());
    options = options_for({KeyAlgorithm::rsa});
    options.keys[0].key = nullptr;
    EXPECT_FALSE(sign_message(message, options).ok());
}

TEST(DkimSigner, FinishTwiceIsAnError) {
    DkimSigner signer(options_for({KeyAlgorithm::ed25519}));
    signer.add_header("From: a@careers.uni.example");
    EXPECT_TRUE(signer.finish().ok());
    EXPECT_FALSE(signer.finish().ok());
}

TEST(DkimSigner, HeaderListOverrideIsSignedVerbatimButMustIncludeFrom) {
    SignOptions options = options_for({KeyAlgorithm::ed25519});
    options.header_list_override = std::vector<std::string>{"From", "X-Mailer", "Subject"};
    auto fields = sign_message(message, options);
    ASSERT_TRUE(fields.ok()) << fields.error();
    EXPECT_EQ(tag(fields->front(), "h"), "From:X-Mailer:Subject");
    expect_self_consistent(fields->front(), headers_of(message), Canon::relaxed, test_key(KeyAlgorithm::ed25519));
    options.header_list_override = std::vector<std::string>{"Subject"};
    EXPECT_FALSE(sign_message(message, options).ok());
}

TEST(SignMessage, RefusesHostileHeaderBlock) {
    const SignOptions options = options_for({KeyAlgorithm::ed25519});
    EXPECT_FALSE(sign_message(" From: a@careers.uni.example\r\n\r\n", options).ok());
    EXPECT_FALSE(sign_message(std::string("From: a@careers.uni.example\r\nX: \0\r\n\r\n", 37), options).ok());
}

}  // namespace
}  // namespace tenantmail
