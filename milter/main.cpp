// main.cpp — tenantmail-milter: read the configuration, load the signing
// table, open the milter socket, drop privileges and serve until SIGTERM.
// SIGHUP reloads tenants, keys and the bounce secret; a broken new table is
// refused with a log line and the old one keeps serving.
//
// Signals: libmilter's own signal thread treats SIGHUP as "stop". To keep
// SIGHUP for reloading, smfi_main runs on a second thread and the main thread
// waits in sigwait(); Linux offers a process-directed signal to the main
// thread first when it is waiting for it, so libmilter never sees it.
#include <libmilter/mfapi.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>

#include "common/daemon_main.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/redis.h"
#include "common/socket_exposure.h"
#include "common/options/milter.h"
#include "common/signing_table.h"
#include "milter/milter_callbacks.h"

namespace {

using namespace tenantmail;
using namespace tenantmail::milter;

constexpr const char* program = "tenantmail-milter";

// Postfix leaves Nagle on and libmilter writes each modification and the
// final reply separately: without TCP_NODELAY the final reply waits ~40 ms
// for a delayed ACK. Accepted sockets inherit the option from the listener,
// which libmilter does not expose, so find it among our descriptors.
void disable_nagle_on_listener() {
    const int limit = static_cast<int>(::sysconf(_SC_OPEN_MAX) > 1024 ? 1024 : ::sysconf(_SC_OPEN_MAX));
    for (int fd = 0; fd < limit; ++fd) {
        int listening = 0;
        socklen_t length = sizeof listening;
        if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) != 0 || !listening) continue;
        sockaddr_storage address{};
        socklen_t address_length = sizeof address;
        if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &address_length) != 0) continue;
        if (address.ss_family != AF_INET && address.ss_family != AF_INET6) continue;
        const int on = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    }
}

Result<std::shared_ptr<const SigningTable>> load_signing_table(const MilterSettings& settings) {
    return SigningTable::load(settings.common.tenants_file, settings.common.bounce_secret_file,
                              settings.common.tracking_secret_file, settings.platform_tenant);
}

int check_config(const MilterSettings& settings) {
    auto table = load_signing_table(settings);
    if (!table) {
        std::fprintf(stderr, "%s: %s\n", program, table.error().c_str());
        return 1;
    }
    std::printf("%s: configuration OK: %zu tenants\n", program, (*table)->registry().tenants().size());
    return 0;
}

// The path of a unix: or local: socket; "" for a network socket.
std::string unix_socket_path(const std::string& spec) {
    if (is_network_socket(spec)) return {};
    return spec.front() == '/' ? spec : spec.substr(spec.find(':') + 1);
}

// libmilter creates the socket under our umask: create it owner-only, then
// open it to socket_mode (and give it to the unprivileged user, keeping the
// group it inherits from a set-group-id directory such as the package's).
Result<void> open_unix_socket(const std::string& path, const MilterSettings& settings) {
    const std::string directory = path.substr(0, path.rfind('/') + 1);
    struct stat st {};
    if (!directory.empty() && ::stat(directory.c_str(), &st) != 0) {
        return make_error("cannot listen on unix:" + path + ": directory " + directory + ": " + std::strerror(errno) +
                          " (the Debian package creates /var/spool/postfix/tenantmail for it)");
    }
    const mode_t previous = ::umask(0177);
    const bool opened = smfi_opensocket(true) != MI_FAILURE;  // true: remove a stale socket
    ::umask(previous);
    if (!opened) return make_error("cannot listen on unix:" + path);
    if (::chmod(path.c_str(), static_cast<mode_t>(settings.socket_mode)) != 0) {
        return make_error("cannot chmod " + path + ": " + std::strerror(errno));
    }
    if (!settings.user.empty()) {
        const passwd* entry = ::getpwnam(settings.user.c_str());
        if (entry != nullptr && ::chown(path.c_str(), entry->pw_uid, static_cast<gid_t>(-1)) != 0) {
            return make_error("cannot chown " + path + " to " + settings.user + ": " + std::strerror(errno));
        }
    }
    return {};
}

Result<void> open_socket(const MilterSettings& settings) {
    if (smfi_register(filter_description()) == MI_FAILURE) return make_error("smfi_register failed");
    if (smfi_setconn(const_cast<char*>(settings.socket.c_str())) == MI_FAILURE) {
        return make_error("invalid milter socket " + settings.socket);
    }
    smfi_settimeout(static_cast<int>(settings.smtp_timeout.count()));
    if (const std::string path = unix_socket_path(settings.socket); !path.empty()) {
        return open_unix_socket(path, settings);
    }
    LOG_WARNING("%s", network_socket_warning("milter socket", settings.socket).c_str());
    if (smfi_opensocket(true) == MI_FAILURE) return make_error("cannot listen on " + settings.socket);
    disable_nagle_on_listener();
    return {};
}

void reload(const MilterSettings& settings) {
    auto table = load_signing_table(settings);
    if (!table) {
        LOG_ERROR("reload refused, still serving the previous tenants and keys: %s", table.error().c_str());
        return;
    }
    LOG_INFO("reloaded: %zu tenants", (*table)->registry().tenants().size());
    install_table(std::move(table).value());
}

// Waits for signals until told to stop; returns smfi_main's status.
int serve(const MilterSettings& settings, const sigset_t& signals) {
    int status = MI_SUCCESS;
    std::thread milter([&status] {
        status = smfi_main();
        // Wake the main thread if libmilter stopped by itself.
        ::kill(::getpid(), SIGTERM);
    });
    for (;;) {
        int signal_number = 0;
        if (::sigwait(&signals, &signal_number) != 0) continue;
        if (signal_number == SIGHUP) {
            reload(settings);
            continue;
        }
        LOG_INFO("stopping on signal %d", signal_number);
        smfi_stop();
        break;
    }
    milter.join();
    return status == MI_SUCCESS ? 0 : 1;
}

// What prepare opens for serve.
struct MilterState {
    std::unique_ptr<MetricsServer> metrics_server;  // before what refers into its registry
    std::unique_ptr<MilterMetrics> metrics;
    std::unique_ptr<RecordWriter> records;
    std::unique_ptr<ReservationSettler> reservations;
    sigset_t signals{};
};

Result<MilterState> prepare(const MilterSettings& settings) {
    auto table = load_signing_table(settings);
    if (!table) return Error{table.error()};
    install_settings(settings);
    install_table(std::move(table).value());

    MilterState state;
    // Read while still privileged: the password file is owner-only.
    if (settings.record_messages) {
        auto password = read_redis_password(settings.common.redis);
        if (!password) return Error{password.error()};
        state.records = std::make_unique<RecordWriter>(settings.common.redis, *password, settings.record_ttl,
                                                       settings.record_queue_limit);
    }
    // Accepted-only counting: its Redis connections open on first use, so
    // this costs nothing unless a tenant uses it.
    if (auto password = read_redis_password(settings.common.redis)) {
        state.reservations = std::make_unique<ReservationSettler>(settings.common.redis, *password);
        install_reservation_settler(state.reservations.get());
    } else {
        LOG_WARNING("accepted-only counting is off: %s", password.error().c_str());
    }
    if (auto opened = open_socket(settings); !opened) return Error{opened.error()};
    return state;
}

Result<void> start(const MilterSettings& settings, MilterState& state) {
    // Blocked here, so every thread (libmilter's included) inherits the mask
    // and only sigwait() in serve receives these.
    sigemptyset(&state.signals);
    sigaddset(&state.signals, SIGHUP);
    sigaddset(&state.signals, SIGTERM);
    sigaddset(&state.signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &state.signals, nullptr);

    // Started only now: a thread would not survive detaching (fork), and it
    // inherits the blocked signals above. The metrics server's threads too.
    if (!settings.metrics_listen.empty()) {
        auto server = MetricsServer::start(settings.metrics_listen);
        if (!server) return Error{server.error()};
        state.metrics_server = std::move(*server);
        state.metrics = std::make_unique<MilterMetrics>(state.metrics_server->registry(),
                                                        TenantLabels(settings.common.metrics_tenant_labels));
        install_metrics(state.metrics.get());
        if (state.records) state.records->set_depth_gauge(&state.metrics->record_queue_depth());
    }
    if (state.records) {
        state.records->start();
        install_record_writer(state.records.get());
    }
    return {};
}

int serve_and_finish(const MilterSettings& settings, MilterState& state) {
    LOG_INFO("listening on %s", settings.socket.c_str());
    const int status = serve(settings, state.signals);
    install_record_writer(nullptr);
    install_reservation_settler(nullptr);
    install_metrics(nullptr);
    state.records.reset();  // writes what Redis still takes, bounded by redis.timeout
    return status;
}

}  // namespace

int main(int argc, char** argv) {
    DaemonSpec<MilterSettings, MilterState> spec;
    spec.program = program;
    spec.add_options = [](boost::program_options::options_description& desc) {
        add_milter_options(desc, kDefaultConfigFile);
    };
    spec.read_settings = [](const LoadedConfig& config) -> Result<MilterSettings> { return milter_settings(config); };
    spec.check_config = check_config;
    spec.prepare = prepare;
    spec.start = start;
    spec.serve = serve_and_finish;
    return run_daemon(spec, argc, argv);
}
