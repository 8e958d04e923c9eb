// outbox_view.h — `tenantmailctl outbox`: Postfix's queue (postfix_queue.h)
// joined with the message records, so each queued message shows its tenant
// and subject. Pure: the join's inputs come from the caller.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tenantmailctl/postfix_queue.h"

namespace tenantmail::ctl {

struct OutboxEntry {
    QueueEntry queued;
    std::string tenant;   // "" when no record names the queue id (not a tenant's mail, or expired)
    std::string subject;  // from the record, "" when none
};

// tenant "" keeps every entry; otherwise only that tenant's (entries
// without a record never match a tenant).
std::vector<OutboxEntry> filter_outbox(std::vector<OutboxEntry> entries, const std::string& tenant);

std::string outbox_table(const std::vector<OutboxEntry>& entries);
nlohmann::json outbox_json(const std::vector<OutboxEntry>& entries);

}  // namespace tenantmail::ctl
