// queue_identity.h — what tenantmail-maillog knows about the message a queue
// id names right now, learnt from Postfix's own lines (QueueEvent): when it
// entered Postfix, its Message-ID, its envelope sender, and the tenant of
// its record once looked up. Outcomes are recorded only into the record of
// that message (record_checked_outcome).
// Postfix reuses queue ids (short ones within minutes; enable_long_queue_ids
// makes that practically impossible), so what is known of one is forgotten
// when Postfix frees it ("removed") and replaced when a new message takes it
// ("client=", pickup's "uid="). Ids are kept per host, for a log that several
// hosts write to. The table is bounded: at most max_entries ids (the least
// recently seen go first) and none idle for longer than max_idle (a message
// Postfix still holds is seen again at each delivery attempt).
// Pure: no I/O; times are the log lines' Unix seconds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/message_outcome.h"
#include "common/message_store.h"
#include "maillog/maillog_line.h"

namespace tenantmail::maillog {

// How much earlier than its first line a message's record may say it was
// written and still be that message's. RFC 3339 stamps are exact (1 s for
// the fraction both sides drop); a syslog stamp is local time without a zone
// or a year, read in the follower's zone: a day covers a daylight-saving
// change and a log written in another zone.
inline constexpr std::int64_t kExactStampSlack = 1;
inline constexpr std::int64_t kSyslogStampSlack = 26 * 3600;

inline constexpr std::size_t kDefaultMaxQueueIds = 100000;
// Longer than Postfix keeps a deferred message (maximal_queue_lifetime, 5d)
// between two delivery attempts (maximal_backoff_time, 4000s) by far.
inline constexpr std::int64_t kDefaultQueueIdMaxIdle = 24 * 3600;

struct QueueIdState {
    MessageIdentity identity;
    std::string tenant;           // "" until its record was found
    bool refusal_logged = false;  // one log line per message, not per recipient
};

class QueueIdentities {
public:
    explicit QueueIdentities(std::size_t max_entries = kDefaultMaxQueueIds,
                             std::int64_t max_idle = kDefaultQueueIdMaxIdle);

    // time: the line's Unix seconds.
    void observe(const QueueEvent& event, std::int64_t time);
    // The state of a delivery line's queue id, empty when nothing is known
    // (created then). Valid until the next call.
    QueueIdState& at(std::string_view host, std::string_view queue_id, std::int64_t time);
    // nullptr when nothing is known (for tests and logs).
    const QueueIdState* find(std::string_view host, std::string_view queue_id, std::int64_t time) const;
    std::size_t size() const { return entries_.size(); }

private:
    struct Entry {
        QueueIdState state;
        std::int64_t last_seen = 0;
        std::list<std::string>::iterator order;
    };
    static std::string key_of(std::string_view host, std::string_view queue_id);
    QueueIdState& touch(const std::string& key, std::int64_t time);
    void forget(const std::string& key);
    void drop_idle(std::int64_t time);

    std::size_t max_entries_;
    std::int64_t max_idle_;
    std::unordered_map<std::string, Entry> entries_;
    std::list<std::string> order_;  // least recently seen first
};

// The earliest time a record of the message whose first line has this
// stamp can carry.
std::int64_t not_before_for(const LineTime& stamp, std::int64_t time);

}  // namespace tenantmail::maillog
