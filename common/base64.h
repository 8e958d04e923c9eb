// base64.h — RFC 4648 base64 (the alphabet DKIM's b=, bh= and p= use) and
// base64url (tracking tokens).
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

// RFC 4648 section 5 "base64url" without padding, for tokens in URL paths:
// '-' and '_' instead of '+' and '/'. Decoding accepts only that alphabet
// (no whitespace, no padding) and only the canonical encoding of a value.
std::string base64url_encode(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace tenantmail
