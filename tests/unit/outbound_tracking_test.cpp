// outbound_tracking_test.cpp — tracking in the milter's per-message logic:
// the body held and rewritten before signing, List-Unsubscribe and
// List-Unsubscribe-Post added for one recipient, Feedback-ID replaced, and
// the signature made over what is sent (body hash of the new body; the new
// fields signed and over-signed).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/base64.h"
#include "common/body_hasher.h"
#include "milter/outbound_message.h"

namespace tenantmail::milter {
namespace {

constexpr std::int64_t now = 1795400000;

const std::string html_body =
    "<html><body><a href=\"https://careers.uni.example/jobs\">Jobs</a>"
    "<a href=\"https://careers.uni.example/own-unsub\">Leave</a></body></html>\r\n";

class OutboundTrackingTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        char pattern[] = "/tmp/tm-outbound-tracking-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        dir_ = pattern;
        auto key = DkimKey::generate(KeyAlgorithm::rsa);
        ASSERT_TRUE(key.ok());
        ASSERT_TRUE(key->write_private_pem(dir_ + "/acme.pem").ok());
        write_file("bounce.secret", std::string(64, 'k'));
        write_file("tracking.secret", std::string(64, 't'));
        write_file("tenants.conf",
                   "[acme]\ndomains = careers.uni.example\nselector = a1\nkey = " + dir_ +
                       "/acme.pem\nbounce_domain = mta.careers.uni.example\nsasl_users = acme-bulk acme-tx:transactional\n"
                       "tracking_domain = click.careers.uni.example\nfeedback_id = acme-fbl\n");
        settings_.common.tenants_file = dir_ + "/tenants.conf";
        settings_.common.bounce_secret_file = dir_ + "/bounce.secret";
        settings_.common.tracking_secret_file = dir_ + "/tracking.secret";
        auto table = SigningTable::load(settings_.common.tenants_file, settings_.common.bounce_secret_file,
                                        settings_.common.tracking_secret_file, "");
        ASSERT_TRUE(table.ok()) << table.error();
        table_ = std::move(table).value();
    }
    static void TearDownTestSuite() {
        table_.reset();
        std::filesystem::remove_all(dir_);
    }
    static void write_file(const std::string& name, const std::string& content) {
        const std::string path = dir_ + "/" + name;
        std::ofstream(path) << content;
        ::chmod(path.c_str(), 0600);
    }

    // A message through the milter's logic: headers, body, end.
    static MessageOutcome run(std::string_view login, std::initializer_list<std::string> fields, const std::string& body,
                              const std::vector<std::string>& recipients = {"jane@example.org"},
                              const MilterSettings& settings = settings_) {
        OutboundMessage m(table_, settings, *table_->registry().by_sasl_user(login));
        for (const std::string& field : fields) m.add_header(field);
        EXPECT_FALSE(m.end_of_headers(now).has_value());
        for (std::size_t at = 0; at < body.size(); at += 7) m.add_body(std::string_view(body).substr(at, 7));
        auto outcome = m.end_of_message("4QID", now, recipients);
        EXPECT_TRUE(outcome.ok()) << outcome.error();
        return std::move(outcome).value();
    }

    static std::vector<const HeaderChange*> changes_named(const MessageOutcome& outcome, std::string_view name) {
        std::vector<const HeaderChange*> found;
        for (const HeaderChange& change : outcome.changes) {
            if (change.name == name) found.push_back(&change);
        }
        return found;
    }

    static std::string tag(std::string value, std::string_view name) {
        std::erase_if(value, [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
        const std::string key = ";" + std::string(name) + "=";
        value = ";" + value;
        const std::size_t at = value.find(key);
        if (at == std::string::npos) return {};
        const std::size_t end = value.find(';', at + key.size());
        return value.substr(at + key.size(), end == std::string::npos ? std::string::npos : end - at - key.size());
    }

    static std::string body_hash(const std::string& body) {
        BodyHasher hasher(Canon::relaxed);
        hasher.update(body);
        return base64_encode(*hasher.finish());
    }

    static inline std::string dir_;
    static inline MilterSettings settings_;
    static inline std::shared_ptr<const SigningTable> table_;
};

const std::initializer_list<std::string> html_fields = {
    "From: jane@careers.uni.example", "To: someone@example.org", "Subject: jobs", "Message-ID: <1@careers.uni.example>",
    "MIME-Version: 1.0", "Content-Type: text/html; charset=utf-8",
    "List-Unsubscribe: <https://careers.uni.example/own-unsub>"};

TEST_F(OutboundTrackingTest, BulkHtmlIsRewrittenAndTheSignatureCoversTheNewBody) {
    const MessageOutcome outcome = run("acme-bulk", html_fields, html_body);
    ASSERT_TRUE(outcome.new_body);
    const std::string& body = *outcome.new_body;
    EXPECT_EQ(body.find("href=\"https://careers.uni.example/jobs\""), std::string::npos) << body;
    EXPECT_NE(body.find("href=\"https://click.careers.uni.example/c/"), std::string::npos) << body;
    EXPECT_NE(body.find("<img src=\"https://click.careers.uni.example/o/"), std::string::npos) << body;
    // The tenant's own unsubscribe link stays, and so does its List-Unsubscribe.
    EXPECT_NE(body.find("href=\"https://careers.uni.example/own-unsub\""), std::string::npos) << body;
    EXPECT_TRUE(changes_named(outcome, "List-Unsubscribe").empty());

    // The click token takes the reader to the original URL, names message and recipient.
    const std::size_t at = body.find("/c/") + 3;
    const std::string token = body.substr(at, body.find('"', at) - at);
    auto link = table_->tracking_codec()->decode(token);
    ASSERT_TRUE(link.ok()) << link.error();
    EXPECT_EQ(link->url, "https://careers.uni.example/jobs");
    EXPECT_EQ(link->tenant, "acme");
    EXPECT_EQ(link->queue_id, "4QID");
    EXPECT_EQ(link->recipient, "jane@example.org");

    const auto signatures = changes_named(outcome, "DKIM-Signature");
    ASSERT_EQ(signatures.size(), 1u);
    EXPECT_EQ(tag(signatures[0]->value, "bh"), body_hash(body));
    EXPECT_NE(tag(signatures[0]->value, "h").find("feedback-id:feedback-id"), std::string::npos);
    EXPECT_NE(outcome.log_summary.find("tracked (html-parts=1 links=1 pixel)"), std::string::npos)
        << outcome.log_summary;
}

TEST_F(OutboundTrackingTest, OneRecipientGetsTheRfc8058PairSignedAndOverSigned) {
    const MessageOutcome outcome = run("acme-bulk", {"From: jane@careers.uni.example", "Content-Type: text/plain"},
                                       "hello\r\n");
    EXPECT_FALSE(outcome.new_body);
    const auto unsubscribe = changes_named(outcome, "List-Unsubscribe");
    ASSERT_EQ(unsubscribe.size(), 1u);
    const std::string& value = unsubscribe[0]->value;
    EXPECT_EQ(value.rfind(" <https://click.careers.uni.example/u/", 0), 0u) << value;
    const std::size_t at = value.find("/u/") + 3;
    const std::string token = value.substr(at, value.find('>', at) - at);
    EXPECT_NE(value.find("<mailto:unsubscribe+" + token + "@mta.careers.uni.example>"), std::string::npos) << value;
    auto link = table_->tracking_codec()->decode(token);
    ASSERT_TRUE(link.ok());
    EXPECT_EQ(link->kind, TrackingLinkKind::unsubscribe);
    EXPECT_EQ(link->recipient, "jane@example.org");
    const auto post = changes_named(outcome, "List-Unsubscribe-Post");
    ASSERT_EQ(post.size(), 1u);
    EXPECT_EQ(post[0]->value, " List-Unsubscribe=One-Click");
    const std::string h = tag(changes_named(outcome, "DKIM-Signature")[0]->value, "h");
    EXPECT_NE(h.find("list-unsubscribe:list-unsubscribe:list-unsubscribe-post:list-unsubscribe-post"),
              std::string::npos)
        << h;
}

TEST_F(OutboundTrackingTest, SeveralRecipientsGetMessageOnlyLinksAndNoUnsubscribeHeaders) {
    const MessageOutcome outcome = run("acme-bulk", {"From: jane@careers.uni.example", "Content-Type: text/html"},
                                       html_body, {"a@example.org", "b@example.org"});
    EXPECT_TRUE(changes_named(outcome, "List-Unsubscribe").empty());
    ASSERT_TRUE(outcome.new_body);
    const std::size_t at = outcome.new_body->find("/c/") + 3;
    auto link = table_->tracking_codec()->decode(outcome.new_body->substr(at, outcome.new_body->find('"', at) - at));
    ASSERT_TRUE(link.ok());
    EXPECT_EQ(link->recipient, "");
    EXPECT_NE(outcome.log_summary.find("no-list-unsubscribe (2 recipients)"), std::string::npos);
    EXPECT_NE(outcome.log_summary.find("links-name-message-only"), std::string::npos);
}

TEST_F(OutboundTrackingTest, TransactionalMailIsNotTrackedByDefault) {
    const MessageOutcome outcome = run("acme-tx", {"From: jane@careers.uni.example", "Content-Type: text/html"},
                                       html_body);
    EXPECT_FALSE(outcome.new_body);
    EXPECT_TRUE(changes_named(outcome, "List-Unsubscribe").empty());
    EXPECT_EQ(tag(changes_named(outcome, "DKIM-Signature")[0]->value, "bh"), body_hash(html_body));
    const auto feedback = changes_named(outcome, "Feedback-ID");
    ASSERT_EQ(feedback.size(), 1u);
    EXPECT_EQ(feedback[0]->value, " transactional:acme:acme-fbl");
}

TEST_F(OutboundTrackingTest, AClientsFeedbackIdsAreReplacedByExactlyOne) {
    const MessageOutcome outcome =
        run("acme-bulk", {"From: jane@careers.uni.example", "Feedback-ID: x:y:z", "Feedback-ID: a:b"}, "hi\r\n");
    const auto feedback = changes_named(outcome, "Feedback-ID");
    ASSERT_EQ(feedback.size(), 2u);
    EXPECT_EQ(feedback[0]->kind, HeaderChange::Kind::replace);
    EXPECT_EQ(feedback[0]->value, " bulk:acme:acme-fbl");
    EXPECT_EQ(feedback[1]->kind, HeaderChange::Kind::remove);
    EXPECT_EQ(feedback[1]->occurrence, 2);
    // Signed as sent: one instance, over-signed.
    const std::string h = tag(changes_named(outcome, "DKIM-Signature")[0]->value, "h");
    EXPECT_NE(h.find("feedback-id:feedback-id"), std::string::npos);
    EXPECT_EQ(h.find("feedback-id:feedback-id:feedback-id"), std::string::npos);
}

TEST_F(OutboundTrackingTest, ABodyOverTheLimitIsSignedAsItCameAndLogged) {
    MilterSettings small = settings_;
    small.tracking_max_octets = 64;
    const MessageOutcome outcome =
        run("acme-bulk", {"From: jane@careers.uni.example", "Content-Type: text/html"}, html_body, {"j@example.org"}, small);
    EXPECT_FALSE(outcome.new_body);
    EXPECT_EQ(tag(changes_named(outcome, "DKIM-Signature")[0]->value, "bh"), body_hash(html_body));
    EXPECT_NE(outcome.log_summary.find("untracked (body over tracking_max_kb"), std::string::npos)
        << outcome.log_summary;
}

}  // namespace
}  // namespace tenantmail::milter
