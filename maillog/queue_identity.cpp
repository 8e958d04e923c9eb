// queue_identity.cpp — see queue_identity.h.
#include "maillog/queue_identity.h"

#include <algorithm>
#include <iterator>

namespace tenantmail::maillog {

std::int64_t not_before_for(const LineTime& stamp, std::int64_t time) {
    return time - (stamp.absolute ? kExactStampSlack : kSyslogStampSlack);
}

QueueIdentities::QueueIdentities(std::size_t max_entries, std::int64_t max_idle)
    : max_entries_(max_entries == 0 ? 1 : max_entries), max_idle_(max_idle) {}

std::string QueueIdentities::key_of(std::string_view host, std::string_view queue_id) {
    std::string key(host);
    key.push_back(' ');  // hosts and queue ids hold no spaces
    key.append(queue_id);
    return key;
}

void QueueIdentities::forget(const std::string& key) {
    const auto it = entries_.find(key);
    if (it == entries_.end()) return;
    order_.erase(it->second.order);
    entries_.erase(it);
}

// Lines come in log order, so the least recently seen are also the oldest.
void QueueIdentities::drop_idle(std::int64_t time) {
    while (!order_.empty()) {
        const auto it = entries_.find(order_.front());
        if (time - it->second.last_seen <= max_idle_) return;
        forget(order_.front());
    }
}

QueueIdState& QueueIdentities::touch(const std::string& key, std::int64_t time) {
    drop_idle(time);
    if (const auto it = entries_.find(key); it != entries_.end() && time - it->second.last_seen > max_idle_) {
        forget(key);  // behind a fresher one in the order, but just as stale
    }
    if (const auto it = entries_.find(key); it != entries_.end()) {
        order_.splice(order_.end(), order_, it->second.order);
        it->second.last_seen = std::max(it->second.last_seen, time);
        return it->second.state;
    }
    while (entries_.size() >= max_entries_) forget(order_.front());
    order_.push_back(key);
    Entry& entry = entries_[key];
    entry.order = std::prev(order_.end());
    entry.last_seen = time;
    return entry.state;
}

void QueueIdentities::observe(const QueueEvent& event, std::int64_t time) {
    const std::string key = key_of(event.host, event.queue_id);
    switch (event.kind) {
        case QueueEventKind::removed:
            forget(key);
            return;
        case QueueEventKind::received: {
            // A new message has the id: nothing known of the last one holds.
            forget(key);
            touch(key, time).identity.not_before = not_before_for(event.time, time);
            return;
        }
        case QueueEventKind::message_id: {
            QueueIdState& state = touch(key, time);
            state.identity.message_id = std::string(event.value);
            if (state.identity.not_before == 0) state.identity.not_before = not_before_for(event.time, time);
            return;
        }
        case QueueEventKind::queued: {
            QueueIdState& state = touch(key, time);
            state.identity.sender_known = true;
            state.identity.sender = std::string(event.value);
            return;
        }
    }
}

QueueIdState& QueueIdentities::at(std::string_view host, std::string_view queue_id, std::int64_t time) {
    return touch(key_of(host, queue_id), time);
}

const QueueIdState* QueueIdentities::find(std::string_view host, std::string_view queue_id, std::int64_t time) const {
    const auto it = entries_.find(key_of(host, queue_id));
    if (it == entries_.end() || time - it->second.last_seen > max_idle_) return nullptr;
    return &it->second.state;
}

}  // namespace tenantmail::maillog
