// bounce_processor.cpp — one delivery, start to finish (see bounce_processor.h).
// Order matters: the bounce address is authenticated before anything is
// written, so a forged report cannot add to a tenant's suppression list;
// every Redis write is idempotent (deterministic event ids, HSETNX), so a
// run that failed half-way and is retried by Postfix completes the rest.
#include "bounce/bounce_processor.h"

#include <cstdio>
#include <ctime>
#include <optional>

#include "bounce/bounce_facts.h"
#include "bounce/bounce_store.h"
#include "bounce/report_parser.h"
#include "bounce/report_text.h"
#include "common/bounce_address.h"
#include "common/log.h"
#include "common/message_store.h"
#include "common/redis.h"
#include "common/tenants.h"
#include "common/text.h"

namespace tenantmail::bounce {
namespace {

constexpr const char* kProgram = "tenantmail-bounce";

bool is_bounce_address(std::string_view address) {
    const std::string_view prefix = BounceAddressCodec::local_prefix;
    return address.size() > prefix.size() && iequals(address.substr(0, prefix.size()), prefix) &&
           address.find('@') != std::string_view::npos;
}

std::string domain_of(std::string_view address) {
    const std::size_t at = address.rfind('@');
    return at == std::string_view::npos ? std::string() : std::string(address.substr(at + 1));
}

std::string_view outcome_name(OutcomeResult result) {
    switch (result) {
        case OutcomeResult::recorded: return "recorded";
        case OutcomeResult::duplicate: return "already recorded";
        case OutcomeResult::already_final: return "recorded (recipient had bounced already)";
    }
    return "recorded";
}

struct Authenticated {
    BounceToken token;
    std::string address;  // the bounce address the token came from
};

class BounceRun {
public:
    BounceRun(const BounceSettings& settings, const Delivery& delivery)
        : settings_(settings), delivery_(delivery), now_(static_cast<std::int64_t>(std::time(nullptr))) {}

    int run() {
        auto registry = TenantRegistry::load_file(settings_.common.tenants_file);
        if (!registry) return tempfail(registry.error());
        auto codec = load_bounce_codec(settings_.common.bounce_secret_file);
        if (!codec) return tempfail(codec.error());

        report_ = parse_report(delivery_.message);
        const std::optional<Authenticated> authenticated = authenticate(*codec);
        if (!authenticated) return kExitDone;
        queue_id_ = authenticated->token.queue_id;

        auto password = read_redis_password(settings_.common.redis);
        if (!password) return tempfail(password.error());
        auto redis = RedisClient::connect(settings_.common.redis, *password);
        if (!redis) return tempfail(redis.error());

        auto tenant = find_tenant(*redis, *registry, authenticated->address);
        if (!tenant) return tempfail(tenant.error());
        if (tenant->empty()) {
            LOG_WARNING("queue_id=%s: no tenant has bounce domain %s and no message record names one; "
                        "report from %s dropped", queue_id_.c_str(), clean(domain_of(authenticated->address)).c_str(),
                        clean(delivery_.recipient).c_str());
            return kExitDone;
        }
        tenant_ = *tenant;
        return record(*redis);
    }

private:
    static std::string clean(std::string_view text) { return clean_text(text, 300); }

    int tempfail(const std::string& reason) {
        LOG_ERROR("%s; leaving the report to Postfix to retry", clean_text(reason, 1000).c_str());
        // pipe(8) puts what we print in its log line (and the queue's
        // deferral reason), where the admin looks first.
        if (!settings_.foreground) std::fprintf(stderr, "%s: %s\n", kProgram, clean_text(reason, 1000).c_str());
        return kExitTempfail;
    }

    // The token comes from the envelope recipient (bounces+TOKEN@domain);
    // for a report sent to another address of the bounce domain (a feedback
    // loop address, say) from our bounce address inside the report. Without
    // a valid token nothing is recorded: the HMAC is what stops anyone from
    // writing to a tenant's events or suppression list.
    std::optional<Authenticated> authenticate(const BounceAddressCodec& codec) {
        std::string address = delivery_.recipient;
        if (!is_bounce_address(address)) {
            address = report_ ? report_->original_sender() : std::string();
            if (!is_bounce_address(address)) {
                LOG_WARNING("report to <%s> carries no bounce address; dropped", clean(delivery_.recipient).c_str());
                return std::nullopt;
            }
        }
        const auto max_age = static_cast<std::int64_t>(settings_.max_token_age.count());
        auto token = codec.decode(address, now_, max_age);
        if (!token) {
            LOG_WARNING("bounce address <%s> refused: %s; report dropped", clean(address).c_str(), token.error().c_str());
            return std::nullopt;
        }
        return Authenticated{std::move(token).value(), address};
    }

    // The message record names the tenant when the milter stored one (and it
    // has not expired); otherwise the tenant that owns the bounce domain.
    // "" when neither knows.
    Result<std::string> find_tenant(RedisClient& redis, const TenantRegistry& registry, const std::string& address) {
        auto by_queue_id = tenant_of_queue_id(redis, queue_id_);
        if (!by_queue_id) return by_queue_id;
        if (!by_queue_id->empty()) return by_queue_id;
        const Tenant* owner = registry.bounce_domain_owner(domain_of(address));
        return owner == nullptr ? std::string() : owner->id;
    }

    std::string context_prefix() const {
        return "tenant=" + tenant_ + " queue_id=" + clean(queue_id_) +
               (report_ && !report_->message_id.empty() ? " report=<" + clean(report_->message_id) + ">" : "");
    }

    int record(RedisClient& redis) {
        if (!report_) return keep_unparsed(redis, report_.error());
        if (delivery_.truncated()) {
            LOG_WARNING("%s message of %zu bytes: read the first %zu", context_prefix().c_str(), delivery_.size,
                        delivery_.message.size());
        }
        auto recipients = message_recipients(redis, tenant_, queue_id_);
        if (!recipients) return tempfail(context_prefix() + ": " + recipients.error());
        ReportContext context{tenant_, queue_id_, report_reference(*report_, delivery_.message), now_,
                              std::move(recipients).value()};
        const ReportFacts facts = facts_of(*report_, context);
        if (!facts.unusable.empty()) return keep_unparsed(redis, facts.unusable);
        for (const RecipientFact& fact : facts.facts) {
            if (const int status = record_fact(redis, fact); status != kExitDone) return status;
        }
        for (const std::string& ignored : facts.ignored) {
            LOG_INFO("%s %s: nothing to record", context_prefix().c_str(), ignored.c_str());
        }
        for (const std::string& unclassified : facts.unclassified) {
            LOG_WARNING("%s %s: not recorded", context_prefix().c_str(), unclassified.c_str());
        }
        for (const std::string& stranger : facts.strangers) {
            LOG_WARNING("%s <%s> is not a recipient of this message: not recorded", context_prefix().c_str(),
                        stranger.c_str());
        }
        return kExitDone;
    }

    int record_fact(RedisClient& redis, const RecipientFact& fact) {
        const Outcome& outcome = fact.outcome;
        auto recorded = record_outcome(redis, outcome);
        if (!recorded) return tempfail(context_prefix() + ": " + recorded.error());
        std::string suppressed;
        if (fact.suppression) {
            auto added = add_suppression(redis, tenant_, *fact.suppression);
            if (!added) return tempfail(context_prefix() + ": " + added.error());
            suppressed = *added ? ", suppressed" : ", already suppressed";
        }
        const nlohmann::json& details = outcome.event.details;
        const std::string code = details.contains("status") ? details["status"].get<std::string>()
                                                            : details.value("feedback_type", std::string());
        LOG_INFO("%s recipient=<%s> %s %s: %s%s", context_prefix().c_str(), outcome.recipient.c_str(),
                 std::string(event_kind_name(outcome.event.kind)).c_str(), code.c_str(),
                 std::string(outcome_name(*recorded)).c_str(), suppressed.c_str());
        return kExitDone;
    }

    int keep_unparsed(RedisClient& redis, const std::string& why) {
        std::string reason = why;
        if (delivery_.truncated()) {
            reason += " (message of " + std::to_string(delivery_.size) + " bytes, read the first " +
                      std::to_string(delivery_.message.size()) + ")";
        }
        auto stored = store_unparsed(redis, tenant_, delivery_.message, reason, now_, settings_.unparsed_keep);
        if (!stored) return tempfail(context_prefix() + ": " + stored.error());
        LOG_WARNING("%s unparsed: %s; kept as %s in %s", context_prefix().c_str(), clean_text(reason, 500).c_str(),
                    stored->c_str(), unparsed_stream_key(tenant_).c_str());
        return kExitDone;
    }

    const BounceSettings& settings_;
    const Delivery& delivery_;
    const std::int64_t now_;
    Result<Report> report_ = Error{"not parsed"};
    std::string queue_id_;
    std::string tenant_;
};

}  // namespace

int process_bounce(const BounceSettings& settings, const Delivery& delivery) {
    return BounceRun(settings, delivery).run();
}

int check_bounce_config(const BounceSettings& settings) {
    auto registry = TenantRegistry::load_file(settings.common.tenants_file);
    if (!registry) {
        std::fprintf(stderr, "%s: %s\n", kProgram, registry.error().c_str());
        return 1;
    }
    auto codec = load_bounce_codec(settings.common.bounce_secret_file);
    if (!codec) {
        std::fprintf(stderr, "%s: %s\n", kProgram, codec.error().c_str());
        return 1;
    }
    std::printf("%s: configuration OK: %zu tenants\n", kProgram, registry->tenants().size());
    return 0;
}

}  // namespace tenantmail::bounce
