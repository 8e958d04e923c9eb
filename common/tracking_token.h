// tracking_token.h — the opaque tokens in tracking links (open pixel, click
// redirect, one-click unsubscribe): https://TRACKING_DOMAIN/{o,c,u}/TOKEN.
// A token is the link's whole record, encrypted and authenticated with
// AES-256-GCM under a key derived (HKDF-SHA256) from the tracking secret, so
// neither the recipient nor the target URL can be read from a link, any
// change to it is refused, and a link keeps working after the message's
// record in Redis has expired (nothing is looked up to follow it).
// base64url without padding, so it fits a URL path segment as it is.
// Pure apart from the CSPRNG nonce; the caller supplies the time.
//
// Layout before base64url:
//   version (1) | nonce (12) | ciphertext | GCM tag (16)
// plaintext:
//   kind (1: 'o', 'c', 'u') | seconds since 2024-01-01 (4, big-endian)
//   | tenant, queue id, recipient (each: length (1) | octets) | url (rest)
// The version is authenticated as additional data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace tenantmail {

enum class TrackingLinkKind { open, click, unsubscribe };

// The path letter of a kind: "o", "c" or "u" (https://HOST/o/TOKEN).
std::string_view tracking_path_letter(TrackingLinkKind kind);

struct TrackingLink {
    TrackingLinkKind kind = TrackingLinkKind::open;
    std::string tenant;          // tenant id
    std::string queue_id;        // MTA queue id of the message ("" when unknown)
    std::string recipient;       // "" when the message had several recipients
    std::string url;             // click: the original target; empty for the others
    std::int64_t issued_at = 0;  // seconds since the epoch: when the message was signed
};

class TrackingTokenCodec {
public:
    static constexpr std::size_t min_secret_length = 32;
    static constexpr std::size_t max_url_length = 2048;    // longer links are left unrewritten
    static constexpr std::size_t max_token_length = 4096;  // decode refuses longer input before work
    static constexpr std::int64_t epoch = 1704067200;      // 2024-01-01T00:00:00Z

    // secret: at least min_secret_length octets.
    static Result<TrackingTokenCodec> from_secret(std::string_view secret);

    // Fails for a field over 255 octets, a URL over max_url_length, or a
    // time outside 2024..2160.
    Result<std::string> encode(const TrackingLink& link) const;
    // Refuses anything encode() did not make under this secret.
    Result<TrackingLink> decode(std::string_view token) const;

private:
    explicit TrackingTokenCodec(std::string key) : key_(std::move(key)) {}
    std::string key_;  // 32 octets, derived from the secret
};

// Loads the secret from a file only its owner can read (private_file.h).
Result<TrackingTokenCodec> load_tracking_codec(const std::string& secret_path);

}  // namespace tenantmail
