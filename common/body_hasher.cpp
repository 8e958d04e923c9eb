// body_hasher.cpp — canonical body bytes into one SHA-256 context.
// EVP_DigestUpdate costs a call and some bookkeeping each time, so the tiny
// writes the canonicaliser makes at whitespace and line ends are gathered
// and long verbatim runs are hashed in place, never copied.
#include "common/body_hasher.h"

namespace tenantmail {
namespace {

constexpr std::size_t staging_capacity = 4096;
// Runs at least this long skip the staging buffer: copying them would cost
// more than the extra update call saves.
constexpr std::size_t direct_threshold = 512;

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
    failed_ = !ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1;
    staging_.reserve(staging_capacity);
}

void BodyHasher::Digest::write(std::string_view bytes) {
    if (bytes.size() >= direct_threshold) {
        flush();
        if (!failed_) failed_ = EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size()) != 1;
        return;
    }
    if (staging_.size() + bytes.size() > staging_capacity) flush();
    staging_.append(bytes);
}

void BodyHasher::Digest::flush() {
    if (!staging_.empty() && !failed_) {
        failed_ = EVP_DigestUpdate(ctx_.get(), staging_.data(), staging_.size()) != 1;
    }
    staging_.clear();
}

Result<std::string> BodyHasher::Digest::finish() {
    flush();
    std::string digest(EVP_MAX_MD_SIZE, '\0');
    unsigned int length = 0;
    if (failed_ || EVP_DigestFinal_ex(ctx_.get(), reinterpret_cast<unsigned char*>(digest.data()), &length) != 1) {
        return make_error("SHA-256 of the message body failed inside OpenSSL");
    }
    digest.resize(length);
    return digest;
}

}  // namespace tenantmail
