#include "milter/smime_signer.h"

#include <gtest/gtest.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include <sys/stat.h>
#include <unistd.h>

#include "milter/seven_bit.h"
#include "tests/unit/smime_test_pki.h"

namespace tenantmail::milter {
namespace {

using testing::TestPki;

std::int64_t now() { return static_cast<std::int64_t>(std::time(nullptr)); }

SmimeCertificate load(TestPki& pki, EVP_PKEY* key, const std::string& address) {
    auto loaded = SmimeCertificate::from_pem(pki.signer_file(key, {{address}}), "test.pem", address, now());
    EXPECT_TRUE(loaded.ok()) << loaded.error();
    return std::move(loaded).value();
}

struct Verified {
    bool ok = false;
    std::string content;
    int digest_nid = NID_undef;
    bool has_signing_time = false;
    int certificates = 0;
    std::string error;
};

// What a recipient does: read the multipart/signed message and verify it
// against the test CA alone.
Verified verify(const SmimeSignedBody& signed_body, X509* ca) {
    Verified result;
    const std::string message = "MIME-Version: 1.0\r\nContent-Type:" + signed_body.content_type + "\r\n\r\n" +
                                signed_body.body;
    BioPtr in(BIO_new_mem_buf(message.data(), static_cast<int>(message.size())));
    BIO* content = nullptr;
    CmsContentInfoPtr cms(SMIME_read_CMS(in.get(), &content));
    BioPtr content_owner(content);
    if (!cms || content == nullptr) {
        result.error = "SMIME_read_CMS failed";
        return result;
    }
    X509StorePtr store(X509_STORE_new());
    X509_STORE_add_cert(store.get(), ca);
    BioPtr out(BIO_new(BIO_s_mem()));
    result.ok = CMS_verify(cms.get(), nullptr, store.get(), content, out.get(), CMS_BINARY) == 1;
    if (!result.ok) {
        char text[256];
        ERR_error_string_n(ERR_get_error(), text, sizeof text);
        result.error = text;
    }
    ERR_clear_error();
    char* data = nullptr;
    const long length = BIO_get_mem_data(out.get(), &data);
    result.content.assign(data, static_cast<std::size_t>(length));
    STACK_OF(CMS_SignerInfo)* infos = CMS_get0_SignerInfos(cms.get());
    if (sk_CMS_SignerInfo_num(infos) == 1) {
        CMS_SignerInfo* info = sk_CMS_SignerInfo_value(infos, 0);
        X509_ALGOR* digest = nullptr;
        CMS_SignerInfo_get0_algs(info, nullptr, nullptr, &digest, nullptr);
        if (digest != nullptr) result.digest_nid = OBJ_obj2nid(digest->algorithm);
        result.has_signing_time = CMS_signed_get_attr_by_NID(info, NID_pkcs9_signingTime, -1) >= 0;
    }
    STACK_OF(X509)* certificates = CMS_get1_certs(cms.get());
    result.certificates = sk_X509_num(certificates);
    sk_X509_pop_free(certificates, X509_free);
    return result;
}

TEST(SmimeSigner, EcdsaSignatureVerifiesAgainstTheCaWithSha256AndSigningTime) {
    TestPki pki;
    EvpPkeyPtr key = testing::make_ec_key();
    const SmimeCertificate signer = load(pki, key.get(), "noreply@example.org");
    auto entity = seven_bit_entity(" text/plain; charset=utf-8", " 8bit", "Gr\xc3\xbc\xc3\x9f" "e\r\n");
    ASSERT_TRUE(entity.ok()) << entity.error();
    auto signed_body = smime_sign(*entity, signer);
    ASSERT_TRUE(signed_body.ok()) << signed_body.error();
    EXPECT_NE(signed_body->content_type.find("protocol=\"application/pkcs7-signature\""), std::string::npos);
    EXPECT_NE(signed_body->content_type.find("micalg=sha-256"), std::string::npos);
    EXPECT_TRUE(is_clean_seven_bit(signed_body->body, 998));
    EXPECT_NE(signed_body->body.find("filename=\"smime.p7s\""), std::string::npos);

    const Verified verified = verify(*signed_body, pki.ca());
    EXPECT_TRUE(verified.ok) << verified.error;
    EXPECT_EQ(verified.content, *entity);
    EXPECT_EQ(verified.digest_nid, NID_sha256);
    EXPECT_TRUE(verified.has_signing_time);
    EXPECT_EQ(verified.certificates, 2);  // signer and its chain
}

TEST(SmimeSigner, RsaSignatureVerifies) {
    TestPki pki;
    EvpPkeyPtr key = testing::make_rsa_key();
    const SmimeCertificate signer = load(pki, key.get(), "billing@example.org");
    auto signed_body = smime_sign("Content-Type: text/plain\r\n\r\nhello\r\n", signer);
    ASSERT_TRUE(signed_body.ok()) << signed_body.error();
    const Verified verified = verify(*signed_body, pki.ca());
    EXPECT_TRUE(verified.ok) << verified.error;
}

TEST(SmimeSigner, ChangedContentFailsVerification) {
    TestPki pki;
    EvpPkeyPtr key = testing::make_ec_key();
    const SmimeCertificate signer = load(pki, key.get(), "a@example.org");
    auto signed_body = smime_sign("Content-Type: text/plain\r\n\r\nPay 10 EUR\r\n", signer);
    ASSERT_TRUE(signed_body.ok()) << signed_body.error();
    const std::size_t at = signed_body->body.find("10 EUR");
    ASSERT_NE(at, std::string::npos);
    signed_body->body.replace(at, 2, "99");
    EXPECT_FALSE(verify(*signed_body, pki.ca()).ok);
}

TEST(SmimeSigner, SignatureFromAnotherCaIsNotTrusted) {
    TestPki pki;
    TestPki other;
    EvpPkeyPtr key = testing::make_ec_key();
    const SmimeCertificate signer = load(pki, key.get(), "a@example.org");
    auto signed_body = smime_sign("Content-Type: text/plain\r\n\r\nx\r\n", signer);
    ASSERT_TRUE(signed_body.ok()) << signed_body.error();
    EXPECT_FALSE(verify(*signed_body, other.ca()).ok);
}

TEST(SmimeSigner, RecognisesSignedAndEncryptedContentTypes) {
    EXPECT_TRUE(is_signed_or_encrypted_type(" multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=x"));
    EXPECT_TRUE(is_signed_or_encrypted_type(" Multipart/Encrypted; boundary=x"));
    EXPECT_TRUE(is_signed_or_encrypted_type(" application/pkcs7-mime; smime-type=enveloped-data"));
    EXPECT_TRUE(is_signed_or_encrypted_type(" application/x-pkcs7-mime"));
    EXPECT_FALSE(is_signed_or_encrypted_type(" multipart/mixed; boundary=x"));
    EXPECT_FALSE(is_signed_or_encrypted_type(" text/plain"));
    EXPECT_FALSE(is_signed_or_encrypted_type(""));
}

}  // namespace
}  // namespace tenantmail::milter
