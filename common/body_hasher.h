// body_hasher.h — streaming DKIM body canonicalisation and SHA-256 (the bh=
// value, RFC 6376 3.7). Fed arbitrary chunks; the result does not depend on
// where chunks split. Never buffers the body: the canonicaliser hands over
// long runs as they are and batches short pieces (at most 4 KB) itself.
// Fails only if OpenSSL does (allocation); finish() then reports it.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <openssl/evp.h>

#include "common/dkim_canon.h"
#include "common/openssl_handles.h"
#include "common/result.h"

namespace tenantmail {

class BodyHasher {
public:
    explicit BodyHasher(Canon canon);

    void update(std::string_view chunk);
    // The 32-byte SHA-256 of the canonical body. Call once.
    Result<std::string> finish();

private:
    // Adapter handed to the canonicaliser; a member so BodyHasher stays movable
    // (the canonicaliser keeps no pointer to it between calls).
    class Digest final : public BodySink {
    public:
        Digest();
        void write(std::string_view bytes) override;
        Result<std::string> finish();

    private:
        EvpMdCtxPtr ctx_;
        bool failed_ = false;
    };

    BodyCanonicalizer canonicalizer_;
    Digest digest_;
    bool finished_ = false;
};

}  // namespace tenantmail
