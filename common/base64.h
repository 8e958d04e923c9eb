// base64.h — RFC 4648 base64 (the alphabet DKIM's b=, bh= and p= use).
// Thin wrappers over OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tenantmail {

std::string base64_encode(std::string_view bytes);
// Decodes base64, ignoring whitespace (as DKIM tags may be folded);
// nullopt on any other non-alphabet character or bad padding.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace tenantmail
