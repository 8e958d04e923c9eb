// dkim_key_test.cpp — DkimKey: loading and its refusals (permissions, file
// types, algorithms, sizes, encryption), signing checked against OpenSSL
// directly, public key formats and safe writing. Each test that touches the
// file system gets its own mkdtemp directory, removed at the end.
#include "common/dkim_key.h"

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <gtest/gtest.h>

#include "common/base64.h"

namespace tenantmail {
namespace {

// Substring check with a readable failure (plain gtest; no gmock linked).
::testing::AssertionResult contains(const char* text_expr, const char* /*part_expr*/, const std::string& text,
                                    const std::string& part) {
    if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << text_expr << " is \"" << text << "\", without \"" << part << "\"";
}
#define EXPECT_CONTAINS(text, part) EXPECT_PRED_FORMAT2(contains, text, part)
#define ASSERT_CONTAINS(text, part) ASSERT_PRED_FORMAT2(contains, text, part)

struct PkeyFree {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct BioFree {
    void operator()(BIO* bio) const { BIO_free(bio); }
};
struct MdCtxFree {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

class TempDir {
public:
    TempDir() {
        std::string templ = (std::filesystem::temp_directory_path() / "tm-dkim-key-XXXXXX").string();
        if (::mkdtemp(templ.data()) != nullptr) path_ = templ;
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir() {
        std::error_code ignored;
        if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
    }
    std::string file(const std::string& name) const { return path_ + "/" + name; }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// Restores the process umask however the test ends.
class UmaskGuard {
public:
    explicit UmaskGuard(mode_t mask) : old_(::umask(mask)) {}
    ~UmaskGuard() { ::umask(old_); }

private:
    mode_t old_;
};

void write_file(const std::string& path, const std::string& content, mode_t mode) {
    {
        std::ofstream out(path, std::ios::binary);
        out << content;
    }
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
}

mode_t file_mode(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0);
    return st.st_mode & 07777;
}

std::string bio_text(BIO* bio) {
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(length));
}

// PKCS#8 PEM of any key, optionally encrypted.
std::string pkcs8_pem(EVP_PKEY* key, const EVP_CIPHER* cipher = nullptr) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    static const char pass[] = "x";
    auto* pass_bytes = const_cast<unsigned char*>(reinterpret_cast<const unsigned char*>(pass));
    EXPECT_EQ(PEM_write_bio_PrivateKey(bio.get(), key, cipher, cipher ? pass_bytes : nullptr, cipher ? 1 : 0,
                                       nullptr, nullptr),
              1);
    return bio_text(bio.get());
}

// "BEGIN RSA PRIVATE KEY" (PKCS#1), optionally with Proc-Type encryption.
std::string traditional_pem(EVP_PKEY* key, const EVP_CIPHER* cipher = nullptr) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    static const char pass[] = "x";
    auto* pass_bytes = const_cast<unsigned char*>(reinterpret_cast<const unsigned char*>(pass));
    EXPECT_EQ(PEM_write_bio_PrivateKey_traditional(bio.get(), key, cipher, cipher ? pass_bytes : nullptr,
                                                   cipher ? 1 : 0, nullptr, nullptr),
              1);
    return bio_text(bio.get());
}

PkeyPtr raw_rsa(int bits) { return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits))); }

// RSA-2048 generation is slow under the sanitizers: one key for the suite.
const DkimKey& shared_rsa() {
    static const auto key = DkimKey::generate(KeyAlgorithm::rsa);
    EXPECT_TRUE(key.ok()) << key.error();
    return *key;
}

const DkimKey& shared_ed25519() {
    static const auto key = DkimKey::generate(KeyAlgorithm::ed25519);
    EXPECT_TRUE(key.ok()) << key.error();
    return *key;
}

std::string sha256(std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EXPECT_EQ(EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr), 1);
    return std::string(reinterpret_cast<char*>(digest), length);
}

// Verification done with OpenSSL directly, not with DkimKey.
bool verifies(const DkimKey& key, std::string_view data, const std::string& signature) {
    MdCtxPtr ctx(EVP_MD_CTX_new());
    const bool rsa = key.algorithm() == KeyAlgorithm::rsa;
    const std::string hashed = rsa ? std::string(data) : sha256(data);
    if (EVP_DigestVerifyInit_ex(ctx.get(), nullptr, rsa ? "SHA256" : nullptr, nullptr, nullptr, key.native(),
                                nullptr) != 1) {
        return false;
    }
    return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                            reinterpret_cast<const unsigned char*>(hashed.data()), hashed.size()) == 1;
}

bool same_public_key(const DkimKey& a, const DkimKey& b) { return EVP_PKEY_eq(a.native(), b.native()) == 1; }

const std::string dkim_data = "from:Jane <jane@uni.example>\r\nsubject:hello\r\ndkim-signature:v=1; a=...; b=";

TEST(DkimKey, GeneratesRsaAndEd25519WithTheirDkimNames) {
    EXPECT_EQ(shared_rsa().algorithm(), KeyAlgorithm::rsa);
    EXPECT_EQ(shared_rsa().bits(), 2048);
    EXPECT_EQ(shared_rsa().dkim_algorithm(), "rsa-sha256");
    EXPECT_EQ(shared_ed25519().algorithm(), KeyAlgorithm::ed25519);
    EXPECT_EQ(shared_ed25519().dkim_algorithm(), "ed25519-sha256");
}

TEST(DkimKey, GenerateRefusesRsaOutsideTwoThousandFortyEightToEightKBits) {
    for (int bits : {512, 1024, 2047, 8193}) {
        const auto key = DkimKey::generate(KeyAlgorithm::rsa, bits);
        ASSERT_FALSE(key.ok()) << bits;
        EXPECT_CONTAINS(key.error(), std::to_string(bits) + "-bit");
    }
}

TEST(DkimKey, WrittenKeysLoadBackAsTheSameKey) {
    TempDir dir;
    for (const DkimKey* key : {&shared_rsa(), &shared_ed25519()}) {
        const std::string path = dir.file(std::string(key->dkim_algorithm()) + ".pem");
        ASSERT_TRUE(key->write_private_pem(path).ok());
        const auto loaded = DkimKey::load_file(path);
        ASSERT_TRUE(loaded.ok()) << loaded.error();
        EXPECT_EQ(loaded->algorithm(), key->algorithm());
        EXPECT_TRUE(same_public_key(*loaded, *key));
        std::ifstream in(path);
        std::string first_line;
        std::getline(in, first_line);
        EXPECT_EQ(first_line, "-----BEGIN PRIVATE KEY-----");
    }
}

TEST(DkimKey, LoadsTraditionalRsaPem) {
    const std::string pem = traditional_pem(shared_rsa().native());
    ASSERT_CONTAINS(pem, "BEGIN RSA PRIVATE KEY");
    const auto loaded = DkimKey::load_pem(pem);
    ASSERT_TRUE(loaded.ok()) << loaded.error();
    EXPECT_TRUE(same_public_key(*loaded, shared_rsa()));
}

TEST(DkimKey, RefusesKeyFilesAccessibleByGroupOrOthers) {
    TempDir dir;
    const std::string path = dir.file("acme.pem");
    ASSERT_TRUE(shared_ed25519().write_private_pem(path).ok());
    for (mode_t mode : {0644, 0640, 0604, 0660, 0620}) {
        ASSERT_EQ(::chmod(path.c_str(), mode), 0);
        const auto loaded = DkimKey::load_file(path);
        ASSERT_FALSE(loaded.ok()) << std::oct << mode;
        char expected[16];
        std::snprintf(expected, sizeof expected, "(mode %04o)", static_cast<unsigned>(mode));
        EXPECT_CONTAINS(loaded.error(), expected);
        EXPECT_CONTAINS(loaded.error(), "key " + path + " is ");
        EXPECT_CONTAINS(loaded.error(), "chmod 600");
    }
    ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
    EXPECT_CONTAINS(DkimKey::load_file(path).error(), "readable by group or others");
    ASSERT_EQ(::chmod(path.c_str(), 0620), 0);
    EXPECT_CONTAINS(DkimKey::load_file(path).error(), "writable by group or others");
}

TEST(DkimKey, AcceptsOwnerOnlyModesAndUncheckedPermissionsWhenAsked) {
    TempDir dir;
    const std::string path = dir.file("acme.pem");
    ASSERT_TRUE(shared_ed25519().write_private_pem(path).ok());
    for (mode_t mode : {0600, 0400}) {
        ASSERT_EQ(::chmod(path.c_str(), mode), 0);
        const auto loaded = DkimKey::load_file(path);
        EXPECT_TRUE(loaded.ok()) << loaded.error();
    }
    ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
    KeyPolicy lax;
    lax.check_permissions = false;
    EXPECT_TRUE(DkimKey::load_file(path, lax).ok());
}

TEST(DkimKey, RefusesNonRegularFilesWithoutBlocking) {
    TempDir dir;
    const std::string fifo = dir.file("fifo.pem");
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    const auto from_fifo = DkimKey::load_file(fifo);  // would hang without O_NONBLOCK
    ASSERT_FALSE(from_fifo.ok());
    EXPECT_CONTAINS(from_fifo.error(), fifo + " is not a regular file");

    const std::string subdir = dir.file("dir.pem");
    ASSERT_EQ(::mkdir(subdir.c_str(), 0700), 0);
    EXPECT_CONTAINS(DkimKey::load_file(subdir).error(), "not a regular file");
}

TEST(DkimKey, MissingFileErrorNamesThePathAndReason) {
    TempDir dir;
    const std::string path = dir.file("absent.pem");
    const auto loaded = DkimKey::load_file(path);
    ASSERT_FALSE(loaded.ok());
    EXPECT_CONTAINS(loaded.error(), path);
    EXPECT_CONTAINS(loaded.error(), "No such file or directory");
}

TEST(DkimKey, RefusesFilesOverSixtyFourKilobytes) {
    TempDir dir;
    const std::string path = dir.file("huge.pem");
    write_file(path, std::string(DkimKey::max_pem_bytes + 1, 'A'), 0600);
    const auto loaded = DkimKey::load_file(path);
    ASSERT_FALSE(loaded.ok());
    EXPECT_CONTAINS(loaded.error(), "at most 65536");
    EXPECT_FALSE(DkimKey::load_pem(std::string(DkimKey::max_pem_bytes + 1, 'A')).ok());
}

TEST(DkimKey, RefusesGarbagePublicKeysAndTruncatedPem) {
    TempDir dir;
    const std::string path = dir.file("garbage.pem");
    write_file(path, "this is not a key\n", 0600);
    const auto garbage = DkimKey::load_file(path);
    ASSERT_FALSE(garbage.ok());
    EXPECT_CONTAINS(garbage.error(), "key " + path + ": no PEM block found");

    EXPECT_CONTAINS(DkimKey::load_pem("").error(), "no PEM block");
    EXPECT_CONTAINS(DkimKey::load_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").error(),
                    "not a private key");
    const std::string pem = pkcs8_pem(shared_rsa().native());
    const auto truncated = DkimKey::load_pem(pem.substr(0, pem.size() / 2), {}, "key test.pem");
    ASSERT_FALSE(truncated.ok());
    EXPECT_CONTAINS(truncated.error(), "key test.pem: cannot parse the private key");
    EXPECT_EQ(ERR_peek_error(), 0u) << "OpenSSL error queue left non-empty";
}

TEST(DkimKey, RefusesEncryptedKeysWithoutPrompting) {
    // Both encrypted forms; a prompt would block this test on stdin.
    for (const std::string& pem : {pkcs8_pem(shared_ed25519().native(), EVP_aes_256_cbc()),
                                   traditional_pem(shared_rsa().native(), EVP_aes_256_cbc())}) {
        const auto loaded = DkimKey::load_pem(pem, {}, "key acme.pem");
        ASSERT_FALSE(loaded.ok());
        EXPECT_CONTAINS(loaded.error(), "key acme.pem: key is encrypted with a passphrase");
    }
}

TEST(DkimKey, RefusesAlgorithmsOtherThanRsaAndEd25519NamingThem) {
    const PkeyPtr ec(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    const PkeyPtr ed448(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED448"));
    const PkeyPtr x25519(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
    const std::pair<EVP_PKEY*, const char*> cases[] = {{ec.get(), "EC"}, {ed448.get(), "ED448"},
                                                        {x25519.get(), "X25519"}};
    for (const auto& [key, name] : cases) {
        ASSERT_NE(key, nullptr) << name;
        const auto loaded = DkimKey::load_pem(pkcs8_pem(key), {}, "key k.pem");
        ASSERT_FALSE(loaded.ok()) << name;
        EXPECT_CONTAINS(loaded.error(), std::string("key k.pem: ") + name + " keys cannot sign DKIM");
    }
}

TEST(DkimKey, Rsa1024OnlyWithAllowRsa1024AndRsa512Never) {
    const PkeyPtr rsa1024 = raw_rsa(1024);
    const PkeyPtr rsa512 = raw_rsa(512);
    ASSERT_TRUE(rsa1024 && rsa512);
    const std::string origin = "key /etc/tenantmail/keys/acme.pem";
    const auto refused = DkimKey::load_pem(pkcs8_pem(rsa1024.get()), {}, origin);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error(),
              "key /etc/tenantmail/keys/acme.pem: RSA key has 1024 bits; at least 2048 are required "
              "(set allow_rsa1024 = yes for this tenant to accept 1024)");

    KeyPolicy allow;
    allow.allow_rsa1024 = true;
    const auto accepted = DkimKey::load_pem(pkcs8_pem(rsa1024.get()), allow, origin);
    ASSERT_TRUE(accepted.ok()) << accepted.error();
    EXPECT_EQ(accepted->bits(), 1024);

    const auto tiny = DkimKey::load_pem(pkcs8_pem(rsa512.get()), allow, origin);
    ASSERT_FALSE(tiny.ok());
    EXPECT_CONTAINS(tiny.error(), "RSA key has 512 bits");
}

TEST(DkimKey, SignaturesVerifyWithOpenSslForBothAlgorithms) {
    for (const DkimKey* key : {&shared_rsa(), &shared_ed25519()}) {
        const auto signature = key->sign(dkim_data);
        ASSERT_TRUE(signature.ok()) << signature.error();
        EXPECT_EQ(signature->size(), key->algorithm() == KeyAlgorithm::rsa ? 256u : 64u);
        EXPECT_TRUE(verifies(*key, dkim_data, *signature));
        EXPECT_FALSE(verifies(*key, dkim_data + "x", *signature));
    }
}

TEST(DkimKey, Ed25519SignsSha256OfDataWithPureEd25519) {
    // RFC 8463: PureEd25519 over SHA-256(data). Ed25519 is deterministic, so
    // the bytes must equal a direct one-shot signature of the digest.
    const std::string digest = sha256(dkim_data);
    MdCtxPtr ctx(EVP_MD_CTX_new());
    ASSERT_EQ(EVP_DigestSignInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr, shared_ed25519().native(),
                                    nullptr),
              1);
    unsigned char expected[64];
    std::size_t length = sizeof expected;
    ASSERT_EQ(EVP_DigestSign(ctx.get(), expected, &length, reinterpret_cast<const unsigned char*>(digest.data()),
                             digest.size()),
              1);
    const auto signature = shared_ed25519().sign(dkim_data);
    ASSERT_TRUE(signature.ok());
    EXPECT_EQ(*signature, std::string(reinterpret_cast<char*>(expected), length));
}

TEST(DkimKey, RsaSignatureIsPkcs1V15OverSha256) {
    // PKCS#1 v1.5 is deterministic too: compare with a plain EVP_PKEY_sign
    // of the SHA-256 digest.
    const std::string digest = sha256(dkim_data);
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> pctx(
        EVP_PKEY_CTX_new(shared_rsa().native(), nullptr), &EVP_PKEY_CTX_free);
    ASSERT_EQ(EVP_PKEY_sign_init(pctx.get()), 1);
    ASSERT_EQ(EVP_PKEY_CTX_set_rsa_padding(pctx.get(), RSA_PKCS1_PADDING), 1);
    ASSERT_EQ(EVP_PKEY_CTX_set_signature_md(pctx.get(), EVP_sha256()), 1);
    std::string expected(256, '\0');
    std::size_t length = expected.size();
    ASSERT_EQ(EVP_PKEY_sign(pctx.get(), reinterpret_cast<unsigned char*>(expected.data()), &length,
                            reinterpret_cast<const unsigned char*>(digest.data()), digest.size()),
              1);
    expected.resize(length);
    const auto signature = shared_rsa().sign(dkim_data);
    ASSERT_TRUE(signature.ok());
    EXPECT_EQ(*signature, expected);
}

TEST(DkimKey, SignIsSafeFromSeveralThreadsAtOnce) {
    for (const DkimKey* key : {&shared_rsa(), &shared_ed25519()}) {
        std::atomic<int> failures{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back([&, t] {
                for (int i = 0; i < 10; ++i) {
                    const std::string data = dkim_data + std::to_string(t * 100 + i);
                    const auto signature = key->sign(data);
                    if (!signature.ok() || !verifies(*key, data, *signature)) ++failures;
                }
            });
        }
        for (auto& thread : threads) thread.join();
        EXPECT_EQ(failures.load(), 0) << key->dkim_algorithm();
    }
}

TEST(DkimKey, PublicKeyFormatsMatchRfc6376AndRfc8463) {
    const std::string rsa_p = shared_rsa().public_key_base64();
    const auto der = base64_decode(rsa_p);
    ASSERT_TRUE(der.has_value());
    const auto* cursor = reinterpret_cast<const unsigned char*>(der->data());
    const PkeyPtr parsed(d2i_PUBKEY(nullptr, &cursor, static_cast<long>(der->size())));
    ASSERT_NE(parsed, nullptr);
    EXPECT_EQ(EVP_PKEY_eq(parsed.get(), shared_rsa().native()), 1);
    EXPECT_EQ(shared_rsa().dns_txt_value(), "v=DKIM1; k=rsa; p=" + rsa_p);

    const std::string ed_p = shared_ed25519().public_key_base64();
    const auto raw = base64_decode(ed_p);
    ASSERT_TRUE(raw.has_value());
    EXPECT_EQ(raw->size(), 32u);
    EXPECT_EQ(shared_ed25519().dns_txt_value(), "v=DKIM1; k=ed25519; p=" + ed_p);
}

TEST(DkimKey, WritePrivatePemRefusesToOverwriteUnlessAsked) {
    TempDir dir;
    const std::string path = dir.file("acme.pem");
    ASSERT_TRUE(shared_rsa().write_private_pem(path).ok());
    const auto again = shared_ed25519().write_private_pem(path);
    ASSERT_FALSE(again.ok());
    EXPECT_CONTAINS(again.error(), path + " already exists");
    EXPECT_TRUE(same_public_key(*DkimKey::load_file(path), shared_rsa()));

    ASSERT_TRUE(shared_ed25519().write_private_pem(path, true).ok());
    const auto replaced = DkimKey::load_file(path);
    ASSERT_TRUE(replaced.ok()) << replaced.error();
    EXPECT_TRUE(same_public_key(*replaced, shared_ed25519()));
    EXPECT_EQ(file_mode(path), 0600u);
    // The temp file used for the atomic replace is gone.
    int entries = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path())) ++entries;
    EXPECT_EQ(entries, 1);
}

TEST(DkimKey, WritePrivatePemRefusesSymlinkAtThePath) {
    TempDir dir;
    const std::string target = dir.file("target");
    const std::string link = dir.file("link.pem");
    ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
    const auto written = shared_ed25519().write_private_pem(link);
    ASSERT_FALSE(written.ok());
    EXPECT_CONTAINS(written.error(), link);
    EXPECT_FALSE(std::filesystem::exists(target));
}

TEST(DkimKey, WrittenKeyIsMode0600WhateverTheUmask) {
    TempDir dir;
    for (mode_t mask : {000, 022, 0277}) {
        UmaskGuard guard(mask);
        const std::string path = dir.file("key-" + std::to_string(mask) + ".pem");
        ASSERT_TRUE(shared_ed25519().write_private_pem(path).ok());
        EXPECT_EQ(file_mode(path), 0600u) << "umask " << std::oct << mask;
        const std::string replaced = path + ".replaced";
        ASSERT_TRUE(shared_ed25519().write_private_pem(replaced, true).ok());
        EXPECT_EQ(file_mode(replaced), 0600u) << "umask " << std::oct << mask;
    }
}

TEST(DkimKey, WriteErrorsNameThePath) {
    const std::string path = "/nonexistent-dir-for-tenantmail-test/acme.pem";
    const auto written = shared_ed25519().write_private_pem(path);
    ASSERT_FALSE(written.ok());
    EXPECT_CONTAINS(written.error(), path);
    EXPECT_CONTAINS(written.error(), "No such file or directory");
    const auto replaced = shared_ed25519().write_private_pem(path, true);
    ASSERT_FALSE(replaced.ok());
    EXPECT_CONTAINS(replaced.error(), path);
}

}  // namespace
}  // namespace tenantmail
