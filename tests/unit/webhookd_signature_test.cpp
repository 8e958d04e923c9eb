// webhookd_signature_test.cpp — the webhook signature against vectors
// computed independently (Python's hmac module), and the secret file rules.
#include "webhookd/signature.h"

#include <gtest/gtest.h>

namespace tenantmail::webhookd {
namespace {

TEST(WebhookSignature, MatchesIndependentHmacSha256OverTimestampDotBody) {
    // hmac.new(b"0123456789abcdef0123456789abcdef",
    //          b'1700000000.{"events":[]}', hashlib.sha256).hexdigest()
    EXPECT_EQ(webhook_signature("0123456789abcdef0123456789abcdef", 1700000000, R"({"events":[]})"),
              "v1=df29826f9365a4c39eb569c867ae31fb39108dee0a0b3e4bcf09f11a0ba43081");
    // RFC 4231 test case 2's key and text, with "1." in front.
    EXPECT_EQ(webhook_signature("Jefe", 1, "what do ya want for nothing?"),
              "v1=a9049465ce89cfb8e9aac62333abda66f80e3403f51f57f6bae3c3a4485eca38");
}

TEST(WebhookSignature, ChangesWithTimestampBodyAndSecret) {
    const std::string base = webhook_signature("secret-secret-secret", 1700000000, "{}");
    EXPECT_NE(base, webhook_signature("secret-secret-secret", 1700000001, "{}"));
    EXPECT_NE(base, webhook_signature("secret-secret-secret", 1700000000, "{ }"));
    EXPECT_NE(base, webhook_signature("secret-secret-secreT", 1700000000, "{}"));
    EXPECT_EQ(base.size(), 3u + 64u);
}

TEST(WebhookSecret, TrailingNewlinesAreNotPartOfTheSecret) {
    auto secret = secret_from_file_content("0123456789abcdef\r\n\n", "webhook secret /s");
    ASSERT_TRUE(secret.ok()) << secret.error();
    EXPECT_EQ(*secret, "0123456789abcdef");
}

TEST(WebhookSecret, ShortSecretIsRefusedNamingTheFile) {
    auto secret = secret_from_file_content("short\n", "tenant acme: webhook secret /etc/acme.secret");
    ASSERT_FALSE(secret.ok());
    EXPECT_EQ(secret.error(),
              "tenant acme: webhook secret /etc/acme.secret holds 5 characters; at least 16 are needed (e.g. openssl "
              "rand -hex 32)");
}

}  // namespace
}  // namespace tenantmail::webhookd
