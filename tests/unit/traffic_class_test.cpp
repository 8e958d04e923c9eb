// traffic_class_test.cpp — the traffic-class table (common/tenants.h) and
// the recipient-status table (common/message_store.h): every row reachable
// by its name, rows in enum order, and the things that iterate them (the
// rate key, the tenants.conf keys) following the table.
#include <gtest/gtest.h>

#include <string>

#include "common/message_store.h"
#include "common/redis_keys.h"
#include "common/tenants.h"

namespace tenantmail {
namespace {

TEST(TrafficClasses, RowsAreInEnumOrderAndRoundTripByName) {
    for (std::size_t i = 0; i < kTrafficClasses.size(); ++i) {
        const TrafficClassInfo& info = kTrafficClasses[i];
        EXPECT_EQ(traffic_class_index(info.traffic_class), i) << info.name;
        EXPECT_EQ(to_string(info.traffic_class), info.name);
        EXPECT_EQ(parse_traffic_class(info.name), info.traffic_class);
        EXPECT_EQ(info.rate_key, std::string(info.name) + "_rate");
        EXPECT_EQ(rate_key("acme", info.traffic_class), "tm:{acme}:rate:" + std::string(info.name));
    }
    EXPECT_EQ(to_string(TrafficClass::bulk), "bulk");
    EXPECT_EQ(to_string(TrafficClass::transactional), "transactional");
    EXPECT_EQ(parse_traffic_class("marketing"), std::nullopt);
    EXPECT_EQ(parse_traffic_class("Bulk"), std::nullopt);
}

TEST(TrafficClasses, EachClassHasItsOwnRateInTheTenantsFile) {
    auto registry = TenantRegistry::parse(
        "[acme]\n"
        "domains = acme.example\n"
        "from_rewrite = acme@platform.example\n"
        "bulk_rate = 100/1m\n"
        "transactional_rate = 20/10s\n",
        "tenants.conf");
    ASSERT_TRUE(registry) << registry.error();
    const Tenant* acme = registry->find("acme");
    ASSERT_NE(acme, nullptr);
    EXPECT_EQ(to_string(acme->rates_of(TrafficClass::bulk).at(0)), "100/1m");
    EXPECT_EQ(to_string(acme->rates_of(TrafficClass::transactional).at(0)), "20/10s");
}

TEST(TrafficClasses, AnUnknownClassNamesTheChoicesFromTheTable) {
    auto registry = TenantRegistry::parse(
        "[acme]\n"
        "domains = acme.example\n"
        "sasl_users = acme:marketing\n",
        "tenants.conf");
    ASSERT_FALSE(registry);
    EXPECT_NE(registry.error().find("(bulk or transactional)"), std::string::npos) << registry.error();
}

TEST(RecipientStatuses, RowsRoundTripByName) {
    for (const RecipientStatusInfo& info : kRecipientStatuses) {
        EXPECT_EQ(recipient_status_name(info.status), info.name);
        EXPECT_EQ(parse_recipient_status(info.name), info.status);
        EXPECT_EQ(is_final_status(info.status), info.is_final) << info.name;
    }
    EXPECT_EQ(parse_recipient_status("lost"), std::nullopt);
}

TEST(RecipientStatuses, OnlyBouncedAndComplainedAreFinal) {
    EXPECT_TRUE(is_final_status(RecipientStatus::bounced));
    EXPECT_TRUE(is_final_status(RecipientStatus::complained));
    EXPECT_FALSE(is_final_status(RecipientStatus::queued));
    EXPECT_FALSE(is_final_status(RecipientStatus::delivered));
    EXPECT_FALSE(is_final_status(RecipientStatus::deferred));
    EXPECT_FALSE(is_final_status(RecipientStatus::blocked));
}

}  // namespace
}  // namespace tenantmail
