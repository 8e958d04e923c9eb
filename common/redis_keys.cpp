// redis_keys.cpp — see redis_keys.h.
#include "common/redis_keys.h"

namespace tenantmail {

void build_tenant_key(std::string& out, std::string_view tenant, std::string_view suffix) {
    out.clear();
    out.append("tm:{").append(tenant).append("}:").append(suffix);
}

std::string tenant_key(std::string_view tenant, std::string_view suffix) {
    std::string key;
    build_tenant_key(key, tenant, suffix);
    return key;
}

void build_rate_key(std::string& out, std::string_view tenant, TrafficClass traffic_class) {
    build_tenant_key(out, tenant, "rate:");
    out.append(to_string(traffic_class));
}

std::string rate_key(std::string_view tenant, TrafficClass traffic_class) {
    std::string key;
    build_rate_key(key, tenant, traffic_class);
    return key;
}

void build_limit_key(std::string& out, std::string_view tenant, TrafficClass traffic_class,
                     const SendingLimit& limit, std::string_view login, std::int64_t period_start) {
    build_tenant_key(out, tenant, limit.is_quota() ? "quota:" : "rate:");
    out.append(to_string(traffic_class));
    if (limit.counts == LimitCounts::messages) out.append(":messages");
    if (limit.is_quota()) {
        out.append(":").append(period_name(limit.period)).append(":").append(std::to_string(period_start));
    } else if (!limit.primary) {
        out.append(":").append(std::to_string(limit.window.count())).append("s");
    }
    // Last, so a login holding ':' cannot make two keys collide.
    if (!login.empty()) out.append(":login:").append(login);
}

void build_paused_key(std::string& out, std::string_view tenant) { build_tenant_key(out, tenant, "paused"); }

std::string paused_key(std::string_view tenant) { return tenant_key(tenant, "paused"); }

void build_suppression_key(std::string& out, std::string_view tenant) { build_tenant_key(out, tenant, "suppressed"); }

std::string suppression_key(std::string_view tenant) { return tenant_key(tenant, "suppressed"); }

std::string health_bucket_key(std::string_view tenant, std::int64_t hour) {
    return tenant_key(tenant, "health:" + std::to_string(hour));
}

void build_reservation_key(std::string& out, std::string_view tenant, std::string_view connection) {
    build_tenant_key(out, tenant, "held:");
    out.append(connection);
}

std::string reservation_key(std::string_view tenant, std::string_view connection) {
    std::string key;
    build_reservation_key(key, tenant, connection);
    return key;
}

std::string events_stream_key(std::string_view tenant) { return tenant_key(tenant, "events"); }

std::string dead_letter_key(std::string_view tenant) { return tenant_key(tenant, "events:dead"); }

std::string unparsed_stream_key(std::string_view tenant) { return tenant_key(tenant, "unparsed"); }

std::string message_key(std::string_view tenant, std::string_view queue_id) {
    std::string key = tenant_key(tenant, "msg:");
    key.append(queue_id);
    return key;
}

std::string message_recipients_key(std::string_view tenant, std::string_view queue_id) {
    return message_key(tenant, queue_id) + ":rcpt";
}

std::string message_seen_key(std::string_view tenant, std::string_view queue_id) {
    return message_key(tenant, queue_id) + ":seen";
}

std::string message_index_key(std::string_view tenant) { return tenant_key(tenant, "messages"); }

std::string queue_id_key(std::string_view queue_id) {
    std::string key = "tm:qid:{";
    key.append(queue_id).append("}");
    return key;
}

std::string token_reports_key(std::string_view tenant, std::string_view queue_id, std::int64_t sent_at) {
    std::string key = tenant_key(tenant, "token:");
    key.append(queue_id).append(":").append(std::to_string(sent_at)).append(":reports");
    return key;
}

std::string bounce_counters_key(std::string_view tenant) { return tenant_key(tenant, "bounce_counters"); }

std::string open_seen_key(std::string_view tenant, std::string_view queue_id, std::string_view recipient) {
    std::string key = tenant_key(tenant, "opened:");
    key.append(queue_id).append(":").append(recipient);
    return key;
}

}  // namespace tenantmail
