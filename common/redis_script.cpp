// redis_script.cpp — see redis_script.h.
#include "common/redis_script.h"

#include <openssl/evp.h>

#include <array>

namespace tenantmail {

std::string script_sha1(std::string_view body) {
    // SHA-1 only because EVALSHA names scripts by it; nothing is signed with it.
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    EVP_Digest(body.data(), body.size(), digest.data(), &length, EVP_sha1(), nullptr);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(2 * length);
    for (unsigned int i = 0; i < length; ++i) {
        out += kHex[digest[i] >> 4];
        out += kHex[digest[i] & 0x0f];
    }
    return out;
}

bool is_noscript_error(std::string_view error) {
    return error.starts_with("NOSCRIPT ") || error.find(": NOSCRIPT ") != std::string_view::npos;
}

}  // namespace tenantmail
