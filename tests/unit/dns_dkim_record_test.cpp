// DKIM key records as published in DNS: tags, p= extraction, k=.
#include "common/dkim_key_record.h"

#include <gtest/gtest.h>

#include "common/base64.h"
#include "common/tag_list.h"

namespace tenantmail {
namespace {

const std::string kEd25519 = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";  // RFC 8463 A.2

TEST(TagList, SplitsTagsKeepingInnerWhitespace) {
    auto tags = parse_tag_list(" v=DKIM1 ; k = rsa;p=AB CD\r\n EF ; ");
    ASSERT_TRUE(tags) << tags.error();
    ASSERT_EQ(tags->tags.size(), 3u);
    EXPECT_EQ(tags->value("k"), "rsa");
    EXPECT_EQ(tags->value("p"), "AB CD\r\n EF");
    EXPECT_EQ(tags->value("x"), std::nullopt);
}

TEST(TagList, RefusesBrokenSyntax) {
    EXPECT_FALSE(parse_tag_list(""));
    EXPECT_FALSE(parse_tag_list("v=DKIM1;;p=x"));
    EXPECT_FALSE(parse_tag_list("v=DKIM1; p"));
    EXPECT_FALSE(parse_tag_list("1v=x"));
    EXPECT_FALSE(parse_tag_list("p=a; p=b"));
}

TEST(DkimKeyRecord, ExtractsAnRsaKeySplitAcrossStrings) {
    // The resolver hands the strings over concatenated; folding whitespace
    // inside p= is allowed.
    auto record = parse_dkim_key_record("v=DKIM1; k=rsa; p=MIIBIjAN BgkqhkiG9w0=");
    ASSERT_TRUE(record) << record.error();
    EXPECT_EQ(record->key_type, "rsa");
    EXPECT_EQ(record->public_key, *base64_decode("MIIBIjANBgkqhkiG9w0="));
    EXPECT_FALSE(record->revoked);
}

TEST(DkimKeyRecord, DefaultsToRsaAndReadsEd25519) {
    auto implicit = parse_dkim_key_record("p=" + kEd25519);
    ASSERT_TRUE(implicit);
    EXPECT_EQ(implicit->key_type, "rsa");
    auto ed = parse_dkim_key_record("v=DKIM1; k=ed25519; p=" + kEd25519);
    ASSERT_TRUE(ed) << ed.error();
    EXPECT_EQ(ed->key_type, "ed25519");
    EXPECT_EQ(ed->public_key.size(), 32u);
}

TEST(DkimKeyRecord, ReadsFlagsHashesAndRevocation) {
    auto record = parse_dkim_key_record("v=DKIM1; h=sha1:SHA256; t=y:s; p=");
    ASSERT_TRUE(record) << record.error();
    EXPECT_TRUE(record->revoked);
    EXPECT_TRUE(record->testing);
    EXPECT_EQ(record->hash_algs, (std::vector<std::string>{"sha1", "sha256"}));
}

TEST(DkimKeyRecord, RefusesWhatReceiversIgnore) {
    const auto error_of = [](std::string_view text) {
        auto record = parse_dkim_key_record(text);
        return record ? std::string("(parsed)") : record.error();
    };
    EXPECT_EQ(error_of("k=rsa; v=DKIM1; p=AAAA"), "v= must be the first tag");
    EXPECT_EQ(error_of("v=DKIM2; p=AAAA"), "v=DKIM2 is not DKIM1");
    EXPECT_EQ(error_of("v=DKIM1; k=rsa"), "no p= tag (the public key)");
    EXPECT_EQ(error_of("v=DKIM1; k=dsa; p=AAAA"), "unknown key type k=dsa (rsa or ed25519)");
    EXPECT_EQ(error_of("v=DKIM1; p=not*base64"), "p= is not valid base64");
    EXPECT_EQ(error_of("v=DKIM1; k=ed25519; p=AAAA"), "k=ed25519 but p= holds 3 bytes, not 32");
}

TEST(DkimKeyRecord, TellsKeyRecordsFromOtherTxt) {
    EXPECT_TRUE(looks_like_dkim_key_record("v=DKIM1; p=AAAA"));
    EXPECT_TRUE(looks_like_dkim_key_record("k=rsa; p=AAAA"));
    EXPECT_TRUE(looks_like_dkim_key_record("v=DKIM1; broken"));
    EXPECT_FALSE(looks_like_dkim_key_record("v=spf1 -all"));
}

}  // namespace
}  // namespace tenantmail
