// dkim_key.h — a DKIM private key (RSA or Ed25519) held as a parsed OpenSSL
// EVP_PKEY: loaded once at start or reload, never per message.
// Refuses key files readable by group or others, RSA below 2048 bits (1024
// only when the tenant explicitly allows it) and anything else OpenSSL
// cannot use for rsa-sha256 (RFC 8301) or ed25519-sha256 (RFC 8463).
// Never prompts for a passphrase: encrypted keys are refused.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <openssl/evp.h>

#include "common/openssl_handles.h"
#include "common/result.h"

namespace tenantmail {

enum class KeyAlgorithm { rsa, ed25519 };

struct KeyPolicy {
    bool allow_rsa1024 = false;     // RFC 8301 floor is 1024; ours is 2048 unless allowed
    bool check_permissions = true;  // refuse files with any group/other access
};

class DkimKey {
public:
    // Largest key file or PEM text accepted (an 8192-bit RSA key is ~6.5 KB).
    static constexpr std::size_t max_pem_bytes = 64 * 1024;
    static constexpr int max_rsa_bits = 8192;

    // Reads a PEM private key (PKCS#8 or traditional RSA) from a file.
    static Result<DkimKey> load_file(const std::string& path, const KeyPolicy& policy = {});
    // Same checks on PEM text; origin names it in error messages.
    static Result<DkimKey> load_pem(std::string_view pem, const KeyPolicy& policy = {},
                                    std::string_view origin = "key");
    // A fresh key: RSA of rsa_bits (2048 default, 2048..8192 accepted) or Ed25519.
    static Result<DkimKey> generate(KeyAlgorithm algorithm, int rsa_bits = 2048);

    KeyAlgorithm algorithm() const { return algorithm_; }
    int bits() const;
    // The a= tag value: "rsa-sha256" or "ed25519-sha256".
    std::string_view dkim_algorithm() const;

    // Signs the DKIM data to be signed (the canonicalised header block).
    // rsa-sha256: RSASSA-PKCS1-v1_5 with SHA-256 over data.
    // ed25519-sha256: PureEd25519 over SHA-256(data), as RFC 8463 section 3.
    // Returns the raw signature bytes. Safe to call from several threads at
    // once: each call works on its own copy of a context prepared at load.
    Result<std::string> sign(std::string_view data) const;

    // The p= value: base64 of the SubjectPublicKeyInfo DER for RSA, of the
    // raw 32-byte public key for Ed25519 (RFC 8463 section 4). Empty only if
    // OpenSSL fails to encode a key it loaded (out of memory).
    std::string public_key_base64() const;
    // The DNS TXT value for <selector>._domainkey: "v=DKIM1; k=rsa; p=...".
    std::string dns_txt_value() const;
    // Writes the private key as PKCS#8 PEM, mode 0600 from creation on,
    // fsynced. Refuses to replace an existing file unless overwrite is set;
    // with overwrite the new key goes to a temp file that is renamed over it.
    Result<void> write_private_pem(const std::string& path, bool overwrite = false) const;

    EVP_PKEY* native() const { return key_.get(); }

private:
    using KeyPtr = EvpPkeyPtr;

    // Checks the algorithm and size against policy and prepares the signing
    // context; every constructor path goes through here.
    static Result<DkimKey> from_pkey(KeyPtr key, const KeyPolicy& policy, std::string_view origin);

    DkimKey(KeyPtr key, KeyAlgorithm algorithm) : key_(std::move(key)), algorithm_(algorithm) {}

    KeyPtr key_;
    KeyAlgorithm algorithm_;
    // DigestSign context initialised once with the key; sign() copies it
    // (cheaper than a fresh init, which fetches the algorithm again).
    EvpMdCtxPtr sign_template_;
    // SHA-256 fetched once for the Ed25519 pre-hash (avoids an implicit
    // fetch per message).
    EvpMdPtr sha256_;
};

}  // namespace tenantmail
