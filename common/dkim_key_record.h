// dkim_key_record.h — the DKIM key record published in DNS at
// <selector>._domainkey.<domain> (RFC 6376 3.6.1, k=ed25519 from RFC 8463):
// parse the TXT value, and compare its key with one we hold.
// Pure. A record receivers would ignore (wrong v=, no p=, bad base64) is an
// error naming the reason; unknown tags are ignored as the RFC says.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace tenantmail {

struct DkimKeyRecord {
    std::string key_type = "rsa";        // k=, lower-cased; rsa when absent
    std::string public_key;              // p= decoded (DER SubjectPublicKeyInfo for RSA, 32 bytes for Ed25519)
    bool revoked = false;                // p= present but empty
    std::vector<std::string> hash_algs;  // h=, empty when absent (all allowed)
    bool testing = false;                // t=y
};

// True when a TXT value looks like it means to be a DKIM key record (starts
// with v=DKIM1, or has a p= tag) — used to pick records at a name.
bool looks_like_dkim_key_record(std::string_view txt);

Result<DkimKeyRecord> parse_dkim_key_record(std::string_view txt);

}  // namespace tenantmail
