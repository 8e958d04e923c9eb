// policy_load.cpp — a Postfix policy-delegation load driver: C concurrent
// connections, each reused for request after request as Postfix's smtpd
// does (one request in flight per connection, the reply awaited before the
// next), sending the attribute set Postfix 3.7 sends at RCPT time for
// `check_policy_service`, spread over T tenants. Prints requests/s, latency
// percentiles and how many replies had each action, so refusals and errors
// are visible. See bench/README.md.
//
// Loopback only: the driver refuses any address outside 127.0.0.0/8 and ::1.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
    std::string server;
    int connections = 8;
    double duration = 5.0;
    double warmup = 1.0;
    long requests = 0;  // > 0: this many requests instead of a duration
    int tenants = 1000;
    bool by_address = false;           // identify tenants by client_address instead of sasl_username
    std::string login_format = "tenant%d-bulk";
    std::string domain_format = "tenant%d.example";
    int rcpts_per_msg = 1;
    double timeout = 10.0;
    long max_errors = 100;
    std::string label;
    unsigned seed = 1;
};

[[noreturn]] void usage(int status) {
    std::fputs(
        "usage: policy_load --server inet:PORT@HOST|unix:/path [options]\n"
        "\n"
        "Sends Postfix smtpd_access_policy requests (protocol_state=RCPT) over C\n"
        "reused connections and reports requests/s, p50/p99/p99.9 latency and the\n"
        "count of each reply action.\n"
        "\n"
        "  -s, --server SPEC      policy server (inet:PORT@HOST on loopback, or unix:/path)\n"
        "  -c, --connections C    concurrent connections (default 8)\n"
        "  -d, --duration SEC     measured time (default 5), after --warmup\n"
        "      --warmup SEC       unmeasured time first (default 1)\n"
        "  -n, --requests N       send N requests in all instead (no warmup)\n"
        "  -t, --tenants T        spread requests uniformly over T tenants (default 1000)\n"
        "      --login-format F   sasl_username of tenant i (default tenant%d-bulk)\n"
        "      --domain-format F  sender domain of tenant i (default tenant%d.example)\n"
        "      --by-address       no SASL login; tenant i is client_address 127.1.x.y\n"
        "                         (x.y = i as two octets)\n"
        "      --rcpts-per-msg R  recipients per message: R requests share queue_id\n"
        "                         and instance, recipient_count counts up (default 1)\n"
        "      --seed N           random seed (default 1)\n"
        "      --timeout SEC      per-reply timeout (default 10)\n"
        "      --max-errors N     give up after N errors (default 100)\n"
        "      --label TEXT       name for the RESULT line\n"
        "\n"
        "Exit status: 0 if every request got a well-formed action= reply, 1 otherwise.\n",
        status == 0 ? stdout : stderr);
    std::exit(status);
}

Options parse_options(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "policy_load: %s needs a value\n", arg.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (arg == "-h" || arg == "--help") usage(0);
        else if (arg == "-s" || arg == "--server") o.server = value();
        else if (arg == "-c" || arg == "--connections") o.connections = std::atoi(value().c_str());
        else if (arg == "-d" || arg == "--duration") o.duration = std::atof(value().c_str());
        else if (arg == "--warmup") o.warmup = std::atof(value().c_str());
        else if (arg == "-n" || arg == "--requests") o.requests = std::atol(value().c_str());
        else if (arg == "-t" || arg == "--tenants") o.tenants = std::atoi(value().c_str());
        else if (arg == "--login-format") o.login_format = value();
        else if (arg == "--domain-format") o.domain_format = value();
        else if (arg == "--by-address") o.by_address = true;
        else if (arg == "--rcpts-per-msg") o.rcpts_per_msg = std::atoi(value().c_str());
        else if (arg == "--seed") o.seed = static_cast<unsigned>(std::atol(value().c_str()));
        else if (arg == "--timeout") o.timeout = std::atof(value().c_str());
        else if (arg == "--max-errors") o.max_errors = std::atol(value().c_str());
        else if (arg == "--label") o.label = value();
        else {
            std::fprintf(stderr, "policy_load: unknown option %s\n", arg.c_str());
            usage(2);
        }
    }
    if (o.server.empty() || o.connections < 1 || o.tenants < 1 || o.tenants > 65536 || o.rcpts_per_msg < 1 ||
        o.timeout <= 0 || (o.requests <= 0 && o.duration <= 0)) {
        usage(2);
    }
    for (const std::string* f : {&o.login_format, &o.domain_format}) {
        auto p = f->find('%');
        if (p == std::string::npos || f->compare(p, 2, "%d") != 0 || f->find('%', p + 1) != std::string::npos) {
            std::fprintf(stderr, "policy_load: a format must contain exactly one %%d\n");
            std::exit(2);
        }
    }
    return o;
}

struct Endpoint {
    sockaddr_storage address{};
    socklen_t length = 0;
    bool tcp = false;
};

Endpoint parse_endpoint(const std::string& spec) {
    Endpoint e;
    auto colon = spec.find(':');
    std::string kind = colon == std::string::npos ? "" : spec.substr(0, colon);
    std::string rest = colon == std::string::npos ? "" : spec.substr(colon + 1);
    if (kind == "unix" || kind == "local") {
        sockaddr_un un{};
        un.sun_family = AF_UNIX;
        if (rest.empty() || rest.size() >= sizeof un.sun_path) {
            std::fprintf(stderr, "policy_load: bad unix socket path\n");
            std::exit(2);
        }
        std::memcpy(un.sun_path, rest.c_str(), rest.size() + 1);
        std::memcpy(&e.address, &un, sizeof un);
        e.length = sizeof un;
        return e;
    }
    if (kind != "inet" && kind != "inet6") {
        std::fprintf(stderr, "policy_load: bad server %s (want inet:PORT@HOST or unix:/path)\n", spec.c_str());
        std::exit(2);
    }
    auto at = rest.find('@');
    std::string port = rest.substr(0, at), host = at == std::string::npos ? "127.0.0.1" : rest.substr(at + 1);
    if (!host.empty() && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    addrinfo hints{}, *result = nullptr;
    hints.ai_family = kind == "inet6" ? AF_INET6 : AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &result); rc != 0 || result == nullptr) {
        std::fprintf(stderr, "policy_load: cannot resolve %s: %s\n", spec.c_str(), gai_strerror(rc));
        std::exit(2);
    }
    std::memcpy(&e.address, result->ai_addr, result->ai_addrlen);
    e.length = result->ai_addrlen;
    e.tcp = true;
    ::freeaddrinfo(result);
    bool loop = false;
    if (e.address.ss_family == AF_INET)
        loop = (ntohl(reinterpret_cast<const sockaddr_in*>(&e.address)->sin_addr.s_addr) >> 24) == 127;
    else if (e.address.ss_family == AF_INET6)
        loop = IN6_IS_ADDR_LOOPBACK(&reinterpret_cast<const sockaddr_in6*>(&e.address)->sin6_addr);
    if (!loop) {
        std::fprintf(stderr, "policy_load: %s is not a loopback address; refusing\n", host.c_str());
        std::exit(2);
    }
    return e;
}

std::string format_id(const std::string& format, int i) {
    auto p = format.find("%d");
    return format.substr(0, p) + std::to_string(i) + format.substr(p + 2);
}

struct Stats {
    long replies = 0, errors = 0;
    std::map<std::string, long> actions;
    std::map<std::string, long> error_kinds;
    std::vector<double> latencies_ms;
    long connections = 0;
    long retries = 0;
};

struct Shared {
    const Options* options = nullptr;
    Endpoint endpoint;
    std::atomic<bool> measuring{false};
    std::atomic<bool> stop{false};
    std::atomic<long> claimed{0};
    std::atomic<long> queue_counter{0};
    std::map<std::string, std::string> first_reply;  // action -> one full reply, to show
    std::atomic<int> examples{0};
    std::atomic<long> errors{0};  // all errors, warm-up included, for --max-errors
    std::atomic<bool> gave_up{false};
};

class Client {
public:
    Client(Shared& shared, Stats& stats, int index)
        : shared_(shared), o_(*shared.options), stats_(stats), index_(index), rng_(o_.seed * 7919u + static_cast<unsigned>(index)) {}
    ~Client() { close_socket(); }

    void run() {
        for (;;) {
            if (shared_.stop.load(std::memory_order_relaxed)) break;
            if (o_.requests > 0 && shared_.claimed.fetch_add(1) >= o_.requests) break;
            if (fd_ < 0 && !open()) {
                if (o_.requests > 0 && counting()) ++stats_.errors;
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
                continue;
            }
            one_request();
        }
        close_socket();
    }

private:
    Shared& shared_;
    const Options& o_;
    Stats& stats_;
    int index_;
    std::mt19937 rng_;
    int fd_ = -1;
    long requests_on_connection_ = 0;
    std::string in_;
    std::string request_;
    // current message (for rcpts_per_msg > 1)
    int tenant_ = 0;
    int rcpt_index_ = 0;
    std::string queue_id_, instance_;
    int client_port_ = 0;

    bool counting() const {
        return shared_.measuring.load(std::memory_order_relaxed) && !shared_.stop.load(std::memory_order_relaxed);
    }

    void note_error(const std::string& what) {
        if (shared_.errors.fetch_add(1) + 1 >= o_.max_errors && !shared_.gave_up.exchange(true)) shared_.stop = true;
        if (!counting()) return;
        ++stats_.errors;
        ++stats_.error_kinds[what];
    }

    void close_socket() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
        requests_on_connection_ = 0;
        in_.clear();
    }

    bool open() {
        fd_ = ::socket(shared_.endpoint.address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) {
            note_error(std::string("socket: ") + std::strerror(errno));
            return false;
        }
        timeval tv{};
        tv.tv_sec = static_cast<time_t>(o_.timeout);
        tv.tv_usec = static_cast<suseconds_t>((o_.timeout - static_cast<double>(tv.tv_sec)) * 1e6);
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (::connect(fd_, reinterpret_cast<const sockaddr*>(&shared_.endpoint.address), shared_.endpoint.length) != 0) {
            note_error(std::string("connect: ") + std::strerror(errno));
            close_socket();
            return false;
        }
        ++stats_.connections;
        client_port_ = 30000 + static_cast<int>(rng_() % 30000);
        return true;
    }

    void new_message() {
        tenant_ = static_cast<int>(rng_() % static_cast<unsigned>(o_.tenants));
        rcpt_index_ = 0;
        char buffer[32];
        std::snprintf(buffer, sizeof buffer, "%010lX", 0x4B2C000000L + shared_.queue_counter.fetch_add(1));
        queue_id_ = buffer;
        std::snprintf(buffer, sizeof buffer, "%x.%lx.%x.0", 1000 + index_, static_cast<long>(rng_() & 0xffffff),
                      static_cast<unsigned>(rng_() & 0xfffff));
        instance_ = buffer;
    }

    // The attributes Postfix 3.7's smtpd sends (smtpd_check.c, policy_client).
    void build_request() {
        if (rcpt_index_ == 0 || rcpt_index_ >= o_.rcpts_per_msg) new_message();
        const std::string domain = format_id(o_.domain_format, tenant_);
        std::string client_address = "127.0.0.1", client_name = "app1." + domain, login, method;
        if (o_.by_address) {
            client_address = "127.1." + std::to_string(tenant_ >> 8) + "." + std::to_string(tenant_ & 255);
        } else {
            login = format_id(o_.login_format, tenant_);
            method = "PLAIN";
        }
        std::string& r = request_;
        r.clear();
        r += "request=smtpd_access_policy\n";
        r += "protocol_state=RCPT\n";
        r += "protocol_name=ESMTP\n";
        r += "client_address=" + client_address + "\n";
        r += "client_name=" + client_name + "\n";
        r += "client_port=" + std::to_string(client_port_) + "\n";
        r += "reverse_client_name=" + client_name + "\n";
        r += "server_address=127.0.0.1\n";
        r += "server_port=587\n";
        r += "helo_name=" + client_name + "\n";
        r += "sender=noreply@" + domain + "\n";
        r += "recipient=user" + std::to_string(rng_() % 1000000) + "@example.org\n";
        r += "recipient_count=" + std::to_string(rcpt_index_) + "\n";
        r += "queue_id=" + queue_id_ + "\n";
        r += "instance=" + instance_ + "\n";
        r += "size=" + std::to_string(2000 + rng_() % 30000) + "\n";
        r += "etrn_domain=\n";
        r += "stress=\n";
        r += "sasl_method=" + method + "\n";
        r += "sasl_username=" + login + "\n";
        r += "sasl_sender=\n";
        r += "ccert_subject=\n";
        r += "ccert_issuer=\n";
        r += "ccert_fingerprint=\n";
        r += "ccert_pubkey_fingerprint=\n";
        r += "encryption_protocol=TLSv1.3\n";
        r += "encryption_cipher=TLS_AES_256_GCM_SHA384\n";
        r += "encryption_keysize=256\n";
        r += "policy_context=\n";
        r += "compatibility_level=3.6\n";
        r += "mail_version=3.7.11\n";
        r += "\n";
        ++rcpt_index_;
    }

    // Sends request_ and reads the reply into `reply`. As Postfix's policy
    // client (attr_clnt) does, a request that fails on a reused connection
    // before any reply byte arrived (the server closed it: idle timeout,
    // process recycling) is retried once on a new connection.
    bool exchange(std::string& reply) {
        for (int attempt = 0;; ++attempt) {
            const bool reused = requests_on_connection_ > 0;
            std::string failure;
            size_t done = 0;
            while (done < request_.size()) {
                ssize_t n = ::send(fd_, request_.data() + done, request_.size() - done, MSG_NOSIGNAL);
                if (n < 0) {
                    if (errno == EINTR) continue;
                    failure = std::string("write: ") + std::strerror(errno);
                    break;
                }
                done += static_cast<size_t>(n);
            }
            size_t end = std::string::npos;
            while (failure.empty() && (end = in_.find("\n\n")) == std::string::npos) {
                char buffer[4096];
                ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
                if (n < 0 && errno == EINTR) continue;
                if (n == 0) failure = "server closed the connection";
                else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) failure = "reply timeout";
                else if (n < 0) failure = std::string("read: ") + std::strerror(errno);
                else in_.append(buffer, static_cast<size_t>(n));
            }
            if (failure.empty()) {
                reply = in_.substr(0, end + 1);
                in_.erase(0, end + 2);
                ++requests_on_connection_;
                return true;
            }
            const bool retry = attempt == 0 && reused && in_.empty() && failure != "reply timeout";
            close_socket();
            if (!retry) {
                note_error(failure);
                return false;
            }
            if (counting()) ++stats_.retries;
            if (!open()) return false;
        }
    }

    void one_request() {
        build_request();
        const auto start = Clock::now();
        std::string reply;
        if (!exchange(reply)) return;
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
        if (!in_.empty()) {
            note_error("data after the reply");
            close_socket();
            return;
        }
        // Postfix reads "action=..." and ignores other attributes.
        std::string action;
        size_t pos = 0;
        while (pos < reply.size()) {
            size_t eol = reply.find('\n', pos);
            std::string line = reply.substr(pos, eol - pos);
            pos = eol == std::string::npos ? reply.size() : eol + 1;
            if (line.compare(0, 7, "action=") == 0) action = line.substr(7);
        }
        if (!counting()) return;
        if (action.empty()) {
            note_error("reply without action=");
            return;
        }
        std::string verb = action.substr(0, action.find_first_of(" \t"));
        std::transform(verb.begin(), verb.end(), verb.begin(), [](unsigned char ch) { return std::toupper(ch); });
        ++stats_.replies;
        ++stats_.actions[verb];
        stats_.latencies_ms.push_back(ms);
        if (shared_.examples.load(std::memory_order_relaxed) < 8 && stats_.actions[verb] == 1) {
            static std::mutex m;
            std::lock_guard<std::mutex> lock(m);
            if (!shared_.first_reply.count(verb)) {
                shared_.first_reply[verb] = action;
                ++shared_.examples;
            }
        }
    }
};

double percentile(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) return 0;
    size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
    if (rank == 0) rank = 1;
    return sorted[std::min(rank, sorted.size()) - 1];
}

double self_cpu_seconds() {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parse_options(argc, argv);
    Shared shared;
    shared.options = &o;
    shared.endpoint = parse_endpoint(o.server);
    std::vector<Stats> stats(static_cast<size_t>(o.connections));
    std::vector<std::thread> threads;
    const bool by_count = o.requests > 0;
    if (by_count) shared.measuring = true;
    auto t0 = Clock::now();
    double self0 = self_cpu_seconds();
    for (int i = 0; i < o.connections; ++i) {
        threads.emplace_back([&shared, &stats, i] {
            Client client(shared, stats[static_cast<size_t>(i)], i);
            client.run();
        });
    }
    if (!by_count) {
        std::this_thread::sleep_for(std::chrono::duration<double>(o.warmup));
        self0 = self_cpu_seconds();
        t0 = Clock::now();
        shared.measuring = true;
        const auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration));
        while (Clock::now() < until && !shared.stop) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        shared.stop = true;
    }
    auto t1 = Clock::now();
    double self1 = self_cpu_seconds();
    for (auto& t : threads) t.join();
    if (by_count) {
        t1 = Clock::now();
        self1 = self_cpu_seconds();
    }

    Stats total;
    for (auto& s : stats) {
        total.replies += s.replies;
        total.errors += s.errors;
        total.connections += s.connections;
        total.retries += s.retries;
        for (const auto& [k, v] : s.actions) total.actions[k] += v;
        for (const auto& [k, v] : s.error_kinds) total.error_kinds[k] += v;
        total.latencies_ms.insert(total.latencies_ms.end(), s.latencies_ms.begin(), s.latencies_ms.end());
    }
    std::sort(total.latencies_ms.begin(), total.latencies_ms.end());
    const double seconds = std::chrono::duration<double>(t1 - t0).count();
    const double rate = seconds > 0 ? static_cast<double>(total.replies) / seconds : 0;
    const double p50 = percentile(total.latencies_ms, 50), p99 = percentile(total.latencies_ms, 99),
                 p999 = percentile(total.latencies_ms, 99.9);
    const double max = total.latencies_ms.empty() ? 0 : total.latencies_ms.back();

    std::printf("policy_load: %s, %d connection(s), %d tenant(s) by %s\n", o.server.c_str(), o.connections, o.tenants,
                o.by_address ? "client_address" : "sasl_username");
    if (by_count) std::printf("  window      %.2f s\n", seconds);
    else std::printf("  window      %.2f s after %.1f s warm-up\n", seconds, o.warmup);
    std::printf("  replies     %ld (%ld errors; %ld connection(s) opened, %ld request(s) resent after the server closed an idle connection)\n",
                total.replies, total.errors, total.connections, total.retries);
    std::printf("  throughput  %.1f requests/s\n", rate);
    std::printf("  latency     p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f ms\n", p50, p99, p999, max);
    std::string actions_kv;
    for (const auto& [verb, n] : total.actions) {
        std::printf("  action      %-16s %ld   e.g. \"%s\"\n", verb.c_str(), n, shared.first_reply[verb].c_str());
        actions_kv += (actions_kv.empty() ? "" : ",") + verb + ":" + std::to_string(n);
    }
    for (const auto& [what, n] : total.error_kinds) std::printf("  error       %ld x %s\n", n, what.c_str());
    if (shared.gave_up) std::printf("  ERROR       gave up after %ld errors (--max-errors)\n", o.max_errors);
    const double self_ms = total.replies > 0 ? (self1 - self0) * 1000.0 / static_cast<double>(total.replies) : 0;
    std::printf("  driver      CPU %.4f ms/request\n", self_ms);
    std::printf("RESULT label=%s server=%s conns=%d tenants=%d seconds=%.3f replies=%ld errors=%ld rate=%.1f "
                "p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f actions=%s\n",
                o.label.empty() ? "-" : o.label.c_str(), o.server.c_str(), o.connections, o.tenants, seconds,
                total.replies, total.errors, rate, p50, p99, p999, max, actions_kv.empty() ? "-" : actions_kv.c_str());
    return (total.errors > 0 || total.replies == 0 || shared.gave_up) ? 1 : 0;
}
