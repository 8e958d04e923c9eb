// body_hasher.cpp — canonical body bytes into one SHA-256 context.
// EVP_DigestUpdate costs a call and some bookkeeping each time; the
// canonicaliser already batches its small pieces, so every write here is
// either a long verbatim run (hashed in place, never copied) or a batch.
#include "common/body_hasher.h"

namespace tenantmail {
namespace {

// Fetched once: EVP_sha256() would look the implementation up again for
// every message. Null only if OpenSSL cannot provide SHA-256 at all.
const EVP_MD* sha256() {
    static const std::unique_ptr<EVP_MD, decltype(&EVP_MD_free)> md(EVP_MD_fetch(nullptr, "SHA256", nullptr),
                                                                    EVP_MD_free);
    return md.get();
}

}  // namespace

BodyHasher::BodyHasher(Canon canon) : canonicalizer_(canon) {}

void BodyHasher::update(std::string_view chunk) {
    if (finished_) return;  // a programming error; finish() already reported
    canonicalizer_.update(chunk, digest_);
}

Result<std::string> BodyHasher::finish() {
    if (finished_) return make_error("body hash already finished");
    finished_ = true;
    canonicalizer_.finish(digest_);
    return digest_.finish();
}

BodyHasher::Digest::Digest() : ctx_(EVP_MD_CTX_new()) {
    failed_ = !ctx_ || sha256() == nullptr || EVP_DigestInit_ex(ctx_.get(), sha256(), nullptr) != 1;
}

void BodyHasher::Digest::write(std::string_view bytes) {
    if (!failed_) failed_ = EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size()) != 1;
}

Result<std::string> BodyHasher::Digest::finish() {
    std::string digest(EVP_MAX_MD_SIZE, '\0');
    unsigned int length = 0;
    if (failed_ || EVP_DigestFinal_ex(ctx_.get(), reinterpret_cast<unsigned char*>(digest.data()), &length) != 1) {
        return make_error("SHA-256 of the message body failed inside OpenSSL");
    }
    digest.resize(length);
    return digest;
}

}  // namespace tenantmail
