// outbox_view.cpp — see outbox_view.h.
#include "tenantmailctl/outbox_view.h"

#include <algorithm>

#include "tenantmailctl/message_view.h"

namespace tenantmail::ctl {

namespace {

// The first reason Postfix gave for a recipient still waiting.
std::string delay_reason(const QueueEntry& entry) {
    for (const QueuedRecipient& recipient : entry.recipients)
        if (!recipient.delay_reason.empty()) return recipient.delay_reason;
    return std::string();
}

std::string recipients_cell(const QueueEntry& entry) {
    if (entry.recipients.empty()) return "-";
    std::string text = cell(entry.recipients.front().address, 40);
    if (entry.recipients.size() > 1) text += " (+" + std::to_string(entry.recipients.size() - 1) + ")";
    return text;
}

}  // namespace

std::vector<OutboxEntry> filter_outbox(std::vector<OutboxEntry> entries, const std::string& tenant) {
    if (tenant.empty()) return entries;
    entries.erase(std::remove_if(entries.begin(), entries.end(),
                                 [&](const OutboxEntry& entry) { return entry.tenant != tenant; }),
                  entries.end());
    return entries;
}

std::string outbox_table(const std::vector<OutboxEntry>& entries) {
    std::vector<std::vector<std::string>> rows;
    for (const OutboxEntry& e : entries) {
        const QueueEntry& q = e.queued;
        rows.push_back({format_time(q.arrival_time), cell(q.queue_id, 20), cell(q.queue_name, 10),
                        e.tenant.empty() ? "-" : cell(e.tenant, 20), cell(q.sender.empty() ? "<>" : q.sender, 40),
                        recipients_cell(q), cell(e.subject.empty() ? "-" : e.subject, 40),
                        cell(delay_reason(q), 100)});
    }
    return render_table({"ARRIVAL (UTC)", "QUEUE ID", "QUEUE", "TENANT", "SENDER", "RECIPIENTS", "SUBJECT", "REASON"},
                        rows);
}

nlohmann::json outbox_json(const std::vector<OutboxEntry>& entries) {
    nlohmann::json list = nlohmann::json::array();
    for (const OutboxEntry& e : entries) {
        const QueueEntry& q = e.queued;
        nlohmann::json recipients = nlohmann::json::array();
        for (const QueuedRecipient& r : q.recipients) {
            recipients.push_back({{"address", r.address}, {"delay_reason", r.delay_reason}});
        }
        list.push_back({{"queue_id", q.queue_id},
                        {"queue_name", q.queue_name},
                        {"arrival_time", q.arrival_time},
                        {"message_size", q.message_size},
                        {"forced_expire", q.forced_expire},
                        {"sender", q.sender},
                        {"tenant", e.tenant.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.tenant)},
                        {"subject", e.subject},
                        {"recipients", std::move(recipients)}});
    }
    return {{"outbox", std::move(list)}};
}

}  // namespace tenantmail::ctl
