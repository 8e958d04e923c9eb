#include "common/bounce_address.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/base32.h"
#include "common/private_file.h"
#include "common/text.h"

namespace tenantmail {
namespace {

// Token layout before base32: version (1) | sent_at (4, big-endian seconds,
// good until 2106) | queue id (1..19) | MAC (10).
constexpr unsigned char token_version = 1;
constexpr size_t time_length = 4;
constexpr size_t mac_length = 10;
constexpr std::int64_t allowed_clock_skew = 300;

std::string pack_payload(const BounceToken& token) {
    std::string payload;
    payload.push_back(static_cast<char>(token_version));
    const auto t = static_cast<std::uint32_t>(token.sent_at);
    for (int shift = 24; shift >= 0; shift -= 8) payload.push_back(static_cast<char>((t >> shift) & 0xff));
    payload += token.queue_id;
    return payload;
}

std::int64_t unpack_time(std::string_view bytes) {
    std::uint32_t t = 0;
    for (size_t i = 0; i < time_length; ++i) t = (t << 8) | static_cast<unsigned char>(bytes[i]);
    return t;
}

}  // namespace

Result<BounceAddressCodec> BounceAddressCodec::from_secret(std::string secret) {
    if (secret.size() < min_secret_length) {
        return make_error("bounce secret is " + std::to_string(secret.size()) + " bytes; at least " +
                          std::to_string(min_secret_length) + " are required");
    }
    return BounceAddressCodec(std::move(secret));
}

std::string BounceAddressCodec::mac(std::string_view payload, std::string_view bounce_domain) const {
    // The domain is part of the MAC so a token minted for one tenant's bounce
    // domain is worthless on another's.
    std::string data(payload);
    data.push_back('\0');
    data += to_lower(bounce_domain);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &length);
    return std::string(reinterpret_cast<const char*>(digest), mac_length);
}

Result<std::string> BounceAddressCodec::encode(const BounceToken& token, std::string_view bounce_domain) const {
    if (token.queue_id.empty() || token.queue_id.size() > max_queue_id_length) {
        return make_error("queue id '" + token.queue_id + "' must be 1 to " + std::to_string(max_queue_id_length) +
                          " octets for a bounce address");
    }
    if (token.sent_at < 0 || token.sent_at > 0xffffffffLL) return make_error("bounce token time out of range");
    const std::string payload = pack_payload(token);
    std::string address(local_prefix);
    address += base32_encode(payload + mac(payload, bounce_domain));
    address += '@';
    address += to_lower(bounce_domain);
    return address;
}

Result<BounceToken> BounceAddressCodec::decode(std::string_view address, std::int64_t now,
                                               std::int64_t max_age_seconds) const {
    const size_t at = address.rfind('@');
    if (at == std::string_view::npos) return make_error("not an address");
    const std::string_view local = address.substr(0, at);
    const std::string_view domain = address.substr(at + 1);
    if (local.size() <= local_prefix.size() || !iequals(local.substr(0, local_prefix.size()), local_prefix)) {
        return make_error("not a bounce address");
    }
    const auto raw = base32_decode(local.substr(local_prefix.size()));
    if (!raw || raw->size() < 1 + time_length + 1 + mac_length ||
        raw->size() > 1 + time_length + max_queue_id_length + mac_length) {
        return make_error("malformed bounce token");
    }
    const std::string_view bytes(*raw);
    const std::string_view payload = bytes.substr(0, bytes.size() - mac_length);
    const std::string expected = mac(payload, domain);
    if (CRYPTO_memcmp(expected.data(), bytes.data() + payload.size(), mac_length) != 0) {
        return make_error("bounce token signature does not match (forged or for another domain)");
    }
    if (static_cast<unsigned char>(payload[0]) != token_version) return make_error("unknown bounce token version");

    BounceToken token;
    token.sent_at = unpack_time(payload.substr(1));
    token.queue_id = std::string(payload.substr(1 + time_length));
    if (token.sent_at > now + allowed_clock_skew) return make_error("bounce token is dated in the future");
    if (now - token.sent_at > max_age_seconds) {
        return make_error("bounce token expired (" + std::to_string((now - token.sent_at) / 86400) + " days old)");
    }
    return token;
}

Result<BounceAddressCodec> load_bounce_codec(const std::string& secret_path) {
    auto secret = read_private_file(secret_path, "bounce secret", PrivateFileRules{4096, true});
    if (!secret) return Error{secret.error()};
    auto codec = BounceAddressCodec::from_secret(std::string(trim(*secret)));
    if (!codec) return make_error(secret_path + ": " + codec.error());
    return codec;
}

}  // namespace tenantmail
