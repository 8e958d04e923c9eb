// signature.cpp — see signature.h. One-shot HMAC through OpenSSL's EVP_MAC.
#include "webhookd/signature.h"

#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

#include <array>
#include <memory>
#include <stdexcept>

namespace tenantmail::webhookd {

std::string webhook_signature(std::string_view secret, std::int64_t timestamp, std::string_view body) {
    const std::unique_ptr<EVP_MAC, decltype(&EVP_MAC_free)> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr),
                                                                &EVP_MAC_free);
    if (!mac) throw std::runtime_error("OpenSSL has no HMAC");
    const std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)> ctx(EVP_MAC_CTX_new(mac.get()),
                                                                        &EVP_MAC_CTX_free);
    char digest_name[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
                                 OSSL_PARAM_construct_end()};
    const std::string prefix = std::to_string(timestamp) + ".";
    std::array<unsigned char, 32> out{};
    std::size_t length = 0;
    if (!ctx || EVP_MAC_init(ctx.get(), reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), params) != 1 ||
        EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(prefix.data()), prefix.size()) != 1 ||
        EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(body.data()), body.size()) != 1 ||
        EVP_MAC_final(ctx.get(), out.data(), &length, out.size()) != 1 || length != out.size()) {
        throw std::runtime_error("OpenSSL HMAC-SHA256 failed");
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string signature = "v1=";
    for (const unsigned char b : out) {
        signature.push_back(kHex[b >> 4]);
        signature.push_back(kHex[b & 0xf]);
    }
    return signature;
}

Result<std::string> secret_from_file_content(std::string content, const std::string& what) {
    while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) content.pop_back();
    if (content.size() < kMinSecretLength) {
        return make_error(what + " holds " + std::to_string(content.size()) + " characters; at least " +
                          std::to_string(kMinSecretLength) + " are needed (e.g. openssl rand -hex 32)");
    }
    return content;
}

}  // namespace tenantmail::webhookd
