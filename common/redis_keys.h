// redis_keys.h — tenantmail's data contract in Redis: the name of every key
// the programs read or write, in one place, byte for byte as deployments
// already hold them. What is stored under a key (JSON shapes, stream fields,
// scripts) lives with its module; this file only names the keys.
//
// Every key of a tenant carries the tenant id in a hash tag, tm:{TENANT}:...,
// so all of them fall into one Redis Cluster slot and one script may touch
// them together. The one exception is tm:qid:{QID}, tagged by queue id: a log
// line knows only the queue id, so the lookup cannot be in the tenant's slot.
//
// key                              type        bounded by
// tm:{T}:rate:CLASS                sorted set  <= limit members (one per
//   (CLASS: bulk, transactional;               permitted recipient, score =
//   kTrafficClasses)                           Redis time in µs); PEXPIRE one
//                                              window after the last permit
// tm:{T}:rate:CLASS[:messages][:Ns][:login:L]
//                                  sorted set  the same, for each further window
//                                              (N its seconds; the class's first
//                                              recipients window is the plain
//                                              key), messages-counted windows
//                                              and a login's own windows
// tm:{T}:quota:CLASS[:messages]:PERIOD:START[:login:L]
//                                  string      a calendar quota's counter
//   (PERIOD day or month; START its           (INCR); PEXPIREAT the period's
//   first instant, Unix seconds)              end plus a minute
// tm:{T}:paused                    hash        class -> reason; at most one
//                                              field per class; no expiry
//                                              (cleared by resume)
// tm:{T}:health:HOUR              hash        delivered, bounced, complained:
//   (HOUR: Unix time / 3600)                  final outcomes counted in that
//                                              hour (sending_health.h); EXPIRE
//                                              8 days after the last count
// tm:{T}:held:CONNECTION          hash        one field per permit of an
//   (CONNECTION: client address,               accepted-only class on that
//   port, server address)                      SMTP connection, what it
//                                              counted (reservation.h);
//                                              PEXPIRE 30 min after the last
//                                              permit; deleted at commit or
//                                              release
// tm:{T}:suppressed                hash        recipient -> JSON; no expiry on
//                                              purpose: a suppression stays
//                                              until removed (the one key that
//                                              grows with the tenant's list)
// tm:{T}:events                    stream      XADD MAXLEN ~ events cap
//                                              (default 100000)
// tm:{T}:events:dead               stream      MAXLEN ~ 10000 (dead letters)
// tm:{T}:unparsed                  stream      MAXLEN bounce unparsed_keep
// tm:{T}:msg:QID                   hash        record TTL (default 7 days)
//                                              from the last change
// tm:{T}:msg:QID:rcpt              hash        record TTL
// tm:{T}:msg:QID:seen              set         record TTL (event ids recorded)
// tm:{T}:messages                  sorted set  record TTL; members older than
//                                              the TTL trimmed on insert
// tm:qid:{QID}                     string      record TTL (value: the tenant)
// tm:{T}:token:QID:SENT_AT:reports set         <= max_reports_per_token
//                                              members; expires with the token
// tm:{T}:bounce_counters           hash        fixed fields (auto_replies,
//                                              over_token_cap); no expiry
// tm:{T}:opened:QID:RCPT           string      EX open repeat window (1h by
//                                              default): an open of that
//                                              message by that recipient was
//                                              recorded (trackd)
//
// Pure: string building only, cannot fail.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/tenants.h"

namespace tenantmail {

// tm:{TENANT}:SUFFIX, the form of every per-tenant key.
std::string tenant_key(std::string_view tenant, std::string_view suffix);
// The same, written into out (cleared first), for callers that reuse a buffer.
void build_tenant_key(std::string& out, std::string_view tenant, std::string_view suffix);

std::string rate_key(std::string_view tenant, TrafficClass traffic_class);
void build_rate_key(std::string& out, std::string_view tenant, TrafficClass traffic_class);
// The key of one of a tenant's limits (see the table above). login is ""
// for the tenant's own limits; period_start only matters for quotas.
void build_limit_key(std::string& out, std::string_view tenant, TrafficClass traffic_class,
                     const SendingLimit& limit, std::string_view login, std::int64_t period_start);
std::string paused_key(std::string_view tenant);
void build_paused_key(std::string& out, std::string_view tenant);
std::string suppression_key(std::string_view tenant);
std::string health_bucket_key(std::string_view tenant, std::int64_t hour);
// tm:{T}:held:CONNECTION (reservation.h's connection_id).
std::string reservation_key(std::string_view tenant, std::string_view connection);
void build_reservation_key(std::string& out, std::string_view tenant, std::string_view connection);
void build_suppression_key(std::string& out, std::string_view tenant);

std::string events_stream_key(std::string_view tenant);
std::string dead_letter_key(std::string_view tenant);
std::string unparsed_stream_key(std::string_view tenant);

std::string message_key(std::string_view tenant, std::string_view queue_id);
std::string message_recipients_key(std::string_view tenant, std::string_view queue_id);
std::string message_seen_key(std::string_view tenant, std::string_view queue_id);
std::string message_index_key(std::string_view tenant);
std::string queue_id_key(std::string_view queue_id);

std::string token_reports_key(std::string_view tenant, std::string_view queue_id, std::int64_t sent_at);
std::string bounce_counters_key(std::string_view tenant);
// recipient as normalise_recipient() writes it; "" for mail to several.
std::string open_seen_key(std::string_view tenant, std::string_view queue_id, std::string_view recipient);

}  // namespace tenantmail
