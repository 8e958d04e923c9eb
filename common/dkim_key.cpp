// dkim_key.cpp — loading, checking, generating, writing and using DKIM keys
// with OpenSSL 3 EVP APIs only (no deprecated RSA_* calls).
// Does not canonicalise or build DKIM-Signature headers (dkim_signer does).
// Every failure is a Result error naming the file or origin and the reason;
// the OpenSSL error queue is drained so no stale error leaks to the caller.
#include "common/dkim_key.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "common/base64.h"
#include "common/private_file.h"
#include "common/unique_fd.h"

namespace tenantmail {
namespace {



// Empties OpenSSL's per-thread error queue and returns its most specific
// reason (the first one pushed, where the failure started).
std::string drain_openssl_errors() {
    unsigned long first = 0;
    while (const unsigned long code = ERR_get_error()) {
        if (first == 0) first = code;
    }
    if (first == 0) return "unknown OpenSSL error";
    const char* reason = ERR_reason_error_string(first);
    return reason != nullptr ? reason : "OpenSSL error " + std::to_string(first);
}

Error openssl_error(std::string_view origin, std::string_view what) {
    return make_error(std::string(origin) + ": " + std::string(what) + " (OpenSSL: " +
                      drain_openssl_errors() + ")");
}

Error errno_error(std::string_view what, const std::string& path) {
    const int saved = errno;  // before anything below can touch it
    return make_error(std::string(what) + " " + path + ": " + std::strerror(saved));
}

// Installed as the PEM passphrase callback so that OpenSSL never falls back
// to prompting on the terminal; it records that a passphrase was wanted.
int refuse_passphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* asked) {
    *static_cast<bool*>(asked) = true;
    return -1;
}


// Explains a parse failure better than OpenSSL's "unsupported" when the
// text is plainly not a private key.
Error pem_parse_error(std::string_view pem, std::string_view origin) {
    const bool has_pem = pem.find("-----BEGIN ") != std::string_view::npos;
    const bool has_private = pem.find("PRIVATE KEY-----") != std::string_view::npos;
    if (!has_pem) {
        drain_openssl_errors();
        return make_error(std::string(origin) + ": no PEM block found (expected -----BEGIN PRIVATE KEY-----)");
    }
    if (!has_private) {
        drain_openssl_errors();
        return make_error(std::string(origin) +
                          ": holds a public key or certificate, not a private key");
    }
    return openssl_error(origin, "cannot parse the private key");
}

Result<KeyAlgorithm> check_algorithm(const EVP_PKEY* key, std::string_view origin) {
    if (EVP_PKEY_is_a(key, "RSA")) return KeyAlgorithm::rsa;
    if (EVP_PKEY_is_a(key, "ED25519")) return KeyAlgorithm::ed25519;
    const char* name = EVP_PKEY_get0_type_name(key);
    return make_error(std::string(origin) + ": " + (name != nullptr ? name : "unknown") +
                      " keys cannot sign DKIM here; use RSA (2048 bits or more) or Ed25519");
}

Result<void> check_rsa_size(int bits, const KeyPolicy& policy, std::string_view origin) {
    const std::string prefix = std::string(origin) + ": RSA key has " + std::to_string(bits) + " bits; ";
    if (bits < 1024) return make_error(prefix + "at least 1024 are required by RFC 8301 and 2048 by tenantmail");
    if (bits < 2048 && !policy.allow_rsa1024) {
        return make_error(prefix + "at least 2048 are required (set allow_rsa1024 = yes for this tenant to accept 1024)");
    }
    if (bits > DkimKey::max_rsa_bits) {
        return make_error(prefix + "at most " + std::to_string(DkimKey::max_rsa_bits) + " are supported");
    }
    return {};
}

// rsa-sha256: DigestSign with SHA-256 and PKCS#1 v1.5 padding.
// ed25519-sha256: DigestSign with no digest, i.e. PureEd25519 (the caller
// passes SHA-256(data) as the message).
Result<void> init_sign_context(EVP_MD_CTX* ctx, EVP_PKEY* key, KeyAlgorithm algorithm, std::string_view origin) {
    EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
    const char* digest = algorithm == KeyAlgorithm::rsa ? "SHA256" : nullptr;
    if (EVP_DigestSignInit_ex(ctx, &pctx, digest, nullptr, nullptr, key, nullptr) != 1) {
        return openssl_error(origin, "cannot prepare signing with this key");
    }
    // PKCS#1 v1.5 is OpenSSL's default for RSA keys; stated so that a
    // changed default can never turn our signatures into PSS.
    if (algorithm == KeyAlgorithm::rsa && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
        return openssl_error(origin, "cannot select PKCS#1 v1.5 padding");
    }
    return {};
}

Result<void> write_fully(int fd, std::string_view bytes, const std::string& path) {
    while (!bytes.empty()) {
        const ssize_t put = ::write(fd, bytes.data(), bytes.size());
        if (put < 0 && errno == EINTR) continue;
        if (put < 0) return errno_error("cannot write key", path);
        bytes.remove_prefix(static_cast<std::size_t>(put));
    }
    return {};
}

// Write, force to disk, set the mode regardless of umask, close with a
// check (close can report a deferred write error on network filesystems).
Result<void> store_and_close(UniqueFd& file, std::string_view pem, const std::string& path) {
    if (auto written = write_fully(file.get(), pem, path); !written) return written;
    if (::fchmod(file.get(), 0600) != 0) return errno_error("cannot chmod key", path);
    if (::fsync(file.get()) != 0) return errno_error("cannot fsync key", path);
    if (::close(file.release()) != 0) return errno_error("cannot close key", path);
    return {};
}

// Best effort: makes the new directory entry durable. A directory we may
// not open for reading is not a reason to report the key as unwritten.
void sync_parent_directory(const std::string& path) {
    const auto slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir_fd.get() >= 0) ::fsync(dir_fd.get());
}

// Removes a temp file unless the rename that publishes it succeeded.
class TempFileGuard {
public:
    explicit TempFileGuard(std::string path) : path_(std::move(path)) {}
    TempFileGuard(const TempFileGuard&) = delete;
    TempFileGuard& operator=(const TempFileGuard&) = delete;
    ~TempFileGuard() {
        if (!committed_) ::unlink(path_.c_str());
    }
    void commit() { committed_ = true; }

private:
    std::string path_;
    bool committed_ = false;
};

Result<void> write_new_file(std::string_view pem, const std::string& path) {
    UniqueFd file(::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (file.get() < 0) {
        if (errno == EEXIST) return make_error("key " + path + " already exists; refusing to overwrite it");
        return errno_error("cannot create key", path);
    }
    // A partly written key must not survive to be loaded later.
    TempFileGuard remove_on_failure(path);
    if (auto stored = store_and_close(file, pem, path); !stored) return stored;
    remove_on_failure.commit();
    sync_parent_directory(path);
    return {};
}

Result<void> replace_file(std::string_view pem, const std::string& path) {
    std::string temp = path + ".tmp.XXXXXX";
    // mkostemp creates with O_EXCL and mode 0600, in the target's directory
    // so that the rename below is atomic.
    UniqueFd file(::mkostemp(temp.data(), O_CLOEXEC));
    if (file.get() < 0) return errno_error("cannot create temporary file for key", path);
    TempFileGuard remove_on_failure(temp);
    if (auto stored = store_and_close(file, pem, temp); !stored) return stored;
    if (::rename(temp.c_str(), path.c_str()) != 0) return errno_error("cannot rename new key into", path);
    remove_on_failure.commit();
    sync_parent_directory(path);
    return {};
}

}  // namespace

Result<DkimKey> DkimKey::from_pkey(KeyPtr key, const KeyPolicy& policy, std::string_view origin) {
    auto algorithm = check_algorithm(key.get(), origin);
    if (!algorithm) return Error{algorithm.error()};
    if (*algorithm == KeyAlgorithm::rsa) {
        if (auto size_ok = check_rsa_size(EVP_PKEY_get_bits(key.get()), policy, origin); !size_ok) {
            return Error{size_ok.error()};
        }
    }
    DkimKey result(std::move(key), *algorithm);
    result.sign_template_.reset(EVP_MD_CTX_new());
    if (!result.sign_template_) return openssl_error(origin, "cannot allocate a signing context");
    if (auto ready = init_sign_context(result.sign_template_.get(), result.key_.get(), *algorithm, origin); !ready) {
        return Error{ready.error()};
    }
    if (*algorithm == KeyAlgorithm::ed25519) {
        result.sha256_.reset(EVP_MD_fetch(nullptr, "SHA256", nullptr));
        if (!result.sha256_) return openssl_error(origin, "cannot fetch SHA-256");
    }
    return result;
}

Result<DkimKey> DkimKey::load_pem(std::string_view pem, const KeyPolicy& policy, std::string_view origin) {
    ERR_clear_error();
    if (pem.size() > max_pem_bytes) {
        return make_error(std::string(origin) + ": PEM text is larger than " + std::to_string(max_pem_bytes / 1024) +
                          " KB; not a DKIM key");
    }
    // Reads straight from the caller's buffer: no copy of the secret.
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) return openssl_error(origin, "cannot allocate a buffer");
    bool passphrase_asked = false;
    KeyPtr key(PEM_read_bio_PrivateKey_ex(bio.get(), nullptr, refuse_passphrase, &passphrase_asked, nullptr, nullptr));
    if (!key) {
        if (passphrase_asked) {
            drain_openssl_errors();
            return make_error(std::string(origin) +
                              ": key is encrypted with a passphrase; tenantmail never asks for one. Store it "
                              "unencrypted with mode 0600 (openssl pkey -in OLD -out NEW)");
        }
        return pem_parse_error(pem, origin);
    }
    return from_pkey(std::move(key), policy, origin);
}

Result<DkimKey> DkimKey::load_file(const std::string& path, const KeyPolicy& policy) {
    PrivateFileRules rules;
    rules.max_size = max_pem_bytes;
    rules.check_permissions = policy.check_permissions;
    auto pem = read_private_file(path, "key", rules);
    if (!pem) return Error{pem.error()};
    auto key = load_pem(*pem, policy, "key " + path);
    OPENSSL_cleanse(pem->data(), pem->size());
    return key;
}

Result<DkimKey> DkimKey::generate(KeyAlgorithm algorithm, int rsa_bits) {
    ERR_clear_error();
    KeyPtr key;
    if (algorithm == KeyAlgorithm::rsa) {
        // Generating below our own load floor would only make a key that
        // tenantmail then refuses to use.
        if (rsa_bits < 2048 || rsa_bits > max_rsa_bits) {
            return make_error("cannot generate a " + std::to_string(rsa_bits) + "-bit RSA key: use 2048 to " +
                              std::to_string(max_rsa_bits) + " bits");
        }
        key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(rsa_bits)));
    } else {
        key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    }
    if (!key) return openssl_error("key generation", "failed");
    return from_pkey(std::move(key), KeyPolicy{}, "generated key");
}

int DkimKey::bits() const { return key_ ? EVP_PKEY_get_bits(key_.get()) : 0; }

std::string_view DkimKey::dkim_algorithm() const {
    return algorithm_ == KeyAlgorithm::rsa ? "rsa-sha256" : "ed25519-sha256";
}

Result<std::string> DkimKey::sign(std::string_view data) const {
    if (!key_ || !sign_template_) return make_error("sign: no key loaded (moved-from DkimKey)");
    // A copy per call, not the template itself: a DigestSign context holds
    // per-operation state, and the milter signs from several threads.
    EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_MD_CTX_copy_ex(ctx.get(), sign_template_.get()) != 1) {
        return openssl_error("sign", "cannot copy the signing context");
    }
    const auto* input = reinterpret_cast<const unsigned char*>(data.data());
    std::size_t input_length = data.size();
    unsigned char digest[EVP_MAX_MD_SIZE];
    if (algorithm_ == KeyAlgorithm::ed25519) {
        // RFC 8463 section 3: ed25519-sha256 signs SHA-256(data) with
        // PureEd25519, not Ed25519ph and not the data itself.
        unsigned int digest_length = 0;
        if (EVP_Digest(data.data(), data.size(), digest, &digest_length, sha256_.get(), nullptr) != 1) {
            return openssl_error("sign", "SHA-256 failed");
        }
        input = digest;
        input_length = digest_length;
    }
    std::string signature(static_cast<std::size_t>(EVP_PKEY_get_size(key_.get())), '\0');
    std::size_t signature_length = signature.size();
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &signature_length, input,
                       input_length) != 1) {
        return openssl_error("sign", "signing failed");
    }
    signature.resize(signature_length);
    return signature;
}

std::string DkimKey::public_key_base64() const {
    if (!key_) return {};
    if (algorithm_ == KeyAlgorithm::ed25519) {
        std::string raw(32, '\0');
        std::size_t length = raw.size();
        if (EVP_PKEY_get_raw_public_key(key_.get(), reinterpret_cast<unsigned char*>(raw.data()), &length) != 1) {
            drain_openssl_errors();
            return {};
        }
        raw.resize(length);
        return base64_encode(raw);
    }
    const int length = i2d_PUBKEY(key_.get(), nullptr);
    if (length <= 0) {
        drain_openssl_errors();
        return {};
    }
    std::string der(static_cast<std::size_t>(length), '\0');
    auto* out = reinterpret_cast<unsigned char*>(der.data());
    if (i2d_PUBKEY(key_.get(), &out) != length) {
        drain_openssl_errors();
        return {};
    }
    return base64_encode(der);
}

std::string DkimKey::dns_txt_value() const {
    const char* type = algorithm_ == KeyAlgorithm::rsa ? "rsa" : "ed25519";
    return std::string("v=DKIM1; k=") + type + "; p=" + public_key_base64();
}

Result<void> DkimKey::write_private_pem(const std::string& path, bool overwrite) const {
    ERR_clear_error();
    if (!key_) return make_error("key " + path + ": no key loaded (moved-from DkimKey)");
    // Secure-heap BIO: OpenSSL wipes the PEM text when the BIO is freed.
    BioPtr bio(BIO_new(BIO_s_secmem()));
    if (!bio) return openssl_error("key " + path, "cannot allocate a buffer");
    if (PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        return openssl_error("key " + path, "cannot encode the key as PEM");
    }
    char* pem_data = nullptr;
    const long pem_length = BIO_get_mem_data(bio.get(), &pem_data);
    if (pem_length <= 0 || pem_data == nullptr) return openssl_error("key " + path, "empty PEM output");
    const std::string_view pem(pem_data, static_cast<std::size_t>(pem_length));
    return overwrite ? replace_file(pem, path) : write_new_file(pem, path);
}

}  // namespace tenantmail
