// main.cpp — tenantmail-policyd: read the configuration and tenants, open the
// listening socket, drop privileges and serve Postfix's policy requests on
// one io_context thread until SIGTERM. SIGHUP reloads the tenants file; a
// broken file is refused with a log line and the old table keeps serving.
// Redis is reached through one pipelined connection (see common/redis.h);
// while it is down, requests get redis_error_action at once.
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <memory>
#include <optional>

#include "common/daemon_main.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/rate_limiter.h"
#include "common/redis.h"
#include "common/signal_loop.h"
#include "common/tenants.h"
#include "common/socket_exposure.h"
#include "common/unique_fd.h"
#include "common/listen_address.h"
#include "policyd/policy_server.h"
#include "common/options/policyd.h"

namespace {

using namespace tenantmail;
using namespace tenantmail::policyd;
namespace asio = boost::asio;

constexpr const char* program = "tenantmail-policyd";

int check_config(const PolicySettings& settings) {
    auto registry = TenantRegistry::load_file(settings.common.tenants_file);
    if (!registry) {
        std::fprintf(stderr, "%s: %s\n", program, registry.error().c_str());
        return 1;
    }
    if (auto password = read_redis_password(settings.common.redis); !password) {
        std::fprintf(stderr, "%s: %s\n", program, password.error().c_str());
        return 1;
    }
    std::printf("%s: configuration OK: %zu tenants\n", program, registry->tenants().size());
    return 0;
}

// A unix socket is handed to the unprivileged user, so that it can still be
// removed at exit and the mode (socket_mode) decides who may connect. Its
// group is left as created: in a set-group-id directory (the package's
// /var/spool/postfix/tenantmail, group postfix) that is the MTA's group.
ListenerOptions listener_options(const PolicySettings& settings) {
    ListenerOptions options;
    options.socket_mode = settings.socket_mode;
    if (!settings.user.empty() && settings.listen.kind == ListenAddress::Kind::unix_path) {
        if (const passwd* entry = ::getpwnam(settings.user.c_str()); entry != nullptr) {
            options.owner = entry->pw_uid;
        }
    }
    return options;
}

void reload(PolicyServer& server, const PolicySettings& settings) {
    auto registry = reload_tenants(settings.common.tenants_file);
    if (!registry) return;
    LOG_INFO("reloaded: %zu tenants", registry->tenants().size());
    server.set_registry(std::move(registry));
}

void log_stop(int signal_number, const ServerStats& stats) {
    LOG_INFO("stopping on signal %d: %llu requests, %llu permitted, %llu deferred, %llu rejected, "
             "%llu fallback answers, %llu protocol errors, %llu connections closed to make room",
             signal_number, static_cast<unsigned long long>(stats.requests),
             static_cast<unsigned long long>(stats.permitted), static_cast<unsigned long long>(stats.deferred),
             static_cast<unsigned long long>(stats.rejected), static_cast<unsigned long long>(stats.fallback),
             static_cast<unsigned long long>(stats.protocol_errors), static_cast<unsigned long long>(stats.evicted));
}

// What prepare opens, still privileged, for serve.
struct PolicyState {
    std::shared_ptr<const TenantRegistry> registry;
    std::string redis_password;
    UniqueFd listener;
};

Result<PolicyState> prepare(const PolicySettings& settings) {
    auto registry = TenantRegistry::load_file(settings.common.tenants_file);
    if (!registry) return Error{registry.error()};
    auto password = read_redis_password(settings.common.redis);
    if (!password) return Error{password.error()};
    if (settings.listen.is_inet()) {
        LOG_WARNING("%s", network_socket_warning("policy socket", settings.listen.to_string()).c_str());
    }
    auto listener = open_listener(settings.listen, listener_options(settings));
    if (!listener) return Error{listener.error()};
    return PolicyState{std::make_shared<const TenantRegistry>(std::move(registry).value()),
                       std::move(password).value(), std::move(listener).value()};
}

int serve(const PolicySettings& settings, PolicyState& state) {
    asio::io_context io(1);
    // Before the metrics that refer into its registry.
    std::unique_ptr<MetricsServer> metrics_server;
    if (!settings.metrics_listen.empty()) {
        auto started = MetricsServer::start(settings.metrics_listen);
        if (!started) return cannot_start(program, settings.foreground, started.error());
        metrics_server = std::move(*started);
    }
    std::optional<RedisMetrics> redis_metrics;
    std::optional<PolicyMetrics> policy_metrics;
    if (metrics_server) {
        redis_metrics.emplace(metrics_server->registry(), "policyd");
        policy_metrics.emplace(metrics_server->registry(), TenantLabels(settings.common.metrics_tenant_labels));
    }
    // Before the AsyncRedis: its destructor fails what is still pending,
    // which calls back into this.
    BlockedEvents blocked_events;
    AsyncRedis redis(io, settings.common.redis, std::move(state.redis_password),
                     {"answering with the fallback action until it is back",
                      "requests got the fallback answer meanwhile"});
    // Loaded on every (re)connection, so EVALSHA rarely meets NOSCRIPT.
    redis.add_startup_command({"SCRIPT", "LOAD", std::string(rate_script())});
    if (redis_metrics) redis.set_observer(&*redis_metrics);
    ServerSettings server_settings;
    server_settings.decision = settings.decision;
    server_settings.idle_timeout = settings.idle_timeout;
    server_settings.request_timeout = settings.request_timeout;
    server_settings.max_connections = settings.connection_limit;
    PolicyServer server(io, server_settings, redis, std::move(state.registry));
    server.set_blocked_events(&blocked_events);
    if (policy_metrics) server.set_metrics(&*policy_metrics);
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

    LOG_INFO("listening on %s; Redis at %s (timeout %lldms); %zu tenants; fallback answer: %s",
             settings.listen.to_string().c_str(), redis.where().c_str(),
             static_cast<long long>(settings.common.redis.timeout.count()), server.registry().tenants().size(),
             settings.decision.redis_error_action.c_str());
    io.run();

    if (settings.listen.kind == ListenAddress::Kind::unix_path) ::unlink(settings.listen.path.c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    DaemonSpec<PolicySettings, PolicyState> spec;
    spec.program = program;
    spec.add_options = [](boost::program_options::options_description& desc) {
        add_policyd_options(desc, kDefaultConfigFile);
    };
    spec.read_settings = [](const LoadedConfig& config) -> Result<PolicySettings> { return policy_settings(config); };
    spec.check_config = check_config;
    spec.prepare = prepare;
    spec.serve = serve;
    return run_daemon(spec, argc, argv);
}
