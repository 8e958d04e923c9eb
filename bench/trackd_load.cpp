// trackd_load.cpp — an HTTP/1.1 load driver for tenantmail-trackd and the
// nginx it is compared with: C threads, each with one keep-alive connection
// (one request in flight, the response read whole before the next, as a
// TLS proxy's upstream connection is used), sending GET PATH with a Host
// field, PATH taken in turn from a file of paths (one per line). Prints one
// line: label, requests/s, p50/p99 latency in ms, and how many responses
// had each status, so a run that got 404s instead of pixels is visible.
// See bench/README.md.
//
// Loopback only: the driver refuses any address outside 127.0.0.0/8.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
    int port = 0;
    std::string host_field = "localhost";
    std::string paths_file;
    int connections = 8;
    double duration = 3.0;
    double warmup = 0.5;
    std::string label = "run";
};

[[noreturn]] void usage() {
    std::fputs("usage: trackd_load --port PORT --paths FILE [--host HOSTFIELD] [--connections C]\n"
               "                   [--duration SEC] [--warmup SEC] [--label TEXT]\n",
               stderr);
    std::exit(2);
}

// One keep-alive connection to 127.0.0.1:port.
int connect_loopback(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        ::close(fd);
        return -1;
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

// Reads one response; returns its status, or -1 on a broken connection.
int read_response(int fd, std::string& buffer) {
    for (;;) {
        const auto end = buffer.find("\r\n\r\n");
        if (end != std::string::npos) {
            int status = -1;
            if (buffer.size() > 12) status = std::atoi(buffer.c_str() + 9);
            std::size_t length = 0;
            std::string head = buffer.substr(0, end);
            for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (const auto at = head.find("\r\ncontent-length:"); at != std::string::npos) {
                length = std::strtoul(head.c_str() + at + 17, nullptr, 10);
            }
            while (buffer.size() < end + 4 + length) {
                char chunk[16384];
                const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
                if (n <= 0) return -1;
                buffer.append(chunk, static_cast<std::size_t>(n));
            }
            buffer.erase(0, end + 4 + length);
            return status;
        }
        char chunk[16384];
        const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) return -1;
        buffer.append(chunk, static_cast<std::size_t>(n));
    }
}

struct Worker {
    std::vector<double> latencies_ms;
    std::map<int, long> statuses;
    long errors = 0;
};

}  // namespace

int main(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage();
            return argv[++i];
        };
        if (arg == "--port") o.port = std::atoi(value().c_str());
        else if (arg == "--host") o.host_field = value();
        else if (arg == "--paths") o.paths_file = value();
        else if (arg == "--connections") o.connections = std::atoi(value().c_str());
        else if (arg == "--duration") o.duration = std::atof(value().c_str());
        else if (arg == "--warmup") o.warmup = std::atof(value().c_str());
        else if (arg == "--label") o.label = value();
        else usage();
    }
    if (o.port <= 0 || o.paths_file.empty() || o.connections <= 0) usage();
    std::vector<std::string> paths;
    {
        std::ifstream in(o.paths_file);
        for (std::string line; std::getline(in, line);) {
            if (!line.empty()) paths.push_back(line);
        }
    }
    if (paths.empty()) {
        std::fprintf(stderr, "trackd_load: no paths in %s\n", o.paths_file.c_str());
        return 2;
    }

    std::vector<Worker> workers(static_cast<std::size_t>(o.connections));
    std::atomic<bool> measuring{false};
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (int w = 0; w < o.connections; ++w) {
        threads.emplace_back([&, w] {
            Worker& me = workers[static_cast<std::size_t>(w)];
            int fd = connect_loopback(o.port);
            std::string buffer;
            std::size_t next = static_cast<std::size_t>(w);
            while (!stop.load(std::memory_order_relaxed)) {
                if (fd < 0) {
                    ++me.errors;
                    fd = connect_loopback(o.port);
                    if (fd < 0) {
                        std::this_thread::sleep_for(std::chrono::milliseconds(10));
                        continue;
                    }
                }
                const std::string& path = paths[next++ % paths.size()];
                const std::string request = "GET " + path + " HTTP/1.1\r\nHost: " + o.host_field +
                                            "\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) trackd_load\r\n"
                                            "X-Forwarded-For: 203.0.113.9\r\n\r\n";
                const auto started = Clock::now();
                if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
                    ::close(fd);
                    fd = -1;
                    continue;
                }
                const int status = read_response(fd, buffer);
                const double ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
                if (status < 0) {
                    ::close(fd);
                    fd = -1;
                    buffer.clear();
                    continue;
                }
                if (measuring.load(std::memory_order_relaxed)) {
                    me.latencies_ms.push_back(ms);
                    ++me.statuses[status];
                }
            }
            if (fd >= 0) ::close(fd);
        });
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(o.warmup));
    measuring = true;
    const auto began = Clock::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(o.duration));
    measuring = false;
    const double elapsed = std::chrono::duration<double>(Clock::now() - began).count();
    stop = true;
    for (std::thread& t : threads) t.join();

    std::vector<double> all;
    std::map<int, long> statuses;
    long errors = 0;
    for (const Worker& w : workers) {
        all.insert(all.end(), w.latencies_ms.begin(), w.latencies_ms.end());
        for (const auto& [status, count] : w.statuses) statuses[status] += count;
        errors += w.errors;
    }
    std::sort(all.begin(), all.end());
    const auto pct = [&](double p) {
        if (all.empty()) return 0.0;
        return all[std::min(all.size() - 1, static_cast<std::size_t>(p * static_cast<double>(all.size())))];
    };
    std::printf("label=%s requests=%zu rate=%.0f p50_ms=%.3f p99_ms=%.3f errors=%ld", o.label.c_str(), all.size(),
                static_cast<double>(all.size()) / elapsed, pct(0.50), pct(0.99), errors);
    for (const auto& [status, count] : statuses) std::printf(" status_%d=%ld", status, count);
    std::printf("\n");
    return 0;
}
