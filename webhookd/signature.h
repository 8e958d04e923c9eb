// signature.h — how a webhook POST is signed, so the receiver can tell it
// comes from us and is fresh: X-Tenantmail-Signature: v1=<hex> where hex is
// HMAC-SHA256 keyed with the tenant's secret over "<timestamp>.<body>", and
// the timestamp (Unix seconds) is sent as X-Tenantmail-Timestamp. Pure; the
// receiver compares in constant time and rejects old timestamps (README).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace tenantmail::webhookd {

inline constexpr std::size_t kMinSecretLength = 16;

// "v1=" followed by 64 lower-case hex digits.
std::string webhook_signature(std::string_view secret, std::int64_t timestamp, std::string_view body);

// The secret as stored in its file: trailing CR/LF (an editor's final
// newline) are not part of it; at least kMinSecretLength characters remain.
// what names the file in the error ("tenant acme: webhook secret /path").
Result<std::string> secret_from_file_content(std::string content, const std::string& what);

}  // namespace tenantmail::webhookd
