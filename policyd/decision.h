// decision.h — what policyd answers, as pure functions: which requests need
// Redis at all (route_request), and the Postfix action for the script's
// outcome (outcome_action). No I/O; the server calls these around its one
// Redis round trip per recipient.
//
// Answers:
//   not an RCPT-time smtpd_access_policy request   DUNNO
//   RCPT, no tenant (SASL login, then network)      unknown_tenant_action (DUNNO)
//   permitted                                       DUNNO, so the restrictions after
//                                                   check_policy_service still apply
//   permitted, class has a route                    FILTER smtp-pool-a: (Postfix goes on
//                                                   like DUNNO and queues the message
//                                                   for that transport:nexthop)
//   rate limit reached   DEFER_IF_PERMIT 4.7.1 acme bulk limit 500 per 3m reached; retry in 37s
//                        (a login's own: "... limit 100 per 1m of login app1 reached; ...")
//   quota reached        DEFER_IF_PERMIT 4.7.1 acme bulk monthly quota 200000 reached;
//                        resets 2027-01-01 00:00 Europe/London
//   class paused         DEFER_IF_PERMIT 4.7.1 acme bulk mail paused: complaint rate 0.41% over 24h
//   suppressed           REJECT 5.1.1 <rcpt>: suppressed for tenant acme (reason)
//   Redis unavailable, slow or answering nonsense   redis_error_action
#pragma once

#include <string>
#include <string_view>

#include "common/options/policyd.h"
#include "common/rate_limiter.h"
#include "common/tenants.h"
#include "policyd/policy_protocol.h"

// DecisionSettings, kPermitAction and check_action_text are part of the
// [policyd] option declarations (common/options/policyd.h).
namespace tenantmail::policyd {

struct Route {
    enum class Kind { answer, check };
    Kind kind = Kind::answer;
    std::string_view action;  // answer: the action to send
    const char* why = "";     // answer: for the debug log
    const Tenant* tenant = nullptr;  // check: whose limit
    TrafficClass traffic_class = TrafficClass::bulk;
};

// The tenant comes from sasl_username first, then from client_address.
// Views in the result point into settings or registry.
Route route_request(const PolicyRequest& request, const TenantRegistry& registry, const DecisionSettings& settings);

// The limits and names a check was made for, to word the answer.
struct CheckContext {
    std::string_view tenant;
    TrafficClass traffic_class = TrafficClass::bulk;
    const RateRequest* request = nullptr;  // its limits and time zone
    std::string_view recipient;            // as the client sent it (made printable here)
    std::string_view route;                // the class's transport:nexthop; "" for none
};

// Writes the action for outcome into action (cleared first). noscript,
// stale_period, error and a limit index the request does not have get
// redis_error_action.
void outcome_action(std::string& action, const RateOutcome& outcome, const CheckContext& context,
                    const DecisionSettings& settings);

// "permitted", "deferred", "rejected" or "unavailable", for the log.
const char* outcome_word(RateOutcome::Kind kind);

}  // namespace tenantmail::policyd
