// base32.h — RFC 4648 base32 in lowercase, without padding: the encoding of
// tokens that must survive in an email local part even if a relay changes
// its case. Decoding accepts either case and refuses anything else.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tenantmail {

std::string base32_encode(std::string_view bytes);
std::optional<std::string> base32_decode(std::string_view text);

}  // namespace tenantmail
