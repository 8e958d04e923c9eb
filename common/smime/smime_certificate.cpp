// smime_certificate.cpp — see smime_certificate.h.
#include "common/smime/smime_certificate.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <ctime>

#include "common/text.h"

namespace tenantmail {
namespace {

using GeneralNamesPtr = CHandle<GENERAL_NAMES, GENERAL_NAMES_free>;

// Never prompt for a passphrase: a daemon has no terminal, and an
// encrypted key is refused with a clear reason instead.
int no_passphrase(char*, int, int, void*) { return -1; }

std::vector<std::string> rfc822_names(X509* certificate) {
    std::vector<std::string> names;
    GeneralNamesPtr san(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr)));
    if (!san) return names;
    for (int i = 0; i < sk_GENERAL_NAME_num(san.get()); ++i) {
        const GENERAL_NAME* name = sk_GENERAL_NAME_value(san.get(), i);
        if (name->type != GEN_EMAIL) continue;
        const ASN1_IA5STRING* text = name->d.rfc822Name;
        names.push_back(to_lower(std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                                                  static_cast<std::size_t>(ASN1_STRING_length(text)))));
    }
    return names;
}

// ASN1_TIME to seconds since the epoch (0 when unreadable).
std::int64_t epoch_seconds(const ASN1_TIME* time) {
    struct tm parts {};
    if (ASN1_TIME_to_tm(time, &parts) != 1) return 0;
    return static_cast<std::int64_t>(timegm(&parts));
}

std::string utc_date(std::int64_t seconds) {
    const std::time_t t = static_cast<std::time_t>(seconds);
    struct tm parts {};
    gmtime_r(&t, &parts);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &parts);
    return text;
}

std::string joined(const std::vector<std::string>& names) {
    std::string out;
    for (const std::string& name : names) out += (out.empty() ? "" : ", ") + name;
    return out.empty() ? "none" : out;
}

}  // namespace

bool smime_names_cover(const std::vector<std::string>& addresses, std::string_view sender) {
    const std::string wanted = to_lower(sender.starts_with('@') ? sender.substr(1) : sender);
    return std::any_of(addresses.begin(), addresses.end(), [&](const std::string& name) { return name == wanted; });
}

Result<SmimeCertificate> SmimeCertificate::load_file(const std::string& path, std::string_view sender,
                                                     std::int64_t now, const PrivateFileRules& rules) {
    auto text = read_private_file(path, "S/MIME certificate and key", rules);
    if (!text) return Error{text.error()};
    auto loaded = from_pem(*text, path, sender, now);
    OPENSSL_cleanse(text->data(), text->size());
    return loaded;
}

Result<SmimeCertificate> SmimeCertificate::from_pem(std::string_view pem, std::string_view path,
                                                    std::string_view sender, std::int64_t now) {
    const std::string where = "S/MIME file " + std::string(path) + ": ";
    const auto fail = [&](const std::string& reason) {
        ERR_clear_error();
        return make_error(where + reason);
    };
    SmimeCertificate out;
    out.path_ = std::string(path);

    // Every CERTIFICATE block, in order: the first is the signer's, the
    // others its chain. PEM_read_bio_X509 skips blocks of other kinds.
    BioPtr certificates(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!certificates) return fail("out of memory");
    while (X509* certificate = PEM_read_bio_X509(certificates.get(), nullptr, no_passphrase, nullptr)) {
        if (!out.certificate_) {
            out.certificate_.reset(certificate);
        } else {
            out.chain_.emplace_back(certificate);
        }
    }
    ERR_clear_error();  // the end of the file reads as an error
    if (!out.certificate_) return fail("no certificate (a PEM CERTIFICATE block) in the file");

    BioPtr keys(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!keys) return fail("out of memory");
    out.key_.reset(PEM_read_bio_PrivateKey(keys.get(), nullptr, no_passphrase, nullptr));
    if (!out.key_) {
        const bool encrypted = pem.find("ENCRYPTED") != std::string_view::npos;
        return fail(encrypted ? "the private key is encrypted (give it unencrypted, in a file of mode 0600)"
                              : "no private key in the file (it must hold certificate, key and chain)");
    }
    if (X509_check_private_key(out.certificate_.get(), out.key_.get()) != 1) {
        return fail("the private key does not match the certificate (the first in the file)");
    }
    const int key_type = EVP_PKEY_get_base_id(out.key_.get());
    if (key_type == EVP_PKEY_RSA) {
        if (EVP_PKEY_get_bits(out.key_.get()) < 2048) return fail("the RSA key has fewer than 2048 bits");
    } else if (key_type != EVP_PKEY_EC) {
        return fail("the key is neither RSA nor EC (ECDSA), the kinds mail clients verify");
    }

    const std::int64_t not_before = epoch_seconds(X509_get0_notBefore(out.certificate_.get()));
    out.not_after_ = epoch_seconds(X509_get0_notAfter(out.certificate_.get()));
    if (not_before == 0 || out.not_after_ == 0) return fail("the certificate's validity dates are unreadable");
    if (now < not_before) return fail("the certificate is not valid before " + utc_date(not_before));
    if (now > out.not_after_) return fail("the certificate expired on " + utc_date(out.not_after_));

    // With an extended key usage present, clients require emailProtection.
    const uint32_t flags = X509_get_extension_flags(out.certificate_.get());
    if ((flags & EXFLAG_XKUSAGE) != 0 && (X509_get_extended_key_usage(out.certificate_.get()) & XKU_SMIME) == 0) {
        return fail("the certificate's extended key usage does not include emailProtection");
    }

    out.addresses_ = rfc822_names(out.certificate_.get());
    if (!smime_names_cover(out.addresses_, sender)) {
        return fail("the certificate's subjectAltName does not name " +
                    std::string(sender.starts_with('@') ? sender.substr(1) : sender) +
                    " (rfc822Name entries: " + joined(out.addresses_) + ")");
    }
    return out;
}

}  // namespace tenantmail
