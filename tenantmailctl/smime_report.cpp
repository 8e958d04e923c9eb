// smime_report.cpp — see smime_report.h.
#include "tenantmailctl/smime_report.h"

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include <ctime>

#include "common/openssl_handles.h"
#include "common/smime/smime_certificate.h"

namespace tenantmail::ctl {
namespace {

constexpr std::int64_t warn_seconds = 30 * 86400;

using X509StoreCtxPtr = CHandle<X509_STORE_CTX, X509_STORE_CTX_free>;

std::string name_text(const X509_NAME* name) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(length));
}

std::int64_t epoch(const ASN1_TIME* time) {
    struct tm parts {};
    if (ASN1_TIME_to_tm(time, &parts) != 1) return 0;
    return static_cast<std::int64_t>(timegm(&parts));
}

std::string date(std::int64_t seconds) {
    const auto t = static_cast<std::time_t>(seconds);
    struct tm parts {};
    gmtime_r(&t, &parts);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d", &parts);
    return text;
}

void verify_chain(SmimeCheck& check, const SmimeCertificate& certificate, const std::string& ca_file) {
    X509StorePtr store(X509_STORE_new());
    const bool loaded = ca_file.empty() ? X509_STORE_set_default_paths(store.get()) == 1
                                        : X509_STORE_load_file(store.get(), ca_file.c_str()) == 1;
    if (!loaded) {
        check.chain_error = "cannot read trust anchors from " + (ca_file.empty() ? std::string("the system store") : ca_file);
        ERR_clear_error();
        return;
    }
    STACK_OF(X509)* untrusted = sk_X509_new_null();
    for (const X509Ptr& link : certificate.chain()) sk_X509_push(untrusted, link.get());
    X509StoreCtxPtr context(X509_STORE_CTX_new());
    X509_STORE_CTX_init(context.get(), store.get(), certificate.certificate(), untrusted);
    X509_STORE_CTX_set_purpose(context.get(), X509_PURPOSE_SMIME_SIGN);
    check.chain_ok = X509_verify_cert(context.get()) == 1;
    if (!check.chain_ok) check.chain_error = X509_verify_cert_error_string(X509_STORE_CTX_get_error(context.get()));
    sk_X509_free(untrusted);  // the certificates stay owned by the chain
    ERR_clear_error();
}

}  // namespace

std::vector<SmimeCheck> check_smime(const Tenant& tenant, const std::string& ca_file, std::int64_t now) {
    std::vector<SmimeCheck> checks;
    for (const SmimeSender& entry : tenant.smime) {
        SmimeCheck check;
        check.sender = entry.sender;
        check.path = entry.path;
        auto certificate = SmimeCertificate::load_file(entry.path, entry.sender, now);
        if (!certificate) {
            check.load_error = certificate.error();
            checks.push_back(std::move(check));
            continue;
        }
        X509* x509 = certificate->certificate();
        check.subject = name_text(X509_get_subject_name(x509));
        check.issuer = name_text(X509_get_issuer_name(x509));
        check.addresses = certificate->addresses();
        check.not_before = epoch(X509_get0_notBefore(x509));
        check.not_after = epoch(X509_get0_notAfter(x509));
        check.expires_soon = check.not_after - now < warn_seconds;
        verify_chain(check, *certificate, ca_file);
        checks.push_back(std::move(check));
    }
    return checks;
}

std::string render_smime_text(const std::string& tenant, const std::vector<SmimeCheck>& checks) {
    std::string out;
    if (checks.empty()) return tenant + ": no S/MIME certificates (tenants.conf smime)\n";
    for (const SmimeCheck& check : checks) {
        out += tenant + " " + check.sender + " " + check.path + "\n";
        if (!check.load_error.empty()) {
            out += "  error: " + check.load_error + "\n";
            continue;
        }
        out += "  subject: " + check.subject + "\n  issuer: " + check.issuer + "\n  addresses:";
        for (const std::string& address : check.addresses) out += " " + address;
        out += "\n  key matches the certificate; extended key usage allows emailProtection\n";
        out += "  valid " + date(check.not_before) + " to " + date(check.not_after) + "\n";
        if (check.expires_soon) out += "  warning: expires within 30 days, on " + date(check.not_after) + "\n";
        out += check.chain_ok ? "  chain: verifies to a trust anchor\n" : "  error: chain: " + check.chain_error + "\n";
    }
    return out;
}

nlohmann::json smime_json(const std::string& tenant, const std::vector<SmimeCheck>& checks) {
    nlohmann::json list = nlohmann::json::array();
    for (const SmimeCheck& check : checks) {
        nlohmann::json item = {{"sender", check.sender}, {"path", check.path}, {"ok", check.ok()}};
        if (!check.load_error.empty()) {
            item["error"] = check.load_error;
        } else {
            item["subject"] = check.subject;
            item["issuer"] = check.issuer;
            item["addresses"] = check.addresses;
            item["not_before"] = date(check.not_before);
            item["not_after"] = date(check.not_after);
            item["expires_within_30_days"] = check.expires_soon;
            item["chain_ok"] = check.chain_ok;
            if (!check.chain_ok) item["chain_error"] = check.chain_error;
        }
        list.push_back(std::move(item));
    }
    return {{"tenant", tenant}, {"certificates", list}};
}

}  // namespace tenantmail::ctl
