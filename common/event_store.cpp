// event_store.cpp — see event_store.h.
#include "common/event_store.h"

namespace tenantmail {

Result<std::string> append_event(RedisClient& redis, const Event& event, std::size_t cap) {
    auto reply = redis.command(build_event_xadd(event, cap));
    if (!reply) return make_error("tenant " + event.tenant + ": cannot record " +
                                  std::string(event_kind_name(event.kind)) + " event: " + reply.error());
    const redisReply* r = reply->get();
    if (r->type != REDIS_REPLY_STRING)
        return make_error("tenant " + event.tenant + ": XADD " + events_stream_key(event.tenant) +
                          " gave an unexpected reply");
    return std::string(r->str, r->len);
}

}  // namespace tenantmail
