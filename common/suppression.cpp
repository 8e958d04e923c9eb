// suppression.cpp — see suppression.h.
#include "common/suppression.h"

#include <nlohmann/json.hpp>

namespace tenantmail {

std::string encode_suppression(const SuppressionEntry& entry) {
    const nlohmann::json json = {{"reason", entry.reason}, {"time", entry.time}};
    return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

SuppressionEntry decode_suppression(std::string_view value) {
    SuppressionEntry entry;
    const nlohmann::json json = nlohmann::json::parse(value, nullptr, false);
    if (json.is_object() && json.contains("reason") && json["reason"].is_string()) {
        entry.reason = json["reason"].get<std::string>();
        if (json.contains("time") && json["time"].is_number_integer()) entry.time = json["time"].get<std::int64_t>();
        return entry;
    }
    entry.reason = std::string(value);
    return entry;
}

}  // namespace tenantmail
