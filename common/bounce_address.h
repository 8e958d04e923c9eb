// bounce_address.h — the signed envelope sender bounces+TOKEN@<bounce domain>.
// TOKEN carries the message's queue id and the time of sending, authenticated
// with HMAC-SHA256 (truncated to 80 bits) under a server secret and bound to
// the bounce domain, so a forged, altered, replayed-to-another-tenant or stale
// bounce address is recognised. Lowercase base32 keeps it valid even where a
// relay folds the local part's case. Pure: the caller supplies time and secret.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace tenantmail {

struct BounceToken {
    std::string queue_id;     // the message reference, at most max_queue_id_length octets
    std::int64_t sent_at = 0; // seconds since the epoch
};

class BounceAddressCodec {
public:
    static constexpr std::string_view local_prefix = "bounces+";
    static constexpr size_t max_queue_id_length = 19;  // keeps the local part within 64 octets
    static constexpr size_t min_secret_length = 32;

    // secret: at least min_secret_length octets (checked by from_secret).
    static Result<BounceAddressCodec> from_secret(std::string secret);

    // "bounces+TOKEN@bounce_domain"; fails only for an overlong queue id.
    Result<std::string> encode(const BounceToken& token, std::string_view bounce_domain) const;

    // Accepts a whole address (local@domain). Refuses anything not made by
    // encode() under this secret for that domain, and tokens older than
    // max_age_seconds or dated more than a few minutes in the future.
    Result<BounceToken> decode(std::string_view address, std::int64_t now, std::int64_t max_age_seconds) const;

private:
    explicit BounceAddressCodec(std::string secret) : secret_(std::move(secret)) {}
    std::string mac(std::string_view payload, std::string_view bounce_domain) const;

    std::string secret_;
};

// Loads the secret from a file only its owner can read (see private_file.h).
Result<BounceAddressCodec> load_bounce_codec(const std::string& secret_path);

}  // namespace tenantmail
