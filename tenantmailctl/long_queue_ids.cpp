// long_queue_ids.cpp — see long_queue_ids.h.
#include "tenantmailctl/long_queue_ids.h"

#include "common/text.h"
#include "tenantmailctl/postfix_queue.h"

namespace tenantmail::ctl {

std::optional<std::string> short_queue_ids_warning(std::string_view postconf_value) {
    if (iequals(trim(postconf_value), "yes")) return std::nullopt;
    return std::string(
        "warning: Postfix has enable_long_queue_ids = no: short queue ids are reused within minutes on a busy "
        "host and collide across hosts sharing one Redis; outcomes of a reused id are refused rather than "
        "recorded in another message's record, so some are lost. Set enable_long_queue_ids = yes in main.cf "
        "(conf/postfix-main.cf)");
}

std::optional<std::string> postfix_queue_ids_warning() {
    auto value = run_command({"postconf", "-h", "enable_long_queue_ids"}, true);
    if (!value) return std::nullopt;
    return short_queue_ids_warning(*value);
}

}  // namespace tenantmail::ctl
