// bounce_address.h — the signed envelope sender bounces+TOKEN@<bounce domain>.
// TOKEN carries the message's queue id, the minute of sending and the tenant
// it was sent for, authenticated with HMAC-SHA256 (truncated to 80 bits)
// under a server secret and bound to the bounce domain and the tenant, so a
// forged, altered, replayed-to-another-tenant or stale bounce address is
// recognised, and a report is attributed to the tenant that sent the message
// even where several tenants share one bounce domain (from_rewrite tenants
// use the platform tenant's). Lowercase base32 keeps it valid even where a
// relay folds the local part's case. Pure: the caller supplies time, secret
// and the tenant ids to consider.
//
// Token layout before base32 (version 2, at most 35 octets, so the local
// part "bounces+" + 56 characters stays within RFC 5321's 64 octets):
//   version (1) | minutes since 2024-01-01 (3, big-endian, good until 2055)
//   | tenant tag (2) | queue id (1..19) | MAC (10)
// The tag (2 octets of an HMAC of the tenant id) only finds the candidate
// tenants; the MAC, over the payload, the domain and the tenant id, decides.
// Version 1 tokens (seconds in 4 octets, no tenant) made before the upgrade
// are still accepted until they expire, with tenant left empty: the caller
// may attribute them only through the message record that names that very
// bounce address, never through the bounce domain's owner.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace tenantmail {

struct BounceToken {
    std::string queue_id;      // the message reference, at most max_queue_id_length octets
    std::int64_t sent_at = 0;  // seconds since the epoch (version 2: the start of the minute)
    std::string tenant;        // the tenant id bound into the token; "" for a version 1 token
};

class BounceAddressCodec {
public:
    static constexpr std::string_view local_prefix = "bounces+";
    static constexpr size_t max_queue_id_length = 19;  // keeps the local part within 64 octets
    static constexpr size_t min_secret_length = 32;
    static constexpr std::int64_t epoch = 1704067200;  // 2024-01-01T00:00:00Z, version 2 time origin

    // secret: at least min_secret_length octets (checked by from_secret).
    static Result<BounceAddressCodec> from_secret(std::string secret);

    // "bounces+TOKEN@bounce_domain" (version 2); fails for an overlong queue
    // id, an empty tenant or a time outside 2024..2055.
    Result<std::string> encode(const BounceToken& token, std::string_view bounce_domain) const;

    // Accepts a whole address (local@domain). Refuses anything not made by
    // encode() under this secret for that domain and one of tenant_ids, and
    // tokens older than max_age_seconds or dated more than a few minutes in
    // the future. Version 1 tokens are checked against the domain only.
    Result<BounceToken> decode(std::string_view address, std::int64_t now, std::int64_t max_age_seconds,
                               const std::vector<std::string>& tenant_ids) const;

    // The version 1 encoder, kept only so tests can make the tokens that
    // are still in flight after an upgrade.
    Result<std::string> encode_v1(const BounceToken& token, std::string_view bounce_domain) const;

private:
    explicit BounceAddressCodec(std::string secret) : secret_(std::move(secret)) {}
    std::string hmac(std::string_view data) const;
    std::string mac(std::string_view payload, std::string_view bounce_domain, std::string_view tenant) const;
    std::string tenant_tag(std::string_view tenant) const;
    Result<BounceToken> decode_v1(std::string_view bytes, std::string_view domain) const;
    Result<BounceToken> decode_v2(std::string_view bytes, std::string_view domain,
                                  const std::vector<std::string>& tenant_ids) const;

    std::string secret_;
};

// Loads the secret from a file only its owner can read (see private_file.h).
Result<BounceAddressCodec> load_bounce_codec(const std::string& secret_path);

}  // namespace tenantmail
