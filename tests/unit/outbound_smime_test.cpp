// outbound_smime_test.cpp — S/MIME in the milter's per-message logic: the
// body made 7-bit and signed for a From with a certificate, the top-level
// MIME fields replaced, DKIM computed over the signed body; mail already
// signed, classes switched off and other senders left alone; a body over
// the bound is a signing failure, never an unsigned message.
#include <gtest/gtest.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>

#include "common/base64.h"
#include "common/body_hasher.h"
#include "milter/outbound_message.h"
#include "tests/unit/smime_test_pki.h"

namespace tenantmail::milter {
namespace {

const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));

class OutboundSmimeTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        char pattern[] = "/tmp/tm-outbound-smime-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        dir_ = pattern;
        pki_ = std::make_unique<testing::TestPki>();
        auto key = DkimKey::generate(KeyAlgorithm::rsa);
        ASSERT_TRUE(key.ok());
        ASSERT_TRUE(key->write_private_pem(dir_ + "/acme.pem").ok());
        EvpPkeyPtr smime_key = testing::make_ec_key();
        write_file("noreply.pem", pki_->signer_file(smime_key.get(), {{"noreply@careers.uni.example"}}));
        write_file("domain.pem", pki_->signer_file(smime_key.get(), {{"jobs.careers.uni.example"}}));
        write_file("bounce.secret", std::string(64, 'k'));
        write_file("tenants.conf",
                   "[acme]\ndomains = careers.uni.example\nselector = a1\nkey = " + dir_ +
                       "/acme.pem\nbounce_domain = mta.careers.uni.example\nsasl_users = acme-bulk acme-tx:transactional\n"
                       "smime = noreply@careers.uni.example:" + dir_ + "/noreply.pem, @jobs.careers.uni.example:" + dir_ +
                       "/domain.pem\nsmime_classes = transactional\n");
        settings_.common.tenants_file = dir_ + "/tenants.conf";
        settings_.common.bounce_secret_file = dir_ + "/bounce.secret";
        auto table = SigningTable::load(settings_.common.tenants_file, settings_.common.bounce_secret_file, "", "");
        ASSERT_TRUE(table.ok()) << table.error();
        table_ = std::move(table).value();
    }
    static void TearDownTestSuite() {
        table_.reset();
        pki_.reset();
        std::filesystem::remove_all(dir_);
    }
    static void write_file(const std::string& name, const std::string& content) {
        const std::string path = dir_ + "/" + name;
        std::ofstream(path) << content;
        ::chmod(path.c_str(), 0600);
    }

    static Result<MessageOutcome> run(std::string_view login, std::initializer_list<std::string> fields,
                                      const std::string& body, const MilterSettings& settings = settings_) {
        OutboundMessage m(table_, settings, *table_->registry().by_sasl_user(login));
        for (const std::string& field : fields) m.add_header(field);
        EXPECT_FALSE(m.end_of_headers(now).has_value());
        for (std::size_t at = 0; at < body.size(); at += 7) m.add_body(std::string_view(body).substr(at, 7));
        return m.end_of_message("4QID", now, {"jane@example.org"});
    }

    static std::vector<const HeaderChange*> changes_named(const MessageOutcome& outcome, std::string_view name) {
        std::vector<const HeaderChange*> found;
        for (const HeaderChange& change : outcome.changes) {
            if (change.name == name) found.push_back(&change);
        }
        return found;
    }

    static std::string body_hash_tag(const MessageOutcome& outcome) {
        std::string value = changes_named(outcome, "DKIM-Signature").at(0)->value;
        std::erase_if(value, [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
        const std::size_t at = value.find(";bh=") + 4;
        return value.substr(at, value.find(';', at) - at);
    }

    static std::string body_hash(const std::string& body) {
        BodyHasher hasher(Canon::relaxed);
        hasher.update(body);
        return base64_encode(*hasher.finish());
    }

    // What a recipient does with the delivered message.
    static bool verifies(const MessageOutcome& outcome) {
        const std::string message =
            "MIME-Version: 1.0\r\nContent-Type:" + changes_named(outcome, "Content-Type").at(0)->value + "\r\n\r\n" +
            *outcome.new_body;
        BioPtr in(BIO_new_mem_buf(message.data(), static_cast<int>(message.size())));
        BIO* content = nullptr;
        CmsContentInfoPtr cms(SMIME_read_CMS(in.get(), &content));
        BioPtr content_owner(content);
        if (!cms || content == nullptr) return false;
        X509StorePtr store(X509_STORE_new());
        X509_STORE_add_cert(store.get(), pki_->ca());
        const bool ok = CMS_verify(cms.get(), nullptr, store.get(), content, nullptr, CMS_BINARY) == 1;
        ERR_clear_error();
        return ok;
    }

    static inline std::string dir_;
    static inline MilterSettings settings_;
    static inline std::shared_ptr<const SigningTable> table_;
    static inline std::unique_ptr<testing::TestPki> pki_;
};

TEST_F(OutboundSmimeTest, TransactionalMailFromACertifiedAddressIsSignedThenDkimSigned) {
    auto outcome = run("acme-tx",
                       {"From: NoReply@careers.uni.example", "Subject: receipt", "MIME-Version: 1.0",
                        "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"},
                       "Gr\xc3\xbc\xc3\x9f" "e\r\n");
    ASSERT_TRUE(outcome.ok()) << outcome.error();
    ASSERT_TRUE(outcome->new_body);
    EXPECT_TRUE(verifies(*outcome));
    const auto type = changes_named(*outcome, "Content-Type");
    ASSERT_EQ(type.size(), 1u);
    EXPECT_EQ(type[0]->kind, HeaderChange::Kind::replace);
    EXPECT_NE(type[0]->value.find("multipart/signed"), std::string::npos);
    const auto encoding = changes_named(*outcome, "Content-Transfer-Encoding");
    ASSERT_EQ(encoding.size(), 1u);
    EXPECT_EQ(encoding[0]->value, " 7bit");
    EXPECT_EQ(body_hash_tag(*outcome), body_hash(*outcome->new_body));
    EXPECT_NE(outcome->log_summary.find("smime (noreply@careers.uni.example)"), std::string::npos)
        << outcome->log_summary;
}

TEST_F(OutboundSmimeTest, DomainEntryCoversEveryAddressOfTheDomainAndMissingFieldsAreAdded) {
    auto outcome = run("acme-tx", {"From: anyone@jobs.careers.uni.example"}, "hello\r\n");
    ASSERT_TRUE(outcome.ok()) << outcome.error();
    ASSERT_TRUE(outcome->new_body);
    EXPECT_TRUE(verifies(*outcome));
    EXPECT_EQ(changes_named(*outcome, "MIME-Version").at(0)->kind, HeaderChange::Kind::append);
    EXPECT_EQ(changes_named(*outcome, "Content-Type").at(0)->kind, HeaderChange::Kind::append);
    EXPECT_NE(outcome->log_summary.find("smime (@jobs.careers.uni.example)"), std::string::npos);
}

TEST_F(OutboundSmimeTest, ClassWithoutSmimeAndAddressWithoutCertificateAreLeftAlone) {
    auto bulk = run("acme-bulk", {"From: noreply@careers.uni.example", "Content-Type: text/plain"}, "hi\r\n");
    ASSERT_TRUE(bulk.ok()) << bulk.error();
    EXPECT_FALSE(bulk->new_body);
    auto other = run("acme-tx", {"From: jane@careers.uni.example", "Content-Type: text/plain"}, "hi\r\n");
    ASSERT_TRUE(other.ok()) << other.error();
    EXPECT_FALSE(other->new_body);
    EXPECT_EQ(body_hash_tag(*other), body_hash("hi\r\n"));
}

TEST_F(OutboundSmimeTest, AlreadySignedMailPassesAsItCame) {
    const std::string body = "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b\r\nContent-Type: "
                             "application/pkcs7-signature\r\n\r\nAAAA\r\n--b--\r\n";
    auto outcome = run("acme-tx",
                       {"From: noreply@careers.uni.example",
                        "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=b"},
                       body);
    ASSERT_TRUE(outcome.ok()) << outcome.error();
    EXPECT_FALSE(outcome->new_body);
    EXPECT_TRUE(changes_named(*outcome, "Content-Type").empty());
    EXPECT_EQ(body_hash_tag(*outcome), body_hash(body));
    EXPECT_NE(outcome->log_summary.find("no-smime (already signed or encrypted)"), std::string::npos);
}

TEST_F(OutboundSmimeTest, BodyOverTheBoundIsASigningFailureNotAnUnsignedMessage) {
    MilterSettings small = settings_;
    small.smime_max_octets = 64;
    auto outcome = run("acme-tx", {"From: noreply@careers.uni.example"}, std::string(200, 'x') + "\r\n", small);
    ASSERT_FALSE(outcome.ok());
    EXPECT_NE(outcome.error().find("smime_max_kb"), std::string::npos) << outcome.error();

    small.error_action = ErrorAction::accept;
    auto accepted = run("acme-tx", {"From: noreply@careers.uni.example"}, std::string(200, 'x') + "\r\n", small);
    ASSERT_TRUE(accepted.ok()) << accepted.error();
    EXPECT_FALSE(accepted->new_body);
    EXPECT_NE(accepted->log_summary.find("smime-failed (body over smime_max_kb"), std::string::npos)
        << accepted->log_summary;
}

TEST_F(OutboundSmimeTest, BodyThatCannotBeMadeSevenBitIsASigningFailure) {
    auto outcome = run("acme-tx", {"From: noreply@careers.uni.example", "Content-Type: multipart/mixed"},
                       "no boundary at all\r\n");
    ASSERT_FALSE(outcome.ok());
    EXPECT_NE(outcome.error().find("no boundary"), std::string::npos) << outcome.error();
}

}  // namespace
}  // namespace tenantmail::milter
