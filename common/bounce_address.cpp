#include "common/bounce_address.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/base32.h"
#include "common/private_file.h"
#include "common/text.h"

namespace tenantmail {
namespace {

// Layouts in bounce_address.h.
constexpr unsigned char version_1 = 1;
constexpr unsigned char version_2 = 2;
constexpr size_t v1_time_length = 4;  // seconds
constexpr size_t v2_time_length = 3;  // minutes since BounceAddressCodec::epoch
constexpr size_t tag_length = 2;
constexpr size_t mac_length = 10;
constexpr std::int64_t allowed_clock_skew = 300;
constexpr std::int64_t max_v2_minutes = (1 << 24) - 1;

void put_big_endian(std::string& out, std::uint32_t value, size_t length) {
    for (size_t i = length; i-- > 0;) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

std::int64_t get_big_endian(std::string_view bytes, size_t length) {
    std::uint32_t value = 0;
    for (size_t i = 0; i < length; ++i) value = (value << 8) | static_cast<unsigned char>(bytes[i]);
    return value;
}

Result<void> check_age(std::int64_t sent_at, std::int64_t now, std::int64_t max_age_seconds) {
    if (sent_at > now + allowed_clock_skew) return make_error("bounce token is dated in the future");
    if (now - sent_at > max_age_seconds) {
        return make_error("bounce token expired (" + std::to_string((now - sent_at) / 86400) + " days old)");
    }
    return {};
}

bool same_mac(const std::string& expected, std::string_view bytes, size_t at) {
    return CRYPTO_memcmp(expected.data(), bytes.data() + at, mac_length) == 0;
}

}  // namespace

Result<BounceAddressCodec> BounceAddressCodec::from_secret(std::string secret) {
    if (secret.size() < min_secret_length) {
        return make_error("bounce secret is " + std::to_string(secret.size()) + " bytes; at least " +
                          std::to_string(min_secret_length) + " are required");
    }
    return BounceAddressCodec(std::move(secret));
}

std::string BounceAddressCodec::hmac(std::string_view data) const {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &length);
    return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string BounceAddressCodec::mac(std::string_view payload, std::string_view bounce_domain,
                                    std::string_view tenant) const {
    // The domain is part of the MAC so a token minted for one tenant's bounce
    // domain is worthless on another's; the tenant (version 2) so a token of
    // one tenant on a shared bounce domain cannot speak for another.
    std::string data(payload);
    data.push_back('\0');
    data += to_lower(bounce_domain);
    if (!tenant.empty()) {
        data.push_back('\0');
        data += tenant;
    }
    return hmac(data).substr(0, mac_length);
}

std::string BounceAddressCodec::tenant_tag(std::string_view tenant) const {
    // Keyed, so the tag tells a recipient nothing about which tenant it is.
    std::string data = "tenant-tag";
    data.push_back('\0');
    data += tenant;
    return hmac(data).substr(0, tag_length);
}

Result<std::string> BounceAddressCodec::encode(const BounceToken& token, std::string_view bounce_domain) const {
    if (token.queue_id.empty() || token.queue_id.size() > max_queue_id_length) {
        return make_error("queue id '" + token.queue_id + "' must be 1 to " + std::to_string(max_queue_id_length) +
                          " octets for a bounce address");
    }
    if (token.tenant.empty()) return make_error("a bounce token needs the tenant it is sent for");
    const std::int64_t minutes = (token.sent_at - epoch) / 60;
    if (token.sent_at < epoch || minutes > max_v2_minutes) return make_error("bounce token time out of range");
    std::string payload;
    payload.push_back(static_cast<char>(version_2));
    put_big_endian(payload, static_cast<std::uint32_t>(minutes), v2_time_length);
    payload += tenant_tag(token.tenant);
    payload += token.queue_id;
    std::string address(local_prefix);
    address += base32_encode(payload + mac(payload, bounce_domain, token.tenant));
    address += '@';
    address += to_lower(bounce_domain);
    return address;
}

Result<std::string> BounceAddressCodec::encode_v1(const BounceToken& token, std::string_view bounce_domain) const {
    if (token.queue_id.empty() || token.queue_id.size() > max_queue_id_length) return make_error("bad queue id");
    if (token.sent_at < 0 || token.sent_at > 0xffffffffLL) return make_error("bounce token time out of range");
    std::string payload;
    payload.push_back(static_cast<char>(version_1));
    put_big_endian(payload, static_cast<std::uint32_t>(token.sent_at), v1_time_length);
    payload += token.queue_id;
    return std::string(local_prefix) + base32_encode(payload + mac(payload, bounce_domain, "")) + "@" +
           to_lower(bounce_domain);
}

Result<BounceToken> BounceAddressCodec::decode_v1(std::string_view bytes, std::string_view domain) const {
    if (bytes.size() < 1 + v1_time_length + 1 + mac_length ||
        bytes.size() > 1 + v1_time_length + max_queue_id_length + mac_length) {
        return make_error("malformed bounce token");
    }
    const std::string_view payload = bytes.substr(0, bytes.size() - mac_length);
    if (!same_mac(mac(payload, domain, ""), bytes, payload.size())) {
        return make_error("bounce token signature does not match (forged or for another domain)");
    }
    BounceToken token;
    token.sent_at = get_big_endian(payload.substr(1), v1_time_length);
    token.queue_id = std::string(payload.substr(1 + v1_time_length));
    return token;
}

Result<BounceToken> BounceAddressCodec::decode_v2(std::string_view bytes, std::string_view domain,
                                                  const std::vector<std::string>& tenant_ids) const {
    constexpr size_t header = 1 + v2_time_length + tag_length;
    if (bytes.size() < header + 1 + mac_length || bytes.size() > header + max_queue_id_length + mac_length) {
        return make_error("malformed bounce token");
    }
    const std::string_view payload = bytes.substr(0, bytes.size() - mac_length);
    const std::string_view tag = payload.substr(1 + v2_time_length, tag_length);
    for (const std::string& tenant : tenant_ids) {
        if (tenant.empty() || tenant_tag(tenant) != tag) continue;
        if (!same_mac(mac(payload, domain, tenant), bytes, payload.size())) continue;
        BounceToken token;
        token.tenant = tenant;
        token.sent_at = epoch + 60 * get_big_endian(payload.substr(1), v2_time_length);
        token.queue_id = std::string(payload.substr(header));
        return token;
    }
    return make_error("bounce token signature does not match (forged, for another domain or of no known tenant)");
}

Result<BounceToken> BounceAddressCodec::decode(std::string_view address, std::int64_t now,
                                               std::int64_t max_age_seconds,
                                               const std::vector<std::string>& tenant_ids) const {
    const size_t at = address.rfind('@');
    if (at == std::string_view::npos) return make_error("not an address");
    const std::string_view local = address.substr(0, at);
    const std::string_view domain = address.substr(at + 1);
    if (local.size() <= local_prefix.size() || !iequals(local.substr(0, local_prefix.size()), local_prefix)) {
        return make_error("not a bounce address");
    }
    const auto raw = base32_decode(local.substr(local_prefix.size()));
    if (!raw || raw->empty()) return make_error("malformed bounce token");
    // The version octet only picks the check; the MAC of either covers it.
    const auto version = static_cast<unsigned char>((*raw)[0]);
    if (version != version_1 && version != version_2) return make_error("unknown bounce token version");
    Result<BounceToken> token = version == version_2 ? decode_v2(*raw, domain, tenant_ids) : decode_v1(*raw, domain);
    if (!token) return token;
    if (auto fresh = check_age(token->sent_at, now, max_age_seconds); !fresh) return Error{fresh.error()};
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
