// decision.cpp — routing requests and wording the answers (see decision.h).
#include "policyd/decision.h"

#include "common/duration.h"
#include "common/printable.h"
#include "common/suppression.h"

namespace tenantmail::policyd {

namespace {

// A suppression reason comes from whoever added it (an admin, the bounce
// processor quoting a remote server): keep the SMTP reply short and clean.
constexpr std::size_t kMaxReasonInReply = 120;
constexpr std::size_t kMaxRecipientInReply = 256;
constexpr std::size_t kMaxLoginInReply = 128;

Route answer(std::string_view action, const char* why) {
    Route route;
    route.kind = Route::Kind::answer;
    route.action = action;
    route.why = why;
    return route;
}

}  // namespace

Route route_request(const PolicyRequest& request, const TenantRegistry& registry, const DecisionSettings& settings) {
    if (request.request != "smtpd_access_policy") return answer(kPermitAction, "not an smtpd_access_policy request");
    if (request.protocol_state != "RCPT") return answer(kPermitAction, "not at RCPT");
    if (request.recipient.empty()) return answer(kPermitAction, "no recipient");
    const std::optional<TenantMatch> match = registry.identify(request.sasl_username, request.client_address);
    if (!match) return answer(settings.unknown_tenant_action, "no tenant");
    Route route;
    route.kind = Route::Kind::check;
    route.tenant = match->tenant;
    route.traffic_class = match->traffic_class;
    return route;
}

void outcome_action(std::string& action, const RateOutcome& outcome, const CheckContext& context,
                    const DecisionSettings& settings) {
    action.clear();
    switch (outcome.kind) {
        case RateOutcome::Kind::permitted:
            if (context.route.empty()) {
                action.assign(kPermitAction);
            } else {
                action.append("FILTER ").append(context.route);
            }
            return;
        case RateOutcome::Kind::limited: {
            if (context.request == nullptr || outcome.limit_index >= context.request->limits().size()) break;
            const AppliedLimit& applied = context.request->limits()[outcome.limit_index];
            action.append("DEFER_IF_PERMIT 4.7.1 ")
                .append(context.tenant)
                .append(" ")
                .append(to_string(context.traffic_class))
                .append(" ")
                .append(describe(applied.limit));
            if (!applied.login.empty()) {
                action.append(" of login ");
                append_printable(action, applied.login, kMaxLoginInReply);
            }
            if (applied.limit.is_quota()) {
                action.append(" reached; resets ")
                    .append(format_local_minute(applied.period.end, context.request->time_zone()))
                    .append(" ")
                    .append(context.request->time_zone().name());
            } else {
                action.append(" reached; retry in ").append(std::to_string(retry_seconds(outcome.retry_after))).append("s");
            }
            return;
        }
        case RateOutcome::Kind::paused:
            action.append("DEFER_IF_PERMIT 4.7.1 ")
                .append(context.tenant)
                .append(" ")
                .append(to_string(context.traffic_class))
                .append(" mail paused: ");
            append_printable(action, outcome.detail, kMaxReasonInReply);
            return;
        case RateOutcome::Kind::suppressed: {
            const SuppressionEntry entry = decode_suppression(outcome.detail);
            action.append("REJECT 5.1.1 <");
            append_printable(action, context.recipient, kMaxRecipientInReply);
            action.append(">: suppressed for tenant ").append(context.tenant);
            if (!entry.reason.empty()) {
                action.append(" (");
                append_printable(action, entry.reason, kMaxReasonInReply);
                action.append(")");
            }
            return;
        }
        case RateOutcome::Kind::stale_period:
        case RateOutcome::Kind::noscript:
        case RateOutcome::Kind::error:
            break;
    }
    action.assign(settings.redis_error_action);
}

const char* outcome_word(RateOutcome::Kind kind) {
    switch (kind) {
        case RateOutcome::Kind::permitted: return "permitted";
        case RateOutcome::Kind::limited:
        case RateOutcome::Kind::paused: return "deferred";
        case RateOutcome::Kind::suppressed: return "rejected";
        case RateOutcome::Kind::stale_period:
        case RateOutcome::Kind::noscript:
        case RateOutcome::Kind::error: return "unavailable";
    }
    return "unavailable";
}

}  // namespace tenantmail::policyd
