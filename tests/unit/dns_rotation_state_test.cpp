// Editing tenants.conf as text (comments and layout kept) and the rotation
// notes tenantmailctl keeps in it.
#include <gtest/gtest.h>

#include "common/tenants.h"
#include "tenantmailctl/rotation_state.h"
#include "tenantmailctl/tenants_edit.h"

namespace tenantmail::ctl {
namespace {

const std::string kTenants =
    "# tenants\n"
    "[acme]\n"
    "domains            = careers.uni.ac.uk\n"
    "selector           = mailtcex\n"
    "key                = /etc/tenantmail/keys/acme.mailtcex.pem   ; the RSA key\n"
    "bounce_domain      = mta.careers.uni.ac.uk\n"
    "\n"
    "# The rest of the university.\n"
    "[uni]\n"
    "domains       = uni.ac.uk\n"
    "selector      = mail2024\n"
    "key           = /etc/tenantmail/keys/uni.mail2024.pem\n"
    "bounce_domain = bounces.uni.ac.uk\n";

TEST(TenantsEdit, ReplacesValuesKeepingAlignmentAndInlineComments) {
    auto text = set_tenant_values(kTenants, "acme",
                                  {{"selector", "tm20250114"}, {"key", "/etc/tenantmail/keys/acme.tm20250114.pem"}});
    ASSERT_TRUE(text) << text.error();
    EXPECT_NE(text->find("selector           = tm20250114\n"), std::string::npos) << *text;
    EXPECT_NE(text->find("key                = /etc/tenantmail/keys/acme.tm20250114.pem   ; the RSA key\n"),
              std::string::npos)
        << *text;
    // The other tenant's selector is untouched.
    EXPECT_NE(text->find("selector      = mail2024\n"), std::string::npos);
    EXPECT_TRUE(TenantRegistry::parse(*text, "tenants.conf"));
}

TEST(TenantsEdit, AddsMissingKeysAfterTheSectionsLastKeyAligned) {
    auto text = set_tenant_values(
        kTenants, "acme",
        {{"ed25519_selector", "mailtced"}, {"ed25519_key", "/etc/tenantmail/keys/acme.mailtced.pem"}});
    ASSERT_TRUE(text) << text.error();
    EXPECT_NE(text->find("bounce_domain      = mta.careers.uni.ac.uk\n"
                         "ed25519_selector   = mailtced\n"
                         "ed25519_key        = /etc/tenantmail/keys/acme.mailtced.pem\n"
                         "\n# The rest of the university.\n"),
              std::string::npos)
        << *text;
    EXPECT_TRUE(TenantRegistry::parse(*text, "tenants.conf"));
}

TEST(TenantsEdit, KeepsCrlfAndAnUnterminatedLastLine) {
    const std::string crlf = "[a]\r\ndomains = a.example\r\nfrom_rewrite = a@p.example";
    auto text = set_tenant_values(crlf, "a", {{"bounce_domain", "b.a.example"}});
    ASSERT_TRUE(text) << text.error();
    EXPECT_EQ(*text, "[a]\r\ndomains = a.example\r\nfrom_rewrite = a@p.example\r\nbounce_domain = b.a.example\r\n");
}

TEST(TenantsEdit, RefusesAnUnknownSection) { EXPECT_FALSE(set_tenant_values(kTenants, "nobody", {{"selector", "x"}})); }

TEST(RotationState, MarksRoundTripThroughTheirLine) {
    RotationMark mark{RotationMark::State::retiring, KeySlot::ed25519, "old1", "2025-01-14",
                      "/etc/tenantmail/keys/my keys/acme.old1.pem"};
    const std::string line = format_rotation_mark(mark);
    EXPECT_EQ(line,
              "# tenantmailctl-rotation: retiring ed25519 old1 2025-01-14 /etc/tenantmail/keys/my keys/acme.old1.pem");
    auto parsed = parse_rotation_mark(line);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->state, RotationMark::State::retiring);
    EXPECT_EQ(parsed->slot, KeySlot::ed25519);
    EXPECT_EQ(parsed->selector, "old1");
    EXPECT_EQ(parsed->key_path, mark.key_path);
    EXPECT_FALSE(parse_rotation_mark("# tenantmailctl-rotation: pending rsa s1 2025-01-14 relative.pem"));
    EXPECT_FALSE(parse_rotation_mark("# tenantmailctl-rotation: waiting rsa s1 2025-01-14 /k.pem"));
}

TEST(RotationState, MarksLiveInTheTenantsSectionAsComments) {
    const RotationMark pending{RotationMark::State::pending, KeySlot::rsa, "tm20250114", "2025-01-14",
                               "/etc/tenantmail/keys/acme.tm20250114.pem"};
    auto text = with_rotation_marks(kTenants, "acme", {pending});
    ASSERT_TRUE(text) << text.error();
    EXPECT_NE(text->find("bounce_domain      = mta.careers.uni.ac.uk\n# tenantmailctl-rotation: pending rsa"),
              std::string::npos)
        << *text;
    // The daemons' parser sees a comment; the registry is unchanged.
    auto registry = TenantRegistry::parse(*text, "tenants.conf");
    ASSERT_TRUE(registry) << registry.error();
    EXPECT_EQ(registry->find("acme")->selector, "mailtcex");

    auto marks = rotation_marks(*text, "acme", "tenants.conf");
    ASSERT_TRUE(marks);
    ASSERT_EQ(marks->size(), 1u);
    EXPECT_EQ((*marks)[0].selector, "tm20250114");
    EXPECT_NE(find_mark(*marks, RotationMark::State::pending, KeySlot::rsa), nullptr);
    EXPECT_EQ(find_mark(*marks, RotationMark::State::retiring, KeySlot::rsa), nullptr);
    auto uni = rotation_marks(*text, "uni", "tenants.conf");
    ASSERT_TRUE(uni);
    EXPECT_TRUE(uni->empty());

    // Replacing puts the new note where the old one was; none left removes it.
    const RotationMark retiring{RotationMark::State::retiring, KeySlot::rsa, "mailtcex", "2025-01-20",
                                "/etc/tenantmail/keys/acme.mailtcex.pem"};
    auto replaced = with_rotation_marks(*text, "acme", {retiring});
    ASSERT_TRUE(replaced);
    EXPECT_EQ(replaced->find("pending"), std::string::npos);
    EXPECT_NE(replaced->find("# tenantmailctl-rotation: retiring rsa mailtcex"), std::string::npos);
    auto cleared = with_rotation_marks(*replaced, "acme", {});
    ASSERT_TRUE(cleared);
    EXPECT_EQ(*cleared, kTenants);
}

TEST(RotationState, AnUnreadableNoteIsReportedWithItsLine) {
    const std::string text = kTenants.substr(0, kTenants.find("\n\n")) + "\n# tenantmailctl-rotation: pending\n";
    auto marks = rotation_marks(text, "acme", "tenants.conf");
    ASSERT_FALSE(marks);
    EXPECT_EQ(marks.error().rfind("tenants.conf:7: unreadable rotation note", 0), 0u) << marks.error();
}

TEST(RotationState, NewSelectorsAreDnsLabelsSafeInFileNames) {
    EXPECT_TRUE(valid_new_selector("tm20250114"));
    EXPECT_TRUE(valid_new_selector("s1.eu"));
    EXPECT_FALSE(valid_new_selector(""));
    EXPECT_FALSE(valid_new_selector("../etc"));
    EXPECT_FALSE(valid_new_selector("a/b"));
    EXPECT_FALSE(valid_new_selector("-x"));
    EXPECT_FALSE(valid_new_selector("a_b"));
}

}  // namespace
}  // namespace tenantmail::ctl
