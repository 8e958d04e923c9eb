// decision_test.cpp — policyd's decisions without sockets or Redis: which
// requests go to Redis (RCPT only; tenant by SASL login, then network;
// class from the login), and the exact wording of every answer, including
// the refusal text Postfix passes on to the client.
#include "common/suppression.h"
#include "policyd/decision.h"

#include <gtest/gtest.h>

namespace tenantmail::policyd {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

const char* kTenants = R"(
[acme]
domains      = careers.uni.ac.uk
sasl_users   = acme-bulk:bulk acme-tx:transactional
networks     = 192.0.2.0/28 2001:db8:1::/48
bulk_rate    = 500/3m
transactional_rate = 120/1m
bulk_quota   = 10000/day 200000/month
login_limits = acme-bulk=100/1m
time_zone    = Europe/London
from_rewrite = acme@platform.example

[shop]
domains      = shop.example
sasl_users   = shop
from_rewrite = shop@platform.example
)";

class Decision : public ::testing::Test {
protected:
    void SetUp() override {
        auto parsed = TenantRegistry::parse(kTenants, "tenants.conf");
        ASSERT_TRUE(parsed.ok()) << parsed.error();
        registry_ = std::move(*parsed);
    }

    static PolicyRequest rcpt(std::string sasl, std::string client, std::string recipient = "bob@example.org") {
        PolicyRequest request;
        request.request = "smtpd_access_policy";
        request.protocol_state = "RCPT";
        request.sasl_username = std::move(sasl);
        request.client_address = std::move(client);
        request.recipient = std::move(recipient);
        return request;
    }

    TenantRegistry registry_;
    DecisionSettings settings_;
};

TEST_F(Decision, OnlyRcptIsChecked) {
    PolicyRequest request = rcpt("acme-bulk", "198.51.100.1");
    for (const char* state : {"CONNECT", "EHLO", "MAIL", "DATA", "END-OF-MESSAGE", "VRFY", "rcpt"}) {
        request.protocol_state = state;
        const Route route = route_request(request, registry_, settings_);
        EXPECT_EQ(route.kind, Route::Kind::answer) << state;
        EXPECT_EQ(route.action, "DUNNO") << state;
    }
}

TEST_F(Decision, OtherRequestTypesGetDunno) {
    PolicyRequest request = rcpt("acme-bulk", "198.51.100.1");
    request.request = "junk";
    EXPECT_EQ(route_request(request, registry_, settings_).action, "DUNNO");
    request.request.clear();
    EXPECT_EQ(route_request(request, registry_, settings_).kind, Route::Kind::answer);
}

TEST_F(Decision, SaslLoginGivesTenantAndClass) {
    Route route = route_request(rcpt("acme-bulk", "198.51.100.1"), registry_, settings_);
    ASSERT_EQ(route.kind, Route::Kind::check);
    EXPECT_EQ(route.tenant->id, "acme");
    EXPECT_EQ(route.traffic_class, TrafficClass::bulk);

    route = route_request(rcpt("acme-tx", ""), registry_, settings_);
    ASSERT_EQ(route.kind, Route::Kind::check);
    EXPECT_EQ(route.tenant->id, "acme");
    EXPECT_EQ(route.traffic_class, TrafficClass::transactional);
    ASSERT_EQ(route.tenant->rates_of(route.traffic_class).size(), 1u);
    EXPECT_EQ(to_string(route.tenant->rates_of(route.traffic_class).front()), "120/1m");
}

TEST_F(Decision, SaslLoginWinsOverNetwork) {
    const Route route = route_request(rcpt("shop", "192.0.2.3"), registry_, settings_);
    ASSERT_EQ(route.kind, Route::Kind::check);
    EXPECT_EQ(route.tenant->id, "shop");
}

TEST_F(Decision, NetworkIdentifiesTenantAsBulk) {
    for (const char* client : {"192.0.2.3", "::ffff:192.0.2.3", "2001:db8:1::25"}) {
        const Route route = route_request(rcpt("", client), registry_, settings_);
        ASSERT_EQ(route.kind, Route::Kind::check) << client;
        EXPECT_EQ(route.tenant->id, "acme");
        EXPECT_EQ(route.traffic_class, TrafficClass::bulk);
    }
}

TEST_F(Decision, UnknownLoginFallsBackToNetwork) {
    const Route route = route_request(rcpt("someone-else", "192.0.2.3"), registry_, settings_);
    ASSERT_EQ(route.kind, Route::Kind::check);
    EXPECT_EQ(route.tenant->id, "acme");
}

TEST_F(Decision, NoTenantGetsUnknownTenantAction) {
    EXPECT_EQ(route_request(rcpt("", "198.51.100.1"), registry_, settings_).action, "DUNNO");
    settings_.unknown_tenant_action = "REJECT 5.7.1 not a tenant of this platform";
    const Route route = route_request(rcpt("nobody", "unknown"), registry_, settings_);
    EXPECT_EQ(route.kind, Route::Kind::answer);
    EXPECT_EQ(route.action, "REJECT 5.7.1 not a tenant of this platform");
}

TEST_F(Decision, RcptWithoutRecipientIsNotCounted) {
    const Route route = route_request(rcpt("acme-bulk", "", ""), registry_, settings_);
    EXPECT_EQ(route.kind, Route::Kind::answer);
    EXPECT_EQ(route.action, "DUNNO");
}

// The limits of acme's mail by login (acme-bulk has one of its own), at
// 2026-12-05 12:00 UTC: 500/3m, 10000/day, 200000/month, then the login's
// 100/1m.
const RateRequest& acme_request(TrafficClass traffic_class, std::string_view login = "acme-bulk") {
    static const TenantRegistry registry = *TenantRegistry::parse(kTenants, "tenants.conf");
    static RateRequest request;
    request.select(*registry.find("acme"), traffic_class, login, true);
    request.set_time(SysSeconds(std::chrono::seconds(1'796'472'000)));
    return request;
}

CheckContext acme_bulk(std::string_view recipient = "Bob@Example.org") {
    return CheckContext{"acme", TrafficClass::bulk, &acme_request(TrafficClass::bulk), recipient, ""};
}

std::string action_for(const RateOutcome& outcome, const CheckContext& context = acme_bulk(),
                       const DecisionSettings& settings = {}) {
    std::string action = "stale text from the previous request";
    outcome_action(action, outcome, context, settings);
    return action;
}

TEST(OutcomeAction, PermitIsDunnoSoLaterRestrictionsStillApply) {
    RateOutcome outcome;
    outcome.kind = RateOutcome::Kind::permitted;
    outcome.count = 17;
    EXPECT_EQ(action_for(outcome), "DUNNO");
}

TEST(OutcomeAction, PermitWithARouteIsFilterToThatTransport) {
    RateOutcome outcome;
    outcome.kind = RateOutcome::Kind::permitted;
    CheckContext context = acme_bulk();
    context.route = "smtp-pool-a:[127.0.0.1]:2525";
    EXPECT_EQ(action_for(outcome, context), "FILTER smtp-pool-a:[127.0.0.1]:2525");
    outcome.kind = RateOutcome::Kind::limited;
    outcome.retry_after = microseconds(1'000'000);
    EXPECT_EQ(action_for(outcome, context), "DEFER_IF_PERMIT 4.7.1 acme bulk limit 500 per 3m reached; retry in 1s");
}

TEST(OutcomeAction, LimitSaysWhichLimitAndWhenToRetryRoundedUp) {
    RateOutcome outcome;
    outcome.kind = RateOutcome::Kind::limited;
    outcome.count = 500;
    outcome.retry_after = microseconds(36'200'000);
    EXPECT_EQ(action_for(outcome), "DEFER_IF_PERMIT 4.7.1 acme bulk limit 500 per 3m reached; retry in 37s");
    outcome.retry_after = microseconds(37'000'000);
    EXPECT_EQ(action_for(outcome), "DEFER_IF_PERMIT 4.7.1 acme bulk limit 500 per 3m reached; retry in 37s");
    outcome.retry_after = microseconds(3);
    EXPECT_EQ(action_for(outcome), "DEFER_IF_PERMIT 4.7.1 acme bulk limit 500 per 3m reached; retry in 1s");
    const CheckContext transactional{"acme", TrafficClass::transactional,
                                     &acme_request(TrafficClass::transactional, "acme-tx"), "x@y", ""};
    EXPECT_EQ(action_for(outcome, transactional),
              "DEFER_IF_PERMIT 4.7.1 acme transactional limit 120 per 1m reached; retry in 1s");
}

TEST(OutcomeAction, QuotaSaysWhenItResetsInTheTenantsTimeZone) {
    RateOutcome outcome;
    outcome.kind = RateOutcome::Kind::limited;
    outcome.limit_index = 1;
    EXPECT_EQ(action_for(outcome),
              "DEFER_IF_PERMIT 4.7.1 acme bulk daily quota 10000 reached; resets 2026-12-06 00:00 Europe/London");
    outcome.limit_index = 2;
    EXPECT_EQ(action_for(outcome),
              "DEFER_IF_PERMIT 4.7.1 acme bulk monthly quota 200000 reached; resets 2027-01-01 00:00 Europe/London");
}

TEST(OutcomeAction, LoginLimitNamesTheLogin) {
    RateOutcome outcome;
    outcome.kind = RateOutcome::Kind::limited;
    outcome.limit_index = 3;
    outcome.retry_after = microseconds(5'000'000);
    EXPECT_EQ(action_for(outcome),
              "DEFER_IF_PERMIT 4.7.1 acme bulk limit 100 per 1m of login acme-bulk reached; retry in 5s");
}

TEST(OutcomeAction, LimitIndexOutsideTheRequestIsAnOutage) {
    RateOutcome outcome;
    outcome.kind = RateOutcome::Kind::limited;
    outcome.limit_index = 4;  // a foreign or newer script's reply
    EXPECT_EQ(action_for(outcome), DecisionSettings{}.redis_error_action);
    outcome.kind = RateOutcome::Kind::stale_period;
    EXPECT_EQ(action_for(outcome), DecisionSettings{}.redis_error_action);
}

TEST(OutcomeAction, PausedGivesTheReasonCleaned) {
    RateOutcome outcome;
    outcome.kind = RateOutcome::Kind::paused;
    outcome.detail = "complaint rate 0.41% over 24h";
    EXPECT_EQ(action_for(outcome), "DEFER_IF_PERMIT 4.7.1 acme bulk mail paused: complaint rate 0.41% over 24h");
    outcome.detail = "x\r\naction=OK";
    EXPECT_EQ(action_for(outcome).find('\n'), std::string::npos);
}

TEST(OutcomeAction, SuppressedNamesRecipientTenantAndReason) {
    const std::string value = encode_suppression({"hard bounce: 550 5.1.1 user unknown", 1700000000});
    RateOutcome outcome;
    outcome.kind = RateOutcome::Kind::suppressed;
    outcome.detail = value;
    EXPECT_EQ(action_for(outcome),
              "REJECT 5.1.1 <Bob@Example.org>: suppressed for tenant acme (hard bounce: 550 5.1.1 user unknown)");
}

TEST(OutcomeAction, SuppressionReasonCannotBreakTheProtocol) {
    // A newline in the reply would end the action line and inject another.
    const std::string value = encode_suppression({"bad\n\naction=OK\r\n\x01", 1});
    RateOutcome outcome;
    outcome.kind = RateOutcome::Kind::suppressed;
    outcome.detail = value;
    const std::string action = action_for(outcome);
    EXPECT_EQ(action.find('\n'), std::string::npos);
    EXPECT_EQ(action.find('\r'), std::string::npos);
    EXPECT_EQ(action, "REJECT 5.1.1 <Bob@Example.org>: suppressed for tenant acme (bad??action=OK??" "?)");

    const std::string long_reason = encode_suppression({std::string(1000, 'r'), 1});
    outcome.detail = long_reason;
    EXPECT_LT(action_for(outcome).size(), 200u);
}

TEST(OutcomeAction, SuppressionValueSetByHandIsTheReason) {
    RateOutcome outcome;
    outcome.kind = RateOutcome::Kind::suppressed;
    outcome.detail = "complained";
    EXPECT_EQ(action_for(outcome), "REJECT 5.1.1 <Bob@Example.org>: suppressed for tenant acme (complained)");
    outcome.detail = "";
    EXPECT_EQ(action_for(outcome), "REJECT 5.1.1 <Bob@Example.org>: suppressed for tenant acme");
}

TEST(OutcomeAction, RedisTroubleGetsTheConfiguredAction) {
    RateOutcome outcome;
    outcome.kind = RateOutcome::Kind::error;
    EXPECT_EQ(action_for(outcome), "DEFER_IF_PERMIT 4.3.0 rate limit service unavailable, try again later");
    DecisionSettings fail_open;
    fail_open.redis_error_action = "DUNNO";
    EXPECT_EQ(action_for(outcome, acme_bulk(), fail_open), "DUNNO");
    outcome.kind = RateOutcome::Kind::noscript;
    EXPECT_EQ(action_for(outcome, acme_bulk(), fail_open), "DUNNO");
}

TEST(OutcomeAction, WordsForTheLog) {
    EXPECT_STREQ(outcome_word(RateOutcome::Kind::permitted), "permitted");
    EXPECT_STREQ(outcome_word(RateOutcome::Kind::limited), "deferred");
    EXPECT_STREQ(outcome_word(RateOutcome::Kind::suppressed), "rejected");
    EXPECT_STREQ(outcome_word(RateOutcome::Kind::error), "unavailable");
}

TEST(ConfiguredAction, AcceptsPostfixActionsAndRefusesBrokenText) {
    for (const char* good : {"DUNNO", "dunno", "DEFER_IF_PERMIT 4.3.0 try later", "REJECT", "450 4.7.1 slow down"}) {
        EXPECT_EQ(check_action_text(good), "") << good;
    }
    EXPECT_NE(check_action_text(""), "");
    EXPECT_NE(check_action_text(" DUNNO"), "");
    EXPECT_NE(check_action_text("DUNNO\n\naction=OK"), "");
    EXPECT_NE(check_action_text("DUNNO\t"), "");
    EXPECT_NE(check_action_text(std::string(600, 'A')), "");
}

}  // namespace
}  // namespace tenantmail::policyd
