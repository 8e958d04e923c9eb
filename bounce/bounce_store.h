// bounce_store.h — the bounce processor's Redis access besides
// record_outcome (message_store.h) and add_suppression (suppression_store.h):
// the message's recipients, the per-token report count, and the stream of
// reports it could not read.
//
// Keys (named in common/redis_keys.h, with their types and bounds):
//   tm:{T}:suppressed  hash, as policyd and tenantmailctl use it, written
//                      through common/suppression_store.h (HSETNX, so a
//                      redelivered report or a later one never overwrites a
//                      reason set before)
//   tm:{T}:unparsed    stream, capped with MAXLEN unparsed_keep; fields
//                      raw (the message's first unparsed_max_bytes), reason,
//                      time (Unix seconds), for an admin to inspect
//   tm:{T}:token:QID:SENT_AT:reports
//                      set of the references of the reports one bounce
//                      address has sent (max_reports_per_token at most),
//                      expiring with the token
//   tm:{T}:bounce_counters
//                      hash of what was dropped without a trace in Redis
//                      otherwise: auto_replies, over_token_cap
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
#include "common/redis_keys.h"
#include "common/result.h"

namespace tenantmail::bounce {

std::vector<std::string> build_unparsed_xadd(std::string_view tenant, std::string_view raw_message,
                                             std::string_view reason, std::int64_t time, std::size_t cap,
                                             std::size_t raw_bytes);
// EVAL of the per-token admission script: reply 1 admitted (also a report
// admitted before, so a retry by Postfix passes), 0 over the cap.
std::vector<std::string> build_admit_report(std::string_view key, std::string_view report_ref, std::size_t cap,
                                            std::int64_t ttl_seconds);

// The message a bounce token speaks of, from the record the milter stored:
// found only when the record is the milter's (it has mail_from) and its
// bounce_address is the very address the token came from, so a record of
// another message under a reused queue id (or of another tenant) never
// lends its recipients. recipients: the record's envelope recipients
// (normalised there).
struct TokenMessage {
    bool found = false;
    std::string message_id;
    std::vector<std::string> recipients;
};
Result<TokenMessage> token_message(RedisClient& redis, std::string_view tenant, std::string_view queue_id,
                                   std::string_view bounce_address);
// Counts the report against its token: true when admitted.
Result<bool> admit_report(RedisClient& redis, std::string_view key, std::string_view report_ref, std::size_t cap,
                          std::int64_t ttl_seconds);
// HINCRBY tm:{T}:bounce_counters FIELD 1.
Result<void> count_dropped(RedisClient& redis, std::string_view tenant, std::string_view field);
// The stream entry id.
Result<std::string> store_unparsed(RedisClient& redis, std::string_view tenant, std::string_view raw_message,
                                   std::string_view reason, std::int64_t time, std::size_t cap,
                                   std::size_t raw_bytes);

}  // namespace tenantmail::bounce
