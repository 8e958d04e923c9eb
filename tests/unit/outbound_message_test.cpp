#include "milter/outbound_message.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/header_fold.h"
#include "common/mailbox.h"

namespace tenantmail::milter {
namespace {

constexpr std::int64_t now = 1795400000;

// A tenants file with a signing tenant, a second tenant, a rewrite-only
// tenant and the platform, with freshly generated keys, in a temp dir.
class OutboundMessageTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        char pattern[] = "/tmp/tm-outbound-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        dir_ = pattern;
        write_key("acme.rsa.pem", KeyAlgorithm::rsa);
        write_key("acme.ed.pem", KeyAlgorithm::ed25519);
        write_key("beta.rsa.pem", KeyAlgorithm::rsa);
        write_key("plat.rsa.pem", KeyAlgorithm::rsa);
        write_file("bounce.secret", std::string(64, 'k'));
        write_file("tenants.conf",
                   "[acme]\ndomains = careers.uni.example\nselector = a1\nkey = " + dir_ +
                       "/acme.rsa.pem\ned25519_selector = a2\ned25519_key = " + dir_ +
                       "/acme.ed.pem\nbounce_domain = mta.careers.uni.example\nsasl_users = acme-bulk\n"
                       "[beta]\ndomains = beta.example\nselector = b1\nkey = " + dir_ +
                       "/beta.rsa.pem\nbounce_domain = mta.beta.example\nsasl_users = beta\n"
                       "[rewrite]\ndomains = someuni.example\nfrom_rewrite = someuni@platform.example\n"
                       "sasl_users = rw\n"
                       "[platform]\ndomains = platform.example\nselector = p1\nkey = " + dir_ +
                       "/plat.rsa.pem\nbounce_domain = bounces.platform.example\n");
        settings_.common.tenants_file = dir_ + "/tenants.conf";
        settings_.common.bounce_secret_file = dir_ + "/bounce.secret";
        settings_.platform_tenant = "platform";
        auto table = SigningTable::load(settings_.common.tenants_file, settings_.common.bounce_secret_file,
                                        settings_.common.tracking_secret_file, settings_.platform_tenant);
        ASSERT_TRUE(table.ok()) << table.error();
        table_ = std::move(table).value();
    }
    static void TearDownTestSuite() {
        table_.reset();
        std::filesystem::remove_all(dir_);
    }

    static void write_key(const std::string& name, KeyAlgorithm algorithm) {
        auto key = DkimKey::generate(algorithm);
        ASSERT_TRUE(key.ok());
        ASSERT_TRUE(key->write_private_pem(dir_ + "/" + name).ok());
    }
    static void write_file(const std::string& name, const std::string& content) {
        const std::string path = dir_ + "/" + name;
        std::ofstream(path) << content;
        ::chmod(path.c_str(), 0600);
    }

    OutboundMessage message(std::string_view login, bool null_sender = false) const {
        return OutboundMessage(table_, settings_, *table_->registry().by_sasl_user(login), null_sender);
    }

    // A signed message whose body arrives in the given chunks.
    std::optional<SmtpReply> body_check(std::initializer_list<std::string> chunks) const {
        auto m = message("acme-bulk");
        m.add_header("From: jane@careers.uni.example");
        EXPECT_FALSE(m.end_of_headers(now).has_value());
        for (const std::string& chunk : chunks) m.add_body(chunk);
        return m.check_body();
    }

    static void add_headers(OutboundMessage& message, std::initializer_list<std::string> fields) {
        for (const std::string& field : fields) message.add_header(field);
    }

    static const HeaderChange* find_change(const MessageOutcome& outcome, std::string_view name) {
        for (const HeaderChange& change : outcome.changes) {
            if (change.name == name) return &change;
        }
        return nullptr;
    }

    static inline std::string dir_;
    static inline MilterSettings settings_;
    static inline std::shared_ptr<const SigningTable> table_;
};

TEST_F(OutboundMessageTest, SignsOwnDomainWithEveryTenantKeyAndRewritesEnvelope) {
    auto m = message("acme-bulk");
    add_headers(m, {"From: Jane <jane@careers.uni.example>", "To: a@example.org", "Subject: hi",
                    "Message-ID: <1@careers.uni.example>"});
    ASSERT_FALSE(m.end_of_headers(now).has_value());
    m.add_body("hello\r\n");
    auto outcome = m.end_of_message("4ABCDEF", now);
    ASSERT_TRUE(outcome.ok()) << outcome.error();
    ASSERT_EQ(outcome->changes.size(), 2u);
    for (const HeaderChange& change : outcome->changes) {
        EXPECT_EQ(change.kind, HeaderChange::Kind::insert_at_top);
        EXPECT_EQ(change.name, "DKIM-Signature");
        EXPECT_NE(change.value.find("d=careers.uni.example"), std::string::npos);
    }
    EXPECT_NE(outcome->changes[0].value.find("a=rsa-sha256"), std::string::npos);
    EXPECT_NE(outcome->changes[1].value.find("a=ed25519-sha256"), std::string::npos);
    std::vector<std::string> tenant_ids;
    for (const Tenant& tenant : table_->registry().tenants()) tenant_ids.push_back(tenant.id);
    const auto token = table_->bounce_codec().decode(outcome->envelope_from, now, 86400, tenant_ids);
    ASSERT_TRUE(token.ok()) << outcome->envelope_from;
    EXPECT_EQ(token->queue_id, "4ABCDEF");
    EXPECT_EQ(token->tenant, m.tenant().id);  // the tenant travels in the token
    EXPECT_NE(outcome->envelope_from.find("@mta.careers.uni.example"), std::string::npos);
}

TEST_F(OutboundMessageTest, SubdomainOfOwnDomainSignsWithTheConfiguredDomain) {
    auto m = message("acme-bulk");
    add_headers(m, {"From: news@lists.careers.uni.example", "Message-ID: <1@x>"});
    ASSERT_FALSE(m.end_of_headers(now).has_value());
    auto outcome = m.end_of_message("Q1", now);
    ASSERT_TRUE(outcome.ok());
    EXPECT_NE(outcome->changes[0].value.find("d=careers.uni.example;"), std::string::npos);
}

TEST_F(OutboundMessageTest, RefusesAnotherTenantsDomainAndForeignDomains) {
    for (const char* from : {"From: x@beta.example", "From: x@sub.beta.example", "From: x@gmail.example",
                             "From: x@uni.example"}) {
        auto m = message("acme-bulk");
        add_headers(m, {from});
        const auto refusal = m.end_of_headers(now);
        ASSERT_TRUE(refusal.has_value()) << from;
        EXPECT_EQ(refusal->rcode, "550");
        EXPECT_EQ(refusal->xcode, "5.7.1");
        EXPECT_NE(refusal->text.find("tenant acme may not send as"), std::string::npos) << refusal->text;
    }
}

TEST_F(OutboundMessageTest, RefusesZeroOrSeveralFromFieldsAndSeveralAddresses) {
    const std::vector<std::vector<std::string>> cases = {
        {"Subject: no from"},
        {"From: a@careers.uni.example", "From: b@careers.uni.example"},
        {"From: a@careers.uni.example, b@careers.uni.example"},
        {"From: undisclosed:;"},
    };
    for (const auto& headers : cases) {
        auto m = message("acme-bulk");
        for (const std::string& field : headers) m.add_header(field);
        const auto refusal = m.end_of_headers(now);
        ASSERT_TRUE(refusal.has_value()) << headers.front();
        EXPECT_EQ(refusal->rcode + " " + refusal->xcode, "550 5.7.1");
    }
}

TEST_F(OutboundMessageTest, AddsMessageIdOnTheSigningDomainWhenMissing) {
    auto m = message("acme-bulk");
    add_headers(m, {"From: jane@careers.uni.example"});
    ASSERT_FALSE(m.end_of_headers(now).has_value());
    auto outcome = m.end_of_message("Q1", now);
    ASSERT_TRUE(outcome.ok());
    const HeaderChange* id = find_change(*outcome, "Message-ID");
    ASSERT_NE(id, nullptr);
    EXPECT_EQ(id->kind, HeaderChange::Kind::append);
    EXPECT_NE(id->value.find("@careers.uni.example>"), std::string::npos);
    EXPECT_NE(find_change(*outcome, "DKIM-Signature")->value.find("message-id"), std::string::npos);
}

TEST_F(OutboundMessageTest, RewritesFromForTenantWithoutKeyAndSignsAsPlatform) {
    auto m = message("rw");
    add_headers(m, {"From: \"Jane Doe\" <jane@someuni.example>", "Message-ID: <1@x>"});
    ASSERT_FALSE(m.end_of_headers(now).has_value());
    auto outcome = m.end_of_message("Q1", now);
    ASSERT_TRUE(outcome.ok()) << outcome.error();
    const HeaderChange* from = find_change(*outcome, "From");
    ASSERT_NE(from, nullptr);
    EXPECT_EQ(from->kind, HeaderChange::Kind::replace);
    EXPECT_EQ(from->value, " \"Jane Doe via rewrite\" <someuni@platform.example>");
    const HeaderChange* reply_to = find_change(*outcome, "Reply-To");
    ASSERT_NE(reply_to, nullptr);
    EXPECT_EQ(reply_to->value, " \"Jane Doe\" <jane@someuni.example>");
    const HeaderChange* signature = find_change(*outcome, "DKIM-Signature");
    ASSERT_NE(signature, nullptr);
    EXPECT_NE(signature->value.find("d=platform.example;"), std::string::npos);
    EXPECT_NE(outcome->envelope_from.find("@bounces.platform.example"), std::string::npos);
}

TEST_F(OutboundMessageTest, RewriteKeepsAnExistingReplyTo) {
    auto m = message("rw");
    add_headers(m, {"From: jane@someuni.example", "Reply-To: office@someuni.example", "Message-ID: <1@x>"});
    ASSERT_FALSE(m.end_of_headers(now).has_value());
    auto outcome = m.end_of_message("Q1", now);
    ASSERT_TRUE(outcome.ok());
    EXPECT_EQ(find_change(*outcome, "Reply-To"), nullptr);
    EXPECT_EQ(find_change(*outcome, "From")->value, " \"jane@someuni.example via rewrite\" <someuni@platform.example>");
}

TEST_F(OutboundMessageTest, MalformedHeaderFieldIsRefused) {
    auto m = message("acme-bulk");
    add_headers(m, {"From: jane@careers.uni.example", std::string("Bad\0Name: x", 11)});
    const auto refusal = m.end_of_headers(now);
    ASSERT_TRUE(refusal.has_value());
    EXPECT_EQ(refusal->rcode, "550");
}

TEST_F(OutboundMessageTest, NullSenderKeepsItsNullReversePath) {
    auto m = message("acme-bulk", true);
    add_headers(m, {"From: mailer-daemon@careers.uni.example", "Message-ID: <1@x>"});
    ASSERT_FALSE(m.end_of_headers(now).has_value());
    auto outcome = m.end_of_message("Q1", now);
    ASSERT_TRUE(outcome.ok());
    EXPECT_EQ(outcome->envelope_from, "");
    EXPECT_NE(find_change(*outcome, "DKIM-Signature"), nullptr);
}

TEST_F(OutboundMessageTest, LinesOfNineHundredNinetyEightOctetsPass) {
    const std::string line(998, 'x');
    EXPECT_FALSE(body_check({line + "\r\n" + line + "\r\n"}).has_value());
    EXPECT_FALSE(body_check({line.substr(0, 500), line.substr(500) + "\r", "\n", line}).has_value());
}

TEST_F(OutboundMessageTest, LongerLinesAreRefusedWhereverChunksSplitThem) {
    const std::string line(999, 'x');
    for (const auto& refusal : {body_check({line + "\r\n"}), body_check({"ok\r\n", line}),
                                body_check({line.substr(0, 10), line.substr(10), "\r\n"}),
                                body_check({std::string(998, 'x') + "y\n"})}) {
        ASSERT_TRUE(refusal.has_value());
        EXPECT_EQ(refusal->rcode + " " + refusal->xcode, "550 5.6.0");
    }
}

TEST(RewrittenFrom, QuotesDisplayNamesAndKeepsEncodedWordsBare) {
    EXPECT_EQ(rewritten_from_value("Jane \"JD\" Doe", "j@x", "acme", "p@platform.example"),
              " \"Jane \\\"JD\\\" Doe via acme\" <p@platform.example>");
    EXPECT_EQ(rewritten_from_value("=?utf-8?q?J=C3=A9r=C3=B4me?=", "j@x", "acme", "p@platform.example"),
              " =?utf-8?q?J=C3=A9r=C3=B4me?= \"via acme\" <p@platform.example>");
}

// The rewritten From must be exactly one mailbox, the platform address, in
// lines that survive transit, whatever the author's display name holds.
::testing::AssertionResult is_platform_from(const std::string& value) {
    auto mailbox = parse_single_mailbox(value);
    if (!mailbox) return ::testing::AssertionFailure() << "'" << value << "': " << mailbox.error();
    if (mailbox->address() != "p@platform.example") {
        return ::testing::AssertionFailure() << "'" << value << "' is " << mailbox->address();
    }
    if (longest_line("From:" + value) > 998) return ::testing::AssertionFailure() << "'" << value << "' too long";
    return ::testing::AssertionSuccess();
}

TEST(RewrittenFrom, EncodedWordsBesideSpecialsGiveOneValidMailbox) {
    const std::string jorg =
        rewritten_from_value("=?utf-8?q?J=C3=B6rg?= Schmidt, ACME Sales", "j@x", "acme", "p@platform.example");
    EXPECT_TRUE(is_platform_from(jorg));
    EXPECT_EQ(parse_single_mailbox(jorg)->display_name, "=?utf-8?q?J=C3=B6rg?= Schmidt, ACME Sales via acme");
    const std::string bank = rewritten_from_value("=?utf-8?q?Support?= <security@bank.example>, x", "j@x", "acme",
                                                  "p@platform.example");
    EXPECT_TRUE(is_platform_from(bank));
    EXPECT_EQ(bank, " =?utf-8?q?Support?= \"<security@bank.example>, x via acme\"\r\n <p@platform.example>");
}

TEST(RewrittenFrom, HostileDisplayNamesGiveOneMailboxWithinTheLineLimits) {
    std::string many_words;
    for (int i = 0; i < 100; ++i) many_words += "word" + std::to_string(i) + " ";
    for (const std::string& name : std::initializer_list<std::string>{
             "Jane \"The Boss\" Doe", "back\\slash\\", "Doe, Jane", "<evil@x.example>", "a>b<c",
             "line\r\nBcc: victim@x.example", "tab\there", "Jürgen Groß", "日本語のテキスト", many_words,
             std::string(3000, 'x'), "=?utf-8?q?x?=" + std::string(500, 'y'), "=?bogus", "\"", "\\"}) {
        const std::string value = rewritten_from_value(name, "j@x", "acme", "p@platform.example");
        EXPECT_TRUE(is_platform_from(value)) << name.substr(0, 60);
        EXPECT_EQ(value.find("\r\n\r\n"), std::string::npos);
    }
    const std::string folded = rewritten_from_value(many_words, "j@x", "acme", "p@platform.example");
    EXPECT_LE(longest_line("From:" + folded), 78u) << folded;
    EXPECT_LT(folded.size(), 400u);  // the name is cut at 200 octets
    EXPECT_TRUE(is_platform_from(rewritten_from_value("", "\"jane doe\"@x.example", "acme", "p@platform.example")));
}

TEST_F(OutboundMessageTest, RewriteOfAHostileDisplayNameStillSignsOneMailbox) {
    auto m = message("rw");
    add_headers(m, {"From: \"=?utf-8?q?Support?= <security@bank.example>, x\" <jane@someuni.example>",
                    "Message-ID: <1@x>"});
    ASSERT_FALSE(m.end_of_headers(now).has_value());
    auto outcome = m.end_of_message("Q1", now);
    ASSERT_TRUE(outcome.ok()) << outcome.error();
    EXPECT_TRUE(outcome->signed_ok);
    const HeaderChange* from = find_change(*outcome, "From");
    ASSERT_NE(from, nullptr);
    auto mailbox = parse_single_mailbox(from->value);
    ASSERT_TRUE(mailbox.ok()) << from->value << ": " << mailbox.error();
    EXPECT_EQ(mailbox->address(), "someuni@platform.example");
}

TEST_F(OutboundMessageTest, EveryAddedFieldFitsInLinesOfSeventyEightOctets) {
    std::string name;
    for (int i = 0; i < 12; ++i) name += "Name" + std::to_string(i) + " ";
    // One line of 108 octets: the rewritten From, and the Reply-To copying
    // it, are folded; the DKIM-Signature is folded by the signer.
    const std::string original = "From: \"" + name + "Doe\" <jane@someuni.example>";
    auto m = message("rw");
    add_headers(m, {original, "Subject: hi"});
    ASSERT_FALSE(m.end_of_headers(now).has_value());
    auto outcome = m.end_of_message("Q1", now);
    ASSERT_TRUE(outcome.ok()) << outcome.error();
    ASSERT_NE(find_change(*outcome, "Reply-To"), nullptr);
    for (const HeaderChange& change : outcome->changes) {
        EXPECT_LE(longest_line(change.name + ":" + change.value), 78u) << change.name << ":" << change.value;
    }
    auto reply_to = parse_single_mailbox(find_change(*outcome, "Reply-To")->value);
    ASSERT_TRUE(reply_to.ok());
    EXPECT_EQ(reply_to->address(), "jane@someuni.example");
}

TEST_F(OutboundMessageTest, HeaderLinesOverNineHundredNinetyEightOctetsAreRefused) {
    for (const std::string& field : std::initializer_list<std::string>{
             "Subject: " + std::string(1500, 'x'), "X-Long: a\r\n " + std::string(999, 'y'),
             "Subject: " + std::string(990, 'x')}) {
        auto m = message("acme-bulk");
        add_headers(m, {"From: jane@careers.uni.example", field});
        const auto refusal = m.end_of_headers(now);
        ASSERT_TRUE(refusal.has_value()) << field.substr(0, 20);
        EXPECT_EQ(refusal->rcode + " " + refusal->xcode, "550 5.6.0");
        EXPECT_NE(refusal->text.find(field.substr(0, field.find(':'))), std::string::npos) << refusal->text;
    }
    auto m = message("acme-bulk");
    add_headers(m, {"From: jane@careers.uni.example", "Subject: " + std::string(1500, 'x')});
    EXPECT_NE(m.end_of_headers(now)->text.find("1509 octets"), std::string::npos);
}

TEST_F(OutboundMessageTest, FoldedHeaderLinesEachWithinTheLimitPass) {
    auto m = message("acme-bulk");
    add_headers(m, {"From: jane@careers.uni.example", "Subject: " + std::string(989, 'x'),
                    "X-Folded: " + std::string(900, 'a') + "\r\n " + std::string(997, 'b')});
    EXPECT_FALSE(m.end_of_headers(now).has_value());
}

TEST(CoveringDomain, PicksLongestConfiguredParent) {
    Tenant tenant;
    tenant.domains = {"uni.example", "careers.uni.example"};
    EXPECT_EQ(covering_domain(tenant, "x.careers.uni.example"), "careers.uni.example");
    EXPECT_EQ(covering_domain(tenant, "UNI.example"), "uni.example");
    EXPECT_EQ(covering_domain(tenant, "evilcareers.uni.example"), "uni.example");
    EXPECT_EQ(covering_domain(tenant, "notuni.example"), "");
}

}  // namespace
}  // namespace tenantmail::milter
