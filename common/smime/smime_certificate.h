// smime_certificate.h — one S/MIME signing identity read from a PEM file:
// the signer's certificate, its private key and the chain to send with it.
// The file is a secret (it holds the key), so it is read under the private
// file rules of common/private_file.h. Refused at load, naming the file and
// the reason: no certificate, no key or an encrypted one, a key that does
// not belong to the first certificate, a key that is neither RSA (2048 bits
// or more) nor EC, a certificate not yet or no longer valid, one whose
// extended key usage excludes emailProtection, and one whose subjectAltName
// has no rfc822Name for the sender (an address; for a domain entry
// "@domain", an rfc822Name equal to that domain, the RFC 5280 form meaning
// every mailbox of that host). The chain is not verified against a trust
// anchor here: the recipients decide whom they trust.
#pragma once

#include <openssl/x509.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/openssl_handles.h"
#include "common/private_file.h"
#include "common/result.h"

namespace tenantmail {

class SmimeCertificate {
public:
    // sender: "user@domain" or "@domain" (lower case). now: seconds since
    // the epoch, for the validity check.
    static Result<SmimeCertificate> load_file(const std::string& path, std::string_view sender, std::int64_t now,
                                              const PrivateFileRules& rules = {512 * 1024, true});
    // The same from PEM text; path only names the source in messages.
    static Result<SmimeCertificate> from_pem(std::string_view pem, std::string_view path, std::string_view sender,
                                             std::int64_t now);

    X509* certificate() const { return certificate_.get(); }
    EVP_PKEY* key() const { return key_.get(); }
    const std::vector<X509Ptr>& chain() const { return chain_; }
    const std::string& path() const { return path_; }
    std::int64_t not_after() const { return not_after_; }
    // The certificate's rfc822Name entries, lower case, for messages.
    const std::vector<std::string>& addresses() const { return addresses_; }

private:
    SmimeCertificate() = default;

    X509Ptr certificate_;
    EvpPkeyPtr key_;
    std::vector<X509Ptr> chain_;
    std::string path_;
    std::int64_t not_after_ = 0;
    std::vector<std::string> addresses_;
};

// Whether a certificate naming these rfc822Name entries may sign for sender
// ("user@domain" exactly, without case; "@domain": the entry "domain").
bool smime_names_cover(const std::vector<std::string>& addresses, std::string_view sender);

}  // namespace tenantmail
