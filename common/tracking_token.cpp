// tracking_token.cpp — see tracking_token.h.
#include "common/tracking_token.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <array>
#include <optional>

#include "common/base64.h"
#include "common/c_handle.h"
#include "common/private_file.h"
#include "common/text.h"

namespace tenantmail {
namespace {

// Layout in tracking_token.h.
constexpr unsigned char kVersion = 1;
constexpr std::size_t kNonceLength = 12;
constexpr std::size_t kTagLength = 16;
constexpr std::size_t kTimeLength = 4;  // seconds since TrackingTokenCodec::epoch
constexpr std::int64_t kMaxSeconds = 0xffffffffLL;
constexpr std::size_t kMaxField = 255;
constexpr std::string_view kKdfInfo = "tenantmail tracking token v1";

using CipherCtxPtr = CHandle<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>;
using KdfPtr = CHandle<EVP_KDF, EVP_KDF_free>;
using KdfCtxPtr = CHandle<EVP_KDF_CTX, EVP_KDF_CTX_free>;

char kind_letter(TrackingLinkKind kind) { return tracking_path_letter(kind).front(); }

std::optional<TrackingLinkKind> kind_of_letter(char letter) {
    switch (letter) {
        case 'o':
            return TrackingLinkKind::open;
        case 'c':
            return TrackingLinkKind::click;
        case 'u':
            return TrackingLinkKind::unsubscribe;
        default:
            return std::nullopt;
    }
}

// The version octet, clear but authenticated (the rest of the record is
// authenticated as ciphertext).
std::string_view additional_data() {
    static constexpr char version[] = {static_cast<char>(kVersion)};
    return {version, 1};
}

Result<std::string> derive_key(std::string_view secret) {
    const KdfPtr kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
    const KdfCtxPtr ctx(kdf ? EVP_KDF_CTX_new(kdf.get()) : nullptr);
    if (!ctx) return make_error("OpenSSL has no HKDF");
    std::array<OSSL_PARAM, 4> params{
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<char*>(secret.data()), secret.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(kKdfInfo.data()), kKdfInfo.size()),
        OSSL_PARAM_construct_end(),
    };
    std::string key(32, '\0');
    if (EVP_KDF_derive(ctx.get(), reinterpret_cast<unsigned char*>(key.data()), key.size(), params.data()) != 1) {
        return make_error("HKDF failed");
    }
    return key;
}

void put_field(std::string& out, std::string_view field) {
    out.push_back(static_cast<char>(field.size()));
    out.append(field);
}

// Reads one length-prefixed field off the front of rest.
std::optional<std::string> take_field(std::string_view& rest) {
    if (rest.empty()) return std::nullopt;
    const std::size_t length = static_cast<unsigned char>(rest.front());
    if (rest.size() < 1 + length) return std::nullopt;
    std::string field(rest.substr(1, length));
    rest.remove_prefix(1 + length);
    return field;
}

Result<std::string> plaintext(const TrackingLink& link) {
    if (link.tenant.empty()) return make_error("tracking token without a tenant");
    for (std::string_view field :
         {std::string_view(link.tenant), std::string_view(link.queue_id), std::string_view(link.recipient)}) {
        if (field.size() > kMaxField) return make_error("tracking token field over 255 octets");
    }
    if (link.url.size() > TrackingTokenCodec::max_url_length) return make_error("URL too long to track");
    const std::int64_t seconds = link.issued_at - TrackingTokenCodec::epoch;
    if (seconds < 0 || seconds > kMaxSeconds) return make_error("time outside the tracking token's range");
    std::string out;
    out.push_back(kind_letter(link.kind));
    for (std::size_t i = kTimeLength; i-- > 0;) out.push_back(static_cast<char>((seconds >> (8 * i)) & 0xff));
    put_field(out, link.tenant);
    put_field(out, link.queue_id);
    put_field(out, link.recipient);
    out.append(link.url);
    return out;
}

Result<TrackingLink> parse_plaintext(std::string_view bytes) {
    if (bytes.size() < 1 + kTimeLength) return make_error("tracking token too short");
    auto kind = kind_of_letter(bytes.front());
    if (!kind) return make_error("unknown tracking token kind");
    std::int64_t seconds = 0;
    for (std::size_t i = 1; i <= kTimeLength; ++i) seconds = (seconds << 8) | static_cast<unsigned char>(bytes[i]);
    std::string_view rest = bytes.substr(1 + kTimeLength);
    auto tenant = take_field(rest);
    auto queue_id = tenant ? take_field(rest) : std::nullopt;
    auto recipient = queue_id ? take_field(rest) : std::nullopt;
    if (!recipient || tenant->empty()) return make_error("tracking token record malformed");
    return TrackingLink{*kind,
                        std::move(*tenant),
                        std::move(*queue_id),
                        std::move(*recipient),
                        std::string(rest),
                        TrackingTokenCodec::epoch + seconds};
}

// Fetched once: EVP_aes_256_gcm() would make OpenSSL look the cipher up
// again on every token (kept for the life of the process).
const EVP_CIPHER* aes_256_gcm() {
    static const EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    return cipher;
}

// This thread's cipher context, reused rather than allocated per token;
// reset (key schedule wiped) when the token is done.
class ThreadCipherContext {
public:
    ThreadCipherContext() : ctx_(context()) {}
    ~ThreadCipherContext() {
        if (ctx_ != nullptr) EVP_CIPHER_CTX_reset(ctx_);
    }
    ThreadCipherContext(const ThreadCipherContext&) = delete;
    ThreadCipherContext& operator=(const ThreadCipherContext&) = delete;
    EVP_CIPHER_CTX* get() const { return ctx_; }

private:
    static EVP_CIPHER_CTX* context() {
        thread_local const CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
        return ctx.get();
    }
    EVP_CIPHER_CTX* ctx_;
};

bool gcm_init(EVP_CIPHER_CTX* ctx, bool encrypt, const std::string& key, const unsigned char* nonce) {
    return aes_256_gcm() != nullptr &&
           EVP_CipherInit_ex2(ctx, aes_256_gcm(), nullptr, nullptr, encrypt ? 1 : 0, nullptr) == 1 &&
           EVP_CipherInit_ex2(ctx, nullptr, reinterpret_cast<const unsigned char*>(key.data()), nonce, encrypt ? 1 : 0,
                              nullptr) == 1;
}

bool add_aad(EVP_CIPHER_CTX* ctx, std::string_view aad) {
    int length = 0;
    return EVP_CipherUpdate(ctx, nullptr, &length, reinterpret_cast<const unsigned char*>(aad.data()),
                            static_cast<int>(aad.size())) == 1;
}

}  // namespace

std::string_view tracking_path_letter(TrackingLinkKind kind) {
    switch (kind) {
        case TrackingLinkKind::open:
            return "o";
        case TrackingLinkKind::click:
            return "c";
        case TrackingLinkKind::unsubscribe:
            return "u";
    }
    return "o";
}

Result<TrackingTokenCodec> TrackingTokenCodec::from_secret(std::string_view secret) {
    if (secret.size() < min_secret_length) {
        return make_error("tracking secret shorter than " + std::to_string(min_secret_length) + " octets");
    }
    auto key = derive_key(secret);
    if (!key) return Error{key.error()};
    return TrackingTokenCodec(std::move(*key));
}

Result<std::string> TrackingTokenCodec::encode(const TrackingLink& link) const {
    auto clear = plaintext(link);
    if (!clear) return Error{clear.error()};
    std::string token(1 + kNonceLength + clear->size() + kTagLength, '\0');
    auto* out = reinterpret_cast<unsigned char*>(token.data());
    out[0] = kVersion;
    unsigned char* nonce = out + 1;
    unsigned char* cipher = nonce + kNonceLength;
    if (RAND_bytes(nonce, static_cast<int>(kNonceLength)) != 1) return make_error("OpenSSL RAND_bytes failed");
    const ThreadCipherContext context;
    EVP_CIPHER_CTX* const ctx = context.get();
    int length = 0;
    int final_length = 0;
    if (ctx == nullptr || !gcm_init(ctx, true, key_, nonce) || !add_aad(ctx, additional_data()) ||
        EVP_EncryptUpdate(ctx, cipher, &length, reinterpret_cast<const unsigned char*>(clear->data()),
                          static_cast<int>(clear->size())) != 1 ||
        EVP_EncryptFinal_ex(ctx, cipher + length, &final_length) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagLength), cipher + clear->size()) != 1) {
        return make_error("AES-GCM encryption failed");
    }
    OPENSSL_cleanse(clear->data(), clear->size());
    return base64url_encode(token);
}

Result<TrackingLink> TrackingTokenCodec::decode(std::string_view token) const {
    if (token.size() > max_token_length) return make_error("tracking token too long");
    auto bytes = base64url_decode(token);
    if (!bytes) return make_error("tracking token is not base64url");
    if (bytes->size() < 1 + kNonceLength + 1 + kTimeLength + 3 + kTagLength) {
        return make_error("tracking token too short");
    }
    if (static_cast<unsigned char>(bytes->front()) != kVersion) return make_error("unknown tracking token version");
    const auto* in = reinterpret_cast<const unsigned char*>(bytes->data());
    const unsigned char* nonce = in + 1;
    const unsigned char* cipher = nonce + kNonceLength;
    const std::size_t cipher_length = bytes->size() - 1 - kNonceLength - kTagLength;
    std::string clear(cipher_length, '\0');
    auto* clear_bytes = reinterpret_cast<unsigned char*>(clear.data());
    const ThreadCipherContext context;
    EVP_CIPHER_CTX* const ctx = context.get();
    int length = 0;
    if (ctx == nullptr || !gcm_init(ctx, false, key_, nonce)) return make_error("AES-GCM setup failed");
    if (!add_aad(ctx, additional_data()) ||
        EVP_DecryptUpdate(ctx, clear_bytes, &length, cipher, static_cast<int>(cipher_length)) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagLength),
                            const_cast<unsigned char*>(cipher + cipher_length)) != 1 ||
        EVP_DecryptFinal_ex(ctx, clear_bytes + length, &length) != 1) {
        OPENSSL_cleanse(clear.data(), clear.size());
        return make_error("tracking token not authentic");
    }
    auto link = parse_plaintext(clear);
    OPENSSL_cleanse(clear.data(), clear.size());
    return link;
}

Result<TrackingTokenCodec> load_tracking_codec(const std::string& secret_path) {
    auto secret = read_private_file(secret_path, "tracking secret", PrivateFileRules{4096, true});
    if (!secret) return Error{secret.error()};
    auto codec = TrackingTokenCodec::from_secret(trim(*secret));
    OPENSSL_cleanse(secret->data(), secret->size());
    if (!codec) return make_error(secret_path + ": " + codec.error());
    return codec;
}

}  // namespace tenantmail
