// suppression.h — the per-tenant suppression list: recipients that must not
// be sent to again (hard bounces, complaints, unsubscribes, an admin's
// choice). Stored in the hash tm:{TENANT}:suppressed (redis_keys.h), field
// = the recipient as normalise_recipient() (recipient.h) writes it, value =
// the JSON of a SuppressionEntry. policyd reads it inside the rate script
// (rate_limiter.h), tenantmail-bounce and tenantmailctl write it.
// Pure: JSON both ways; a value that is not our JSON (set by hand) is read
// as the reason itself with time 0, never as an error.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/recipient.h"   // the form of the hash's fields
#include "common/redis_keys.h"  // suppression_key()

namespace tenantmail {

struct SuppressionEntry {
    std::string reason;
    std::int64_t time = 0;  // seconds since the epoch when it was added
};

std::string encode_suppression(const SuppressionEntry& entry);
SuppressionEntry decode_suppression(std::string_view value);

}  // namespace tenantmail
