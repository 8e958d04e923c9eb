// long_queue_ids.h — whether the running Postfix has enable_long_queue_ids
// on, for `tenantmailctl check-config`. Short (hex) queue ids are reused
// within minutes on a busy host and collide across hosts sharing one Redis;
// a message record is found by queue id, so tenantmail wants long ones.
// Reading the setting runs `postconf -h enable_long_queue_ids` (cheap, no
// daemon); a host without postconf (the milter on a Sendmail host) is not
// warned about.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tenantmail::ctl {

// The warning for postconf's answer, nullopt when ids are long. Postfix
// booleans are "yes" and "no" (any case).
std::optional<std::string> short_queue_ids_warning(std::string_view postconf_value);

// Runs postconf; nullopt when it is off-line or not installed.
std::optional<std::string> postfix_queue_ids_warning();

}  // namespace tenantmail::ctl
