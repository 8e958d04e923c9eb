// main.cpp — tenantmail-trackd: read the configuration, the tenants and the
// tracking secret, open the listening socket, drop privileges and serve the
// tracking links (open pixel, click redirect, one-click unsubscribe) on one
// io_context thread until SIGTERM. SIGHUP reloads the tenants file; a
// broken file is refused with a log line and the old table keeps serving.
// Redis is reached through one pipelined connection (common/redis.h).
#include <signal.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <memory>
#include <optional>

#include "common/daemon_main.h"
#include "common/listen_address.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/options/trackd.h"
#include "common/redis.h"
#include "common/signal_loop.h"
#include "common/tenants.h"
#include "common/tracking_token.h"
#include "common/unique_fd.h"
#include "trackd/track_events.h"
#include "trackd/track_server.h"

namespace {

using namespace tenantmail;
using namespace tenantmail::trackd;
namespace asio = boost::asio;

constexpr const char* program = "tenantmail-trackd";

std::size_t tracking_tenants(const TenantRegistry& registry) {
    std::size_t count = 0;
    for (const Tenant& tenant : registry.tenants()) count += tenant.tracking_domain.empty() ? 0 : 1;
    return count;
}

int check_config(const TrackSettings& settings) {
    auto registry = TenantRegistry::load_file(settings.common.tenants_file);
    if (!registry) {
        std::fprintf(stderr, "%s: %s\n", program, registry.error().c_str());
        return 1;
    }
    if (auto codec = load_tracking_codec(settings.common.tracking_secret_file); !codec) {
        std::fprintf(stderr, "%s: %s\n", program, codec.error().c_str());
        return 1;
    }
    if (auto password = read_redis_password(settings.common.redis); !password) {
        std::fprintf(stderr, "%s: %s\n", program, password.error().c_str());
        return 1;
    }
    std::printf("%s: configuration OK: %zu tenants, %zu with a tracking_domain\n", program,
                registry->tenants().size(), tracking_tenants(*registry));
    return 0;
}

// What prepare opens, still privileged, for serve.
struct TrackState {
    std::shared_ptr<const TenantRegistry> registry;
    std::optional<TrackingTokenCodec> codec;
    std::string redis_password;
    UniqueFd listener;
};

Result<TrackState> prepare(const TrackSettings& settings) {
    auto registry = TenantRegistry::load_file(settings.common.tenants_file);
    if (!registry) return Error{registry.error()};
    auto codec = load_tracking_codec(settings.common.tracking_secret_file);
    if (!codec) return Error{codec.error()};
    auto password = read_redis_password(settings.common.redis);
    if (!password) return Error{password.error()};
    auto listener = policyd::open_listener(settings.listen, {});
    if (!listener) return Error{listener.error()};
    TrackState state;
    state.registry = std::make_shared<const TenantRegistry>(std::move(registry).value());
    state.codec = std::move(codec).value();
    state.redis_password = std::move(password).value();
    state.listener = std::move(listener).value();
    return state;
}

void reload(TrackServer& server, const TrackSettings& settings) {
    auto registry = reload_tenants(settings.common.tenants_file);
    if (!registry) return;
    LOG_INFO("reloaded: %zu tenants, %zu with a tracking_domain", registry->tenants().size(),
             tracking_tenants(*registry));
    server.set_registry(std::move(registry));
}

void log_stop(int signal_number, const ServerStats& stats) {
    LOG_INFO("stopping on signal %d: %llu requests, %llu opens, %llu clicks, %llu unsubscribes, %llu not found, "
             "%llu events recorded, %llu repeated opens, %llu events lost, %llu connections refused",
             signal_number, static_cast<unsigned long long>(stats.requests),
             static_cast<unsigned long long>(stats.opens), static_cast<unsigned long long>(stats.clicks),
             static_cast<unsigned long long>(stats.unsubscribes), static_cast<unsigned long long>(stats.not_found),
             static_cast<unsigned long long>(stats.events), static_cast<unsigned long long>(stats.repeated_opens),
             static_cast<unsigned long long>(stats.lost_events),
             static_cast<unsigned long long>(stats.refused_connections));
}

int serve(const TrackSettings& settings, TrackState& state) {
    asio::io_context io(1);
    // Before the metrics that refer into its registry.
    std::unique_ptr<MetricsServer> metrics_server;
    std::optional<RedisMetrics> redis_metrics;
    std::optional<TrackMetrics> track_metrics;
    if (!settings.metrics_listen.empty()) {
        auto started = MetricsServer::start(settings.metrics_listen);
        if (!started) return cannot_start(program, settings.foreground, started.error());
        metrics_server = std::move(*started);
        redis_metrics.emplace(metrics_server->registry(), "trackd");
        track_metrics.emplace(metrics_server->registry());
    }
    AsyncRedis redis(io, settings.common.redis, std::move(state.redis_password),
                     {"serving pixels and redirects without recording their events, answering unsubscribes with 503",
                      "requests could not be recorded meanwhile"});
    // Loaded on every (re)connection, so EVALSHA rarely meets NOSCRIPT.
    for (const std::string_view script : track_scripts()) redis.add_startup_command({"SCRIPT", "LOAD", std::string(script)});
    // Nobody waits for an open's or a click's event: holding them up to a
    // millisecond gathers a busy moment's events into one write to Redis
    // (fewer wake-ups of redis-server, and of trackd for its replies).
    redis.set_write_delay(std::chrono::milliseconds(1));
    if (redis_metrics) redis.set_observer(&*redis_metrics);
    ServerSettings server_settings;
    server_settings.trusted_proxies = settings.trusted_proxies;
    server_settings.scanner_window = std::chrono::duration_cast<std::chrono::seconds>(settings.scanner_window);
    server_settings.open_repeat_window = std::chrono::duration_cast<std::chrono::seconds>(settings.open_repeat_window);
    server_settings.request_timeout = settings.request_timeout;
    server_settings.connection_limit = settings.connection_limit;
    TrackServer server(io, server_settings, redis, std::move(*state.codec), std::move(state.registry));
    if (track_metrics) server.set_metrics(&*track_metrics);
    if (auto started = server.start(std::move(state.listener)); !started) {
        return cannot_start(program, settings.foreground, started.error());
    }
    redis.start();

    asio::signal_set signals(io, SIGHUP, SIGTERM, SIGINT);
    wait_for_signals(signals, {[&] { reload(server, settings); },
                               [&](int signal_number) {
                                   log_stop(signal_number, server.stats());
                                   server.stop();
                                   redis.stop();
                               }});
    LOG_INFO("listening on %s; Redis at %s (timeout %lldms); %zu tenants, %zu with a tracking_domain",
             settings.listen.to_string().c_str(), redis.where().c_str(),
             static_cast<long long>(settings.common.redis.timeout.count()), server.registry().tenants().size(),
             tracking_tenants(server.registry()));
    io.run();
    // Whatever is still pending fails now, while the server it reports to exists.
    server.stop();
    redis.stop();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    DaemonSpec<TrackSettings, TrackState> spec;
    spec.program = program;
    spec.add_options = [](boost::program_options::options_description& desc) {
        add_trackd_options(desc, kDefaultConfigFile);
    };
    spec.read_settings = [](const LoadedConfig& config) -> Result<TrackSettings> {
        auto settings = track_settings(config);
        if (!settings) return make_error((config.file.empty() ? "" : config.file + ": ") + settings.error());
        return settings;
    };
    spec.check_config = check_config;
    spec.prepare = prepare;
    spec.serve = serve;
    return run_daemon(spec, argc, argv);
}
