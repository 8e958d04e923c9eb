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

#include "common/daemon.h"
#include "common/duration.h"
#include "common/log.h"
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

}  // namespace

int main(int argc, char** argv) {
    tenantmail::keep_secrets_out_of_core_dumps();
    namespace po = boost::program_options;
    po::options_description desc(std::string("usage: ") + program + " [options]\n\noptions");
    add_webhookd_options(desc, kDefaultConfigFile);
    int exit_status = 0;
    auto config = load_program_config(program, argc, argv, desc, exit_status);
    if (!config) return exit_status;
    auto loaded_settings = webhook_settings(*config);
    if (!loaded_settings) {
        std::fprintf(stderr, "%s: %s%s\n", program, config->file.empty() ? "" : (config->file + ": ").c_str(),
                     loaded_settings.error().c_str());
        return 2;
    }
    const WebhookSettings settings = std::move(loaded_settings).value();
    if (settings.common.check_config) return check_config(settings);

    LogLevel level = LogLevel::info;
    parse_log_level(settings.common.log_level, level);
    log_open(program, settings.foreground, level);
    const auto fatal = [&](const std::string& message) {
        return cannot_start(program, settings.foreground, message);
    };

    auto tenants = load_webhook_tenants(settings.common.tenants_file);
    if (!tenants) return fatal(tenants.error());
    auto password = read_redis_password(settings.common.redis);
    if (!password) return fatal(password.error());

    if (auto daemon = become_daemon(settings.user, settings.foreground, settings.pidfile); !daemon) {
        return fatal(daemon.error());
    }
    // Signals arrive through a descriptor polled with the transfers; blocked
    // before libcurl may start resolver threads, which inherit the mask.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGHUP);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    if (::sigprocmask(SIG_BLOCK, &signals, nullptr) != 0) return fatal("cannot block signals");
    const UniqueFd signal_fd(::signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC));
    if (signal_fd.get() < 0) return fatal("cannot create a signalfd");

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return fatal("libcurl failed to initialise");
    auto poster = HttpPoster::create(settings.destinations);
    if (!poster) return fatal(poster.error());

    const std::string consumer = settings.consumer.empty() ? default_consumer() : settings.consumer;
    LOG_INFO("starting: %zu tenants with a webhook; Redis at %s; group %s, consumer %s; batches of at most %zu, "
             "retries from %s to %s for %s",
             tenants->size(), describe_redis(settings.common.redis).c_str(), settings.group.c_str(),
             consumer.c_str(), settings.max_batch, format_duration(settings.retry_initial).c_str(),
             format_duration(settings.retry_max).c_str(), format_duration(settings.retry_for).c_str());
    {
        Dispatcher dispatcher(settings, std::move(password).value(), consumer, std::move(tenants).value(),
                              std::move(poster).value(), signal_fd.get());
        dispatcher.run();
    }
    curl_global_cleanup();
    remove_pidfile(settings.pidfile);
    return 0;
}
