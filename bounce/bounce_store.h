// bounce_store.h — the bounce processor's Redis access besides
// record_outcome (message_store.h): the message's recipients, suppression
// entries for hard bounces and complaints, and the stream of reports it
// could not read.
//
// Keys (tenant in the hash tag, as every tenantmail key):
//   tm:{T}:suppressed  hash, as policyd and tenantmailctl use it
//                      (rate_limiter.h); written with HSETNX, so a redelivered
//                      report or a later one never overwrites a reason set
//                      before (by an admin, or by the first bounce)
//   tm:{T}:unparsed    stream, capped with MAXLEN unparsed_keep; fields
//                      raw (the message's first kUnparsedRawBytes), reason,
//                      time (Unix seconds), for an admin to inspect
// The builders are pure so tests read the exact commands; the senders report
// any Redis failure so the caller can exit with EX_TEMPFAIL.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bounce/bounce_facts.h"
#include "common/redis.h"
#include "common/result.h"

namespace tenantmail::bounce {

inline constexpr std::size_t kUnparsedRawBytes = 256 * 1024;

std::string unparsed_stream_key(std::string_view tenant);

std::vector<std::string> build_suppression_hsetnx(std::string_view tenant, const Suppression& suppression);
std::vector<std::string> build_unparsed_xadd(std::string_view tenant, std::string_view raw_message,
                                             std::string_view reason, std::int64_t time, std::size_t cap);

// The message's envelope recipients from the record the milter stored
// (HKEYS of tm:{T}:msg:{QID}:rcpt, normalised there); empty when there is
// no such record (expired, or only the minimal one record_outcome makes).
Result<std::vector<std::string>> message_recipients(RedisClient& redis, std::string_view tenant,
                                                    std::string_view queue_id);
// True when the address was added, false when it was already suppressed.
Result<bool> add_suppression(RedisClient& redis, std::string_view tenant, const Suppression& suppression);
// The stream entry id.
Result<std::string> store_unparsed(RedisClient& redis, std::string_view tenant, std::string_view raw_message,
                                   std::string_view reason, std::int64_t time, std::size_t cap);

}  // namespace tenantmail::bounce
