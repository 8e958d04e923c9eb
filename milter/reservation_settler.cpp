// reservation_settler.cpp — see reservation_settler.h.
#include "milter/reservation_settler.h"

#include <optional>

#include "common/log.h"
#include "common/recipient.h"
#include "common/redis.h"
#include "common/reservation.h"

namespace tenantmail::milter {

namespace {

// One per libmilter worker thread; reopened after a failure.
thread_local std::optional<RedisClient> t_client;

}  // namespace

ReservationSettler::ReservationSettler(RedisSettings redis, std::string password)
    : redis_(std::move(redis)),
      password_(std::move(password)),
      outage_(std::chrono::milliseconds(200), std::chrono::milliseconds(10'000)) {}

void ReservationSettler::commit(std::string_view tenant, std::string_view connection,
                                const std::vector<std::string>& recipients) {
    std::vector<std::string> queued;
    queued.reserve(recipients.size());
    for (const std::string& recipient : recipients) queued.push_back(normalise_recipient(recipient));
    run(tenant, connection, build_reservation_commit(tenant, connection, queued), "commit");
}

void ReservationSettler::release(std::string_view tenant, std::string_view connection) {
    run(tenant, connection, build_reservation_release(tenant, connection), "release");
}

void ReservationSettler::run(std::string_view tenant, std::string_view connection, std::vector<std::string> argv,
                             const char* what) {
    if (!may_try()) return;
    if (!t_client) {
        auto client = RedisClient::connect(redis_, password_);
        if (!client) return failed(tenant, client.error());
        t_client.emplace(std::move(client).value());
    }
    auto result = run_reservation(*t_client, std::move(argv));
    if (!result) {
        t_client.reset();
        return failed(tenant, result.error());
    }
    succeeded();
    if (result->kept + result->released > 0) {
        LOG_DEBUG("tenant=%s connection=%.*s: reservations %s: %lld kept, %lld released", std::string(tenant).c_str(),
                  static_cast<int>(connection.size()), connection.data(), what, result->kept, result->released);
    }
}

bool ReservationSettler::may_try() {
    const std::lock_guard<std::mutex> lock(mutex_);
    return !outage_.ongoing() || Outage::Clock::now() >= retry_at_;
}

void ReservationSettler::failed(std::string_view tenant, const std::string& reason) {
    const std::lock_guard<std::mutex> lock(mutex_);
    const auto now = Outage::Clock::now();
    const Outage::Failure failure = outage_.on_failure(now);
    retry_at_ = now + failure.delay;
    if (failure.log_now) {
        LOG_WARNING("tenant=%s: cannot settle accepted-only reservations: %s; the permits stay counted until "
                    "Redis answers again",
                    std::string(tenant).c_str(), reason.c_str());
    }
}

void ReservationSettler::succeeded() {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (const auto summary = outage_.on_success(Outage::Clock::now())) {
        LOG_INFO("accepted-only reservations settled again after %llds (%llu attempts failed meanwhile)",
                 static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(summary->duration).count()),
                 static_cast<unsigned long long>(summary->failures));
    }
}

}  // namespace tenantmail::milter
