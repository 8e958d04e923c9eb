// smime_signer.h — a MIME entity signed as RFC 8551 multipart/signed: the
// entity's bytes exactly as given (already 7-bit and CRLF, seven_bit.h) as
// the first part, a detached CMS SignedData (OpenSSL CMS: SHA-256, signing
// time and capabilities as signed attributes, the signer's certificate and
// chain included) as the base64 application/pkcs7-signature part
// smime.p7s. What is signed is byte for byte what is sent, so no later
// canonicalisation can differ from the verifier's. Headers of the message
// are not covered (that is DKIM's job). Pure apart from the random boundary.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "common/smime/smime_certificate.h"

namespace tenantmail::milter {

struct SmimeSignedBody {
    std::string content_type;  // the new top-level Content-Type value, leading space, folded
    std::string body;          // CRLF lines, 7-bit
};

Result<SmimeSignedBody> smime_sign(std::string_view entity, const SmimeCertificate& signer);

// Whether a top-level Content-Type is already S/MIME or PGP/MIME signed or
// encrypted (multipart/signed, multipart/encrypted, application/pkcs7-mime
// or x-pkcs7-mime): such a message is passed on as it came.
bool is_signed_or_encrypted_type(std::string_view content_type);

}  // namespace tenantmail::milter
