// tenants_tracking_test.cpp — the tracking keys of tenants.conf
// (tracking_domain, track_opens, track_clicks, track_text_links,
// list_unsubscribe, feedback_id): defaults, class lists, conflicts, and the Host lookup
// tenantmail-trackd makes.
#include "common/tenants.h"

#include <gtest/gtest.h>

#include <string>

namespace tenantmail {
namespace {

const std::string kAcme =
    "[acme]\n"                                 // 1
    "domains = careers.uni.ac.uk\n"            // 2
    "selector = mailtcex\n"                    // 3
    "key = /etc/tenantmail/keys/acme.pem\n"    // 4
    "bounce_domain = mta.careers.uni.ac.uk\n"  // 5
    "sasl_users = acme-bulk\n";                // 6

const std::string kUni =
    "[uni]\n"
    "domains = uni.ac.uk\n"
    "selector = s1\n"
    "key = /etc/tenantmail/keys/uni.pem\n"
    "bounce_domain = bounces.uni.ac.uk\n"
    "sasl_users = uni-web\n";

Result<TenantRegistry> parse(const std::string& text) { return TenantRegistry::parse(text, "tenants.conf"); }

std::string error_of(const std::string& text) {
    auto registry = parse(text);
    EXPECT_FALSE(registry.ok());
    return registry.ok() ? std::string() : registry.error();
}

TEST(TenantsTracking, OffWithoutTrackingDomainThoughSwitchesDefaultToBulk) {
    auto registry = parse(kAcme);
    ASSERT_TRUE(registry.ok()) << registry.error();
    const Tenant& acme = *registry->find("acme");
    EXPECT_TRUE(acme.track_opens[traffic_class_index(TrafficClass::bulk)]);
    EXPECT_FALSE(acme.tracks_opens(TrafficClass::bulk));
    EXPECT_FALSE(acme.tracks_clicks(TrafficClass::bulk));
    EXPECT_FALSE(acme.adds_list_unsubscribe(TrafficClass::bulk));
    EXPECT_TRUE(acme.feedback_id.empty());
}

TEST(TenantsTracking, TrackingDomainTurnsOnBulkOnlyByDefault) {
    auto registry = parse(kAcme + "tracking_domain = Click.Careers.Uni.ac.uk.\nfeedback_id = acme-2024\n");
    ASSERT_TRUE(registry.ok()) << registry.error();
    const Tenant& acme = *registry->find("acme");
    EXPECT_EQ(acme.tracking_domain, "click.careers.uni.ac.uk");
    EXPECT_EQ(acme.feedback_id, "acme-2024");
    EXPECT_TRUE(acme.tracks_opens(TrafficClass::bulk));
    EXPECT_TRUE(acme.tracks_clicks(TrafficClass::bulk));
    EXPECT_TRUE(acme.adds_list_unsubscribe(TrafficClass::bulk));
    EXPECT_FALSE(acme.tracks_opens(TrafficClass::transactional));
    EXPECT_FALSE(acme.tracks_clicks(TrafficClass::transactional));
    EXPECT_FALSE(acme.adds_list_unsubscribe(TrafficClass::transactional));
    EXPECT_EQ(registry->by_tracking_domain("CLICK.careers.uni.ac.uk"), registry->find("acme"));
    EXPECT_EQ(registry->by_tracking_domain("careers.uni.ac.uk"), nullptr);
    EXPECT_EQ(registry->by_tracking_domain("click.careers.uni.ac.uk:443"), nullptr);
}

TEST(TenantsTracking, SwitchesTakeClassListsAllOrNone) {
    auto registry = parse(kAcme +
                          "tracking_domain = click.careers.uni.ac.uk\n"
                          "track_opens = all\n"
                          "track_clicks = transactional, bulk\n"
                          "list_unsubscribe = none\n");
    ASSERT_TRUE(registry.ok()) << registry.error();
    const Tenant& acme = *registry->find("acme");
    EXPECT_TRUE(acme.tracks_opens(TrafficClass::transactional));
    EXPECT_TRUE(acme.tracks_clicks(TrafficClass::transactional));
    EXPECT_TRUE(acme.tracks_clicks(TrafficClass::bulk));
    EXPECT_FALSE(acme.adds_list_unsubscribe(TrafficClass::bulk));
}

TEST(TenantsTracking, TextLinksAreOffByDefaultAndNeedClickTracking) {
    auto registry = parse(kAcme + "tracking_domain = click.careers.uni.ac.uk\n");
    ASSERT_TRUE(registry.ok()) << registry.error();
    EXPECT_FALSE(registry->find("acme")->tracks_text_links(TrafficClass::bulk));

    registry = parse(kAcme +
                     "tracking_domain = click.careers.uni.ac.uk\n"
                     "track_clicks = bulk\n"
                     "track_text_links = all\n");
    ASSERT_TRUE(registry.ok()) << registry.error();
    const Tenant& acme = *registry->find("acme");
    EXPECT_TRUE(acme.tracks_text_links(TrafficClass::bulk));
    EXPECT_FALSE(acme.tracks_text_links(TrafficClass::transactional));  // its clicks are not tracked

    EXPECT_EQ(error_of(kAcme + "track_text_links = bulk\n"),
              "tenants.conf:7: tenant acme: track_text_links without tracking_domain (tracking is off)");
}

TEST(TenantsTracking, BadValuesNameTheirLine) {
    EXPECT_EQ(error_of(kAcme + "tracking_domain = click.careers.uni.ac.uk\ntrack_opens = bulky\n"),
              "tenants.conf:8: tenant acme: track_opens: unknown traffic class "
              "\"bulky\" (classes, all or none)");
    EXPECT_EQ(error_of(kAcme + "tracking_domain = click.careers.uni.ac.uk\ntrack_clicks = ,\n"),
              "tenants.conf:8: tenant acme: track_clicks: empty; give traffic classes, "
              "all or none");
    EXPECT_EQ(error_of(kAcme + "tracking_domain = click.careers.uni.ac.uk\ntrack_clicks =\n"),
              "tenants.conf:8: tenant acme: track_clicks has no value; remove the line "
              "to leave it unset");
    EXPECT_EQ(error_of(kAcme + "feedback_id = a:b\n"),
              "tenants.conf:7: tenant acme: feedback_id: \"a:b\" is not 1-64 "
              "letters, digits, '.', '_' or '-'");
    EXPECT_NE(error_of(kAcme + "tracking_domain = click..uni.ac.uk\n")
                  .find("tenants.conf:7: tenant acme: "
                        "tracking_domain:"),
              std::string::npos);
}

TEST(TenantsTracking, SwitchWithoutTrackingDomainIsAnError) {
    EXPECT_EQ(error_of(kAcme + "track_clicks = bulk\n"),
              "tenants.conf:7: tenant acme: track_clicks without tracking_domain "
              "(tracking is off)");
    EXPECT_EQ(error_of(kAcme + "list_unsubscribe = none\n"),
              "tenants.conf:7: tenant acme: list_unsubscribe without "
              "tracking_domain (tracking is off)");
}

TEST(TenantsTracking, TrackingDomainIsOneTenantsAndNotTheBounceDomain) {
    EXPECT_EQ(error_of(kAcme + "tracking_domain = mta.careers.uni.ac.uk\n"),
              "tenants.conf:7: tenant acme: tracking_domain must differ from "
              "bounce_domain");
    EXPECT_EQ(error_of(kAcme + "tracking_domain = t.example.net\n" + kUni + "tracking_domain = T.example.net\n"),
              "tenants.conf:14: tenant uni: tracking_domain t.example.net is "
              "already tenant acme's (line 7)");
}

}  // namespace
}  // namespace tenantmail
