// DMARC records: which TXT values count as one, and strict parsing.
#include "common/dmarc_record.h"

#include <gtest/gtest.h>

namespace tenantmail {
namespace {

TEST(DmarcRecord, ParsesTheSuggestedRecord) {
    const std::string text = suggested_dmarc_record("mailto:dmarc@p.example");
    EXPECT_EQ(text, "v=DMARC1; p=none; rua=mailto:dmarc@p.example");
    auto record = parse_dmarc_record(text);
    ASSERT_TRUE(record) << record.error();
    EXPECT_EQ(record->policy, "none");
    EXPECT_EQ(record->aggregate_uris, (std::vector<std::string>{"mailto:dmarc@p.example"}));
    EXPECT_EQ(suggested_dmarc_record(""), "v=DMARC1; p=none");
}

TEST(DmarcRecord, ParsesEveryKnownTag) {
    auto record = parse_dmarc_record(
        "v=DMARC1; p=reject; sp=quarantine; pct=50; adkim=s; aspf=r; fo=1:d; ri=86400; "
        "rua=mailto:a@x.example,mailto:b@y.example!10m; ruf=mailto:f@x.example; x=ignored");
    ASSERT_TRUE(record) << record.error();
    EXPECT_EQ(record->policy, "reject");
    EXPECT_EQ(record->subdomain_policy, "quarantine");
    EXPECT_EQ(record->percent, 50);
    EXPECT_EQ(record->dkim_alignment, 's');
    EXPECT_EQ(record->aggregate_uris.size(), 2u);
    EXPECT_EQ(record->failure_uris.size(), 1u);
}

TEST(DmarcRecord, RecognisesBotchedRecordsAsDmarc) {
    EXPECT_TRUE(looks_like_dmarc_record("v=DMARC1; p=none"));
    EXPECT_TRUE(looks_like_dmarc_record("v=dmarc1 p=none"));
    EXPECT_FALSE(looks_like_dmarc_record("v=spf1 -all"));
}

TEST(DmarcRecord, RefusesMalformedRecordsSayingWhy) {
    const auto error_of = [](std::string_view text) {
        auto record = parse_dmarc_record(text);
        return record ? std::string("(parsed)") : record.error();
    };
    EXPECT_EQ(error_of("p=none; v=DMARC1"), "the record must start with v=DMARC1");
    EXPECT_EQ(error_of("v=DMARC1"), "no p= tag (none, quarantine or reject)");
    EXPECT_EQ(error_of("v=DMARC1; p=block"), "p=block is not none, quarantine or reject");
    EXPECT_EQ(error_of("v=DMARC1 p=none"), "the record must start with v=DMARC1");  // missing ';'
    EXPECT_EQ(error_of("v=DMARC1; p=none; pct=150"), "pct=150 is over 100");
    EXPECT_EQ(error_of("v=DMARC1; p=none; adkim=x"), "adkim=x is not r or s");
    EXPECT_NE(error_of("v=DMARC1; p=none; rua=dmarc@p.example").find("not a URI"), std::string::npos);
    EXPECT_NE(error_of("v=DMARC1; p=none; rua=mailto:nobody").find("without an address"), std::string::npos);
    EXPECT_EQ(error_of("v=DMARC1; p=none; p=reject"), "tag p= given twice");
    EXPECT_EQ(error_of("v=DMARC1; p=none; fo=2"), "fo=2 is not a ':' list of 0, 1, d and s");
}

}  // namespace
}  // namespace tenantmail
