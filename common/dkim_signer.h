// dkim_signer.h — DKIM signing (RFC 6376, rsa-sha256 per RFC 8301,
// ed25519-sha256 per RFC 8463), streaming as a milter sees a message.
// Refuses (Result error, nothing signed) a message without exactly one From
// field holding exactly one address, and bad options (no key, bad domain).
// Never writes l= or i=; one body hash shared by all signatures.
//
// Headers signed (names matched case-insensitively, written lowercase in h=;
// several instances are taken bottom-up as RFC 6376 5.4.2 says):
//   From                            always, and over-signed: listed once more
//                                   than present, so an added From breaks it
//   Reply-To Subject Date To Cc Message-ID MIME-Version Content-Type
//   Content-Transfer-Encoding In-Reply-To References List-Unsubscribe
//   List-Unsubscribe-Post Feedback-ID
//                                   each instance present, over-signed once
//   Sender List-Id Content-ID Content-Description
//                                   each instance present
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/body_hasher.h"
#include "common/dkim_canon.h"
#include "common/dkim_key.h"
#include "common/header_field.h"
#include "common/result.h"

namespace tenantmail {

struct SignerKey {
    const DkimKey* key = nullptr;  // not owned; must outlive the signer
    std::string selector;
};

struct SignOptions {
    std::string domain;                           // d=
    std::vector<SignerKey> keys;                  // one DKIM-Signature per key, in this order
    Canon header_canon = Canon::relaxed;
    Canon body_canon = Canon::relaxed;
    std::int64_t timestamp = 0;                   // t=; 0 means now
    std::optional<std::int64_t> expire_after;     // x = t + this, only when set
    // For reproducing published test vectors only: sign exactly these header
    // names (h=, in this order) instead of the policy above. The From checks
    // still apply.
    std::optional<std::vector<std::string>> header_list_override;
};

class DkimSigner {
public:
    explicit DkimSigner(SignOptions options);

    // One whole header field as received (name, colon, value, folding), no
    // final CRLF. A malformed field is remembered and makes finish() fail.
    void add_header(std::string_view raw_field);
    // The same for a field already checked by split_message/parse_header_field.
    void add_header(HeaderField field);
    // Body bytes in chunks of any size.
    void add_body(std::string_view chunk);
    // Complete "DKIM-Signature: ..." fields, one per key in key order, folded
    // with CRLF TAB into lines of at most 78 characters, no final CRLF.
    // Call once.
    Result<std::vector<std::string>> finish();

private:
    SignOptions options_;
    std::vector<HeaderField> headers_;
    BodyHasher body_;
    std::string header_error_;  // first malformed field, reported by finish()
    bool finished_ = false;
};

// Convenience over split_message for a whole message in memory.
Result<std::vector<std::string>> sign_message(std::string_view message, const SignOptions& options);

// ---- building blocks, public for tests and published-vector checks --------

// The From checks, then the h= names the policy above picks for these fields.
Result<std::vector<std::string>> choose_signed_headers(const std::vector<HeaderField>& headers);

// The data to be signed (RFC 6376 3.7): for each name in signed_names the
// next unused instance from the bottom (none left: nothing, which is what
// over-signing relies on), canonicalised, then the DKIM-Signature field
// itself, unsigned (its b= value empty), canonicalised without its final CRLF.
Result<std::string> signing_input(Canon header_canon, const std::vector<HeaderField>& headers,
                                  const std::vector<std::string>& signed_names,
                                  std::string_view unsigned_signature_field);

}  // namespace tenantmail
