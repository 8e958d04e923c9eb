// smime_test_pki.h — a throwaway certificate authority for the S/MIME
// tests, made with OpenSSL at test time (no private key is committed):
// a CA, and signer certificates with chosen rfc822Names, validity and key.
#pragma once

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

#include "common/openssl_handles.h"

namespace tenantmail::testing {

inline EvpPkeyPtr make_ec_key() { return EvpPkeyPtr(EVP_EC_gen("P-256")); }
inline EvpPkeyPtr make_rsa_key() { return EvpPkeyPtr(EVP_RSA_gen(2048)); }

inline void add_extension(X509* certificate, X509* issuer, int nid, const char* value) {
    X509V3_CTX context;
    X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
    X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
    X509_add_ext(certificate, extension, -1);
    X509_EXTENSION_free(extension);
}

struct SignerSpec {
    std::vector<std::string> emails;
    std::int64_t not_before = static_cast<std::int64_t>(std::time(nullptr)) - 3600;
    std::int64_t not_after = static_cast<std::int64_t>(std::time(nullptr)) + 86400 * 30;
    const char* extended_key_usage = "emailProtection";  // nullptr: none
};

class TestPki {
public:
    TestPki() : ca_key_(make_ec_key()), ca_(X509_new()) {
        fill(ca_.get(), ca_key_.get(), "tenantmail test CA", 1, std::time(nullptr) - 3600, std::time(nullptr) + 86400 * 365);
        X509_set_issuer_name(ca_.get(), X509_get_subject_name(ca_.get()));
        add_extension(ca_.get(), ca_.get(), NID_basic_constraints, "critical,CA:TRUE");
        add_extension(ca_.get(), ca_.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
        add_extension(ca_.get(), ca_.get(), NID_subject_key_identifier, "hash");
        X509_sign(ca_.get(), ca_key_.get(), EVP_sha256());
    }

    X509* ca() const { return ca_.get(); }

    X509Ptr issue(EVP_PKEY* key, const SignerSpec& spec) {
        X509Ptr certificate(X509_new());
        fill(certificate.get(), key, spec.emails.empty() ? "signer" : spec.emails.front().c_str(), ++serial_,
             static_cast<std::time_t>(spec.not_before), static_cast<std::time_t>(spec.not_after));
        X509_set_issuer_name(certificate.get(), X509_get_subject_name(ca_.get()));
        add_extension(certificate.get(), ca_.get(), NID_basic_constraints, "critical,CA:FALSE");
        add_extension(certificate.get(), ca_.get(), NID_key_usage, "critical,digitalSignature,nonRepudiation");
        if (spec.extended_key_usage != nullptr) {
            add_extension(certificate.get(), ca_.get(), NID_ext_key_usage, spec.extended_key_usage);
        }
        add_extension(certificate.get(), ca_.get(), NID_authority_key_identifier, "keyid");
        std::string names;
        for (const std::string& email : spec.emails) names += (names.empty() ? "email:" : ",email:") + email;
        if (!names.empty()) add_extension(certificate.get(), ca_.get(), NID_subject_alt_name, names.c_str());
        X509_sign(certificate.get(), ca_key_.get(), EVP_sha256());
        return certificate;
    }

    static std::string pem(X509* certificate) {
        BioPtr bio(BIO_new(BIO_s_mem()));
        PEM_write_bio_X509(bio.get(), certificate);
        return text(bio.get());
    }
    static std::string pem(EVP_PKEY* key) {
        BioPtr bio(BIO_new(BIO_s_mem()));
        PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
        return text(bio.get());
    }
    // certificate, key, CA: the file layout tenants.conf's smime asks for.
    std::string signer_file(EVP_PKEY* key, const SignerSpec& spec) {
        X509Ptr certificate = issue(key, spec);
        return pem(certificate.get()) + pem(key) + pem(ca_.get());
    }

private:
    static std::string text(BIO* bio) {
        char* data = nullptr;
        const long length = BIO_get_mem_data(bio, &data);
        return std::string(data, static_cast<std::size_t>(length));
    }
    static void fill(X509* certificate, EVP_PKEY* key, const char* common_name, long serial, std::time_t not_before,
                     std::time_t not_after) {
        X509_set_version(certificate, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(certificate), serial);
        ASN1_TIME_set(X509_getm_notBefore(certificate), not_before);
        ASN1_TIME_set(X509_getm_notAfter(certificate), not_after);
        X509_set_pubkey(certificate, key);
        X509_NAME* name = X509_get_subject_name(certificate);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(common_name), -1,
                                   -1, 0);
    }

    EvpPkeyPtr ca_key_;
    X509Ptr ca_;
    long serial_ = 1;
};

}  // namespace tenantmail::testing
