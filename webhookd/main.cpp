// main.cpp — tenantmail-webhookd: read the configuration, the tenants with
// a webhook_url and their signing secrets, drop privileges and dispatch
// events until SIGTERM (dispatcher.h). SIGHUP reloads the tenants and
// secrets; a broken file or an unreadable secret is refused with a log line
// and the previous table keeps serving. Unsafe secret files (readable by
// group or others) stop the start with a message naming the file.
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/daemon_main.h"
#include "common/duration.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/redis.h"
#include "common/unique_fd.h"
#include "webhookd/dispatcher.h"
#include "common/options/webhookd.h"
#include "webhookd/webhook_tenants.h"

namespace {

using namespace tenantmail;
using namespace tenantmail::webhookd;

constexpr const char* program = "tenantmail-webhookd";

std::string default_consumer() {
    char host[HOST_NAME_MAX + 1] = {};
    if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::snprintf(host, sizeof host, "localhost");
    return std::string(host) + ":" + std::to_string(::getpid());
}

int check_config(const WebhookSettings& settings) {
    auto tenants = load_webhook_tenants(settings.common.tenants_file);
    if (!tenants) {
        std::fprintf(stderr, "%s: %s\n", program, tenants.error().c_str());
        return 1;
    }
    if (auto password = read_redis_password(settings.common.redis); !password) {
        std::fprintf(stderr, "%s: %s\n", program, password.error().c_str());
        return 1;
    }
    // What the URL alone shows; names are judged on the address connected to.
    for (const WebhookTenant& tenant : *tenants) {
        if (const std::string why = refused_url(tenant.url, settings.destinations); !why.empty()) {
            std::fprintf(stderr, "%s: warning: tenant %s: webhook_url will be refused: %s\n", program,
                         tenant.id.c_str(), why.c_str());
        }
    }
    std::printf("%s: configuration OK: %zu tenants with a webhook\n", program, tenants->size());
    return 0;
}

// What prepare reads, still privileged, and start opens for serve.
struct WebhookState {
    std::vector<WebhookTenant> tenants;
    std::string redis_password;
    UniqueFd signal_fd;
    std::unique_ptr<HttpPoster> poster;
};

Result<WebhookState> prepare(const WebhookSettings& settings) {
    auto tenants = load_webhook_tenants(settings.common.tenants_file);
    if (!tenants) return Error{tenants.error()};
    auto password = read_redis_password(settings.common.redis);
    if (!password) return Error{password.error()};
    WebhookState state;
    state.tenants = std::move(tenants).value();
    state.redis_password = std::move(password).value();
    return state;
}

Result<void> start(const WebhookSettings& settings, WebhookState& state) {
    // Signals arrive through a descriptor polled with the transfers; blocked
    // before libcurl may start resolver threads, which inherit the mask.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGHUP);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    if (::sigprocmask(SIG_BLOCK, &signals, nullptr) != 0) return make_error("cannot block signals");
    state.signal_fd = UniqueFd(::signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC));
    if (state.signal_fd.get() < 0) return make_error("cannot create a signalfd");

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return make_error("libcurl failed to initialise");
    auto poster = HttpPoster::create(settings.destinations);
    if (!poster) return Error{poster.error()};
    state.poster = std::move(poster).value();
    return {};
}

int serve(const WebhookSettings& settings, WebhookState& state) {
    const std::string consumer = settings.consumer.empty() ? default_consumer() : settings.consumer;
    LOG_INFO("starting: %zu tenants with a webhook; Redis at %s; group %s, consumer %s; batches of at most %zu, "
             "retries from %s to %s for %s",
             state.tenants.size(), describe_redis(settings.common.redis).c_str(), settings.group.c_str(),
             consumer.c_str(), settings.max_batch, format_duration(settings.retry_initial).c_str(),
             format_duration(settings.retry_max).c_str(), format_duration(settings.retry_for).c_str());
    {
        // Started here, after detaching and with the signals blocked: its
        // threads inherit the mask.
        std::unique_ptr<MetricsServer> metrics_server;
        std::optional<WebhookMetrics> metrics;
        if (!settings.metrics_listen.empty()) {
            auto started = MetricsServer::start(settings.metrics_listen);
            if (!started) return cannot_start(program, settings.foreground, started.error());
            metrics_server = std::move(*started);
            metrics.emplace(metrics_server->registry(), TenantLabels(settings.common.metrics_tenant_labels));
        }
        Dispatcher dispatcher(settings, std::move(state.redis_password), consumer, std::move(state.tenants),
                              std::move(state.poster), state.signal_fd.get());
        if (metrics) dispatcher.set_metrics(&*metrics);
        dispatcher.run();
    }
    curl_global_cleanup();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    DaemonSpec<WebhookSettings, WebhookState> spec;
    spec.program = program;
    spec.add_options = [](boost::program_options::options_description& desc) {
        add_webhookd_options(desc, kDefaultConfigFile);
    };
    spec.read_settings = [](const LoadedConfig& config) -> Result<WebhookSettings> {
        auto settings = webhook_settings(config);
        if (!settings) return make_error((config.file.empty() ? "" : config.file + ": ") + settings.error());
        return settings;
    };
    spec.check_config = check_config;
    spec.prepare = prepare;
    spec.start = start;
    spec.serve = serve;
    return run_daemon(spec, argc, argv);
}
