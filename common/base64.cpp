#include "common/base64.h"

#include <openssl/evp.h>

namespace tenantmail {

std::string base64_encode(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3), '\0');
    const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                        reinterpret_cast<const unsigned char*>(bytes.data()),
                                        static_cast<int>(bytes.size()));
    out.resize(static_cast<size_t>(written));
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    std::string compact;
    compact.reserve(text.size());
    for (char c : text) {
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
        compact.push_back(c);
    }
    if (compact.size() % 4 != 0) return std::nullopt;
    if (compact.empty()) return std::string();
    std::string out(compact.size() / 4 * 3, '\0');
    const int written = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                        reinterpret_cast<const unsigned char*>(compact.data()),
                                        static_cast<int>(compact.size()));
    if (written < 0) return std::nullopt;
    // EVP_DecodeBlock counts padding as zero bytes; drop them.
    size_t padding = 0;
    if (compact.back() == '=') ++padding;
    if (compact.size() >= 2 && compact[compact.size() - 2] == '=') ++padding;
    out.resize(static_cast<size_t>(written) - padding);
    return out;
}

std::string base64url_encode(std::string_view bytes) {
    std::string out = base64_encode(bytes);
    while (!out.empty() && out.back() == '=') out.pop_back();
    for (char& c : out) {
        if (c == '+') c = '-';
        else if (c == '/') c = '_';
    }
    return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
    if (text.size() % 4 == 1) return std::nullopt;  // no encoding ends with one character
    std::string standard;
    standard.reserve(text.size() + 2);
    for (char c : text) {
        const bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (alnum) standard.push_back(c);
        else if (c == '-') standard.push_back('+');
        else if (c == '_') standard.push_back('/');
        else return std::nullopt;
    }
    while (standard.size() % 4 != 0) standard.push_back('=');
    auto bytes = base64_decode(standard);
    // Canonical only: unused low bits in the last character must be zero,
    // so no two strings decode to the same bytes.
    if (!bytes || base64url_encode(*bytes) != text) return std::nullopt;
    return bytes;
}

}  // namespace tenantmail
