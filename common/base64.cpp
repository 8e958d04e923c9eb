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

}  // namespace tenantmail
