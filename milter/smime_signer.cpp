// smime_signer.cpp — see smime_signer.h.
#include "milter/smime_signer.h"

#include <openssl/err.h>
#include <openssl/rand.h>

#include <cstdio>

#include "common/base64.h"
#include "common/mime/gmime_handles.h"
#include "common/openssl_handles.h"

namespace tenantmail::milter {
namespace {

constexpr std::size_t base64_line_octets = 76;

std::string openssl_reason() {
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0) return "unknown OpenSSL error";
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    return text;
}

// A boundary that cannot occur in the entity: random, and checked.
std::string make_boundary(std::string_view entity) {
    for (;;) {
        unsigned char raw[12];
        if (RAND_bytes(raw, sizeof raw) != 1) return {};
        std::string boundary = "=_tm_smime_";
        char digits[3];
        for (unsigned char c : raw) {
            std::snprintf(digits, sizeof digits, "%02x", c);
            boundary += digits;
        }
        if (entity.find(boundary) == std::string_view::npos) return boundary;
    }
}

std::string wrapped_base64(std::string_view bytes) {
    const std::string encoded = base64_encode(bytes);
    std::string out;
    out.reserve(encoded.size() + encoded.size() / base64_line_octets * 2 + 2);
    for (std::size_t at = 0; at < encoded.size(); at += base64_line_octets) {
        out.append(encoded, at, base64_line_octets);
        out += "\r\n";
    }
    return out;
}

Result<std::string> detached_signature(std::string_view entity, const SmimeCertificate& signer) {
    // CMS_BINARY: the bytes are already canonical; OpenSSL must not
    // translate line ends again. CMS_PARTIAL to choose the digest.
    constexpr unsigned int flags = CMS_DETACHED | CMS_BINARY | CMS_PARTIAL;
    BioPtr data(BIO_new_mem_buf(entity.data(), static_cast<int>(entity.size())));
    if (!data) return make_error("out of memory");
    CmsContentInfoPtr cms(CMS_sign(nullptr, nullptr, nullptr, nullptr, flags));
    if (!cms) return make_error("CMS_sign: " + openssl_reason());
    if (CMS_add1_signer(cms.get(), signer.certificate(), signer.key(), EVP_sha256(), CMS_BINARY) == nullptr) {
        return make_error("CMS_add1_signer: " + openssl_reason());
    }
    for (const X509Ptr& certificate : signer.chain()) {
        if (CMS_add1_cert(cms.get(), certificate.get()) != 1) return make_error("CMS_add1_cert: " + openssl_reason());
    }
    if (CMS_final(cms.get(), data.get(), nullptr, flags) != 1) return make_error("CMS_final: " + openssl_reason());
    BioPtr der(BIO_new(BIO_s_mem()));
    if (!der || i2d_CMS_bio(der.get(), cms.get()) != 1) return make_error("i2d_CMS_bio: " + openssl_reason());
    char* bytes = nullptr;
    const long length = BIO_get_mem_data(der.get(), &bytes);
    return std::string(bytes, static_cast<std::size_t>(length));
}

}  // namespace

Result<SmimeSignedBody> smime_sign(std::string_view entity, const SmimeCertificate& signer) {
    auto signature = detached_signature(entity, signer);
    if (!signature) return Error{signature.error()};
    const std::string boundary = make_boundary(entity);
    if (boundary.empty()) return make_error("no random bytes for the MIME boundary");

    SmimeSignedBody out;
    out.content_type = " multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256;\r\n\tboundary=\"" +
                       boundary + "\"";
    std::string& body = out.body;
    body.reserve(entity.size() + signature->size() * 4 / 3 + 512);
    body += "This is a cryptographically signed message in MIME format.\r\n\r\n";
    body += "--" + boundary + "\r\n";
    body += entity;
    // The CRLF before a delimiter belongs to the delimiter (RFC 2046 5.1.1).
    body += "\r\n--" + boundary + "\r\n";
    body += "Content-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\n"
            "Content-Transfer-Encoding: base64\r\n"
            "Content-Disposition: attachment; filename=\"smime.p7s\"\r\n"
            "Content-Description: S/MIME Cryptographic Signature\r\n\r\n";
    body += wrapped_base64(*signature);
    body += "\r\n--" + boundary + "--\r\n";
    return out;
}

bool is_signed_or_encrypted_type(std::string_view content_type) {
    if (content_type.empty()) return false;
    ensure_gmime_initialised();
    const std::string value(content_type);
    GObjectPtr<GMimeContentType> type(g_mime_content_type_parse(nullptr, value.c_str()));
    if (!type) return false;
    return g_mime_content_type_is_type(type.get(), "multipart", "signed") ||
           g_mime_content_type_is_type(type.get(), "multipart", "encrypted") ||
           g_mime_content_type_is_type(type.get(), "application", "pkcs7-mime") ||
           g_mime_content_type_is_type(type.get(), "application", "x-pkcs7-mime");
}

}  // namespace tenantmail::milter
