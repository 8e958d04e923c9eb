// unsubscribe_delivery.cpp — see unsubscribe_delivery.h.
#include "bounce/unsubscribe_delivery.h"

#include <cstdio>
#include <ctime>

#include "bounce/report_text.h"
#include "bounce/unsubscribe_request.h"
#include "common/events.h"
#include "common/log.h"
#include "common/redis.h"
#include "common/suppression_store.h"
#include "common/tracking_token.h"

namespace tenantmail::bounce {
namespace {

int tempfail(const BounceSettings& settings, const std::string& reason) {
    const std::string clean = clean_text(reason, 1000);
    LOG_ERROR("%s; leaving the unsubscribe to Postfix to retry", clean.c_str());
    // pipe(8) puts what we print in its log line, where the admin looks first.
    if (!settings.foreground) std::fprintf(stderr, "tenantmail-bounce: %s\n", clean.c_str());
    return kExitTempfail;
}

Event unsubscribe_event(const UnsubscribeRequest& request) {
    Event event = make_event(EventKind::unsubscribe, request.tenant, request.recipient);
    event.queue_id = request.queue_id;
    event.details = {{"via", "mailto"}};
    return event;
}

}  // namespace

int process_unsubscribe(const BounceSettings& settings, const TenantRegistry& registry, const Delivery& delivery) {
    auto codec = load_tracking_codec(settings.common.tracking_secret_file);
    if (!codec) return tempfail(settings, codec.error());
    auto request = unsubscribe_request(delivery.recipient, *codec, registry);
    if (!request) {
        LOG_WARNING("unsubscribe address <%s> refused: %s; message dropped",
                    clean_text(delivery.recipient, 300).c_str(), clean_text(request.error(), 300).c_str());
        return kExitDone;
    }
    auto password = read_redis_password(settings.common.redis);
    if (!password) return tempfail(settings, password.error());
    auto redis = RedisClient::connect(settings.common.redis, *password);
    if (!redis) return tempfail(settings, redis.error());

    const SuppressionEntry entry{"unsubscribe", static_cast<std::int64_t>(std::time(nullptr))};
    auto added = suppress_with_event(*redis, request->tenant, request->recipient, entry, unsubscribe_event(*request));
    const std::string context = "tenant=" + request->tenant + " queue_id=" + clean_text(request->queue_id, 100);
    if (!added) return tempfail(settings, context + ": " + added.error());
    LOG_INFO("%s recipient=<%s> unsubscribe via mailto: %s", context.c_str(),
             clean_text(request->recipient, 300).c_str(), *added ? "suppressed" : "already suppressed");
    return kExitDone;
}

}  // namespace tenantmail::bounce
