// rfc8463_test.cpp — RFC 8463 Appendix A reproduced exactly: its keys, its
// message, its bh= and its b= values. Ed25519 and RSASSA-PKCS1-v1_5 are both
// deterministic, so the published signatures must come out byte for byte.
// The RFC's signature fields carry i= and q= tags and " : " separators in h=,
// which our signer never writes, so b= is reproduced through the same
// signing_input() the signer uses, fed the RFC's own field text.
#include <memory>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "common/base64.h"
#include "common/dkim_signer.h"

namespace tenantmail {
namespace {

// A.1: the Ed25519 secret key, as the RFC gives it (base64 of the raw 32 bytes).
constexpr std::string_view ed25519_secret = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
// A.2: the public keys published in DNS.
constexpr std::string_view ed25519_public = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
constexpr std::string_view rsa_public =
    "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3"
    "FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB";
// A.1: the RSA secret key (1024 bits: the RFC predates RFC 8301's advice).
constexpr std::string_view rsa_secret_pem =
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIICXQIBAAKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQi\n"
    "Y/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqM\n"
    "KrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB\n"
    "AoGAH0cxOhFZDgzXWhDhnAJDw5s4roOXN4OhjiXa8W7Y3rhX3FJqmJSPuC8N9vQm\n"
    "6SVbaLAE4SG5mLMueHlh4KXffEpuLEiNp9Ss3O4YfLiQpbRqE7Tm5SxKjvvQoZZe\n"
    "zHorimOaChRL2it47iuWxzxSiRMv4c+j70GiWdxXnxe4UoECQQDzJB/0U58W7RZy\n"
    "6enGVj2kWF732CoWFZWzi1FicudrBFoy63QwcowpoCazKtvZGMNlPWnC7x/6o8Gc\n"
    "uSe0ga2xAkEA8C7PipPm1/1fTRQvj1o/dDmZp243044ZNyxjg+/OPN0oWCbXIGxy\n"
    "WvmZbXriOWoSALJTjExEgraHEgnXssuk7QJBALl5ICsYMu6hMxO73gnfNayNgPxd\n"
    "WFV6Z7ULnKyV7HSVYF0hgYOHjeYe9gaMtiJYoo0zGN+L3AAtNP9huqkWlzECQE1a\n"
    "licIeVlo1e+qJ6Mgqr0Q7Aa7falZ448ccbSFYEPD6oFxiOl9Y9se9iYHZKKfIcst\n"
    "o7DUw1/hz2Ck4N5JrgUCQQCyKveNvjzkkd8HjYs0SwM0fPjK16//5qDZ2UiDGnOe\n"
    "uEzxBDAr518Z8VFbR41in3W4Y3yCDgQlLlcETrS+zYcL\n"
    "-----END RSA PRIVATE KEY-----\n";

// A.3: the message as signed (the RFC's three-space indentation of folded
// lines is its own layout; one space here, which relaxed makes equal).
constexpr std::string_view message =
    "From: Joe SixPack <joe@football.example.com>\r\n"
    "To: Suzie Q <suzie@shopping.example.net>\r\n"
    "Subject: Is dinner ready?\r\n"
    "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
    "Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
    "\r\n"
    "Hi.\r\n"
    "\r\n"
    "We lost the game.  Are you hungry yet?\r\n"
    "\r\n"
    "Joe.\r\n";

constexpr std::string_view body_hash = "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=";
constexpr std::int64_t timestamp = 1528637909;
const std::vector<std::string> signed_names = {"from", "to",   "subject", "date",
                                               "message-id", "from", "subject", "date"};

// A.3's two DKIM-Signature fields, b= values removed as a verifier does.
constexpr std::string_view ed25519_unsigned_field =
    "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
    " d=football.example.com; i=@football.example.com;\r\n"
    " q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n"
    " subject : date : message-id : from : subject : date;\r\n"
    " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
    " b=";
constexpr std::string_view ed25519_b =
    "/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11BusFa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==";
constexpr std::string_view rsa_unsigned_field =
    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\r\n"
    " d=football.example.com; i=@football.example.com;\r\n"
    " q=dns/txt; s=test; t=1528637909; h=from : to : subject :\r\n"
    " date : message-id : from : subject : date;\r\n"
    " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
    " b=";
constexpr std::string_view rsa_b =
    "F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz"
    "dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=";

// The RFC gives the Ed25519 key as raw bytes; DkimKey loads PEM, so wrap it.
DkimKey rfc_ed25519_key() {
    const auto raw = base64_decode(ed25519_secret);
    EXPECT_TRUE(raw.has_value() && raw->size() == 32);
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(
        EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(raw->data()),
                                     raw->size()),
        EVP_PKEY_free);
    EXPECT_NE(pkey, nullptr);
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    EXPECT_EQ(PEM_write_bio_PrivateKey(bio.get(), pkey.get(), nullptr, nullptr, 0, nullptr, nullptr), 1);
    char* pem = nullptr;
    const long length = BIO_get_mem_data(bio.get(), &pem);
    auto key = DkimKey::load_pem(std::string_view(pem, static_cast<std::size_t>(length)), {}, "RFC 8463 A.1");
    EXPECT_TRUE(key.ok()) << key.error();
    return std::move(key).value();
}

DkimKey rfc_rsa_key() {
    KeyPolicy policy;
    policy.allow_rsa1024 = true;
    auto key = DkimKey::load_pem(rsa_secret_pem, policy, "RFC 8463 A.1");
    EXPECT_TRUE(key.ok()) << key.error();
    return std::move(key).value();
}

std::vector<HeaderField> rfc_headers() {
    auto split = split_message(message);
    EXPECT_TRUE(split.ok()) << split.error();
    return split->headers;
}

TEST(Rfc8463, KeysMatchThePublishedPublicKeys) {
    EXPECT_EQ(rfc_ed25519_key().public_key_base64(), ed25519_public);
    EXPECT_EQ(rfc_rsa_key().public_key_base64(), rsa_public);
}

TEST(Rfc8463, BodyHashIsThePublishedOne) {
    auto split = split_message(message);
    ASSERT_TRUE(split.ok()) << split.error();
    BodyHasher hasher(Canon::relaxed);
    hasher.update(message.substr(split->body_offset));
    auto digest = hasher.finish();
    ASSERT_TRUE(digest.ok()) << digest.error();
    EXPECT_EQ(base64_encode(*digest), body_hash);
}

TEST(Rfc8463, Ed25519SignatureIsReproducedByteForByte) {
    auto data = signing_input(Canon::relaxed, rfc_headers(), signed_names, ed25519_unsigned_field);
    ASSERT_TRUE(data.ok()) << data.error();
    auto signature = rfc_ed25519_key().sign(*data);
    ASSERT_TRUE(signature.ok()) << signature.error();
    EXPECT_EQ(base64_encode(*signature), ed25519_b);
}

TEST(Rfc8463, RsaSignatureIsReproducedByteForByte) {
    auto data = signing_input(Canon::relaxed, rfc_headers(), signed_names, rsa_unsigned_field);
    ASSERT_TRUE(data.ok()) << data.error();
    auto signature = rfc_rsa_key().sign(*data);
    ASSERT_TRUE(signature.ok()) << signature.error();
    EXPECT_EQ(base64_encode(*signature), rsa_b);
}

// The signer itself on the RFC's message: same body hash, same h= list and
// t=, and a b= that the RFC's public key accepts over the data a verifier
// rebuilds from our field.
TEST(Rfc8463, SignerWithTheRfcHeaderListSignsTheSameContent) {
    const DkimKey key = rfc_ed25519_key();
    SignOptions options;
    options.domain = "football.example.com";
    options.keys.push_back(SignerKey{&key, "brisbane"});
    options.timestamp = timestamp;
    options.header_list_override = signed_names;
    auto fields = sign_message(message, options);
    ASSERT_TRUE(fields.ok()) << fields.error();
    const std::string& field = fields->front();
    const std::string expected_prefix =
        "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
        "\td=football.example.com; s=brisbane; t=1528637909; h=from:to:subject:date:\r\n"
        "\tmessage-id:from:subject:date;\r\n"
        "\tbh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=; b=";
    ASSERT_EQ(field.substr(0, expected_prefix.size()), expected_prefix);

    auto data = signing_input(Canon::relaxed, rfc_headers(), signed_names, expected_prefix);
    ASSERT_TRUE(data.ok()) << data.error();
    std::string b64;
    for (char c : field.substr(expected_prefix.size())) {
        if (c != '\r' && c != '\n' && c != '\t' && c != ' ') b64 += c;
    }
    const auto signature = base64_decode(b64);
    ASSERT_TRUE(signature.has_value());

    const auto public_raw = base64_decode(ed25519_public);
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pub(
        EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                    reinterpret_cast<const unsigned char*>(public_raw->data()), public_raw->size()),
        EVP_PKEY_free);
    ASSERT_NE(pub, nullptr);
    unsigned char digest[32];
    ASSERT_EQ(EVP_Digest(data->data(), data->size(), digest, nullptr, EVP_sha256(), nullptr), 1);
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    ASSERT_EQ(EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pub.get()), 1);
    EXPECT_EQ(EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature->data()),
                               signature->size(), digest, sizeof digest),
              1);
}

}  // namespace
}  // namespace tenantmail
