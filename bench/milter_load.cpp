// milter_load.cpp — a milter-protocol load driver: plays Postfix's part of the
// Sendmail milter protocol (version 6) against a milter socket, over C
// concurrent connections, and reports messages/s, latency per message, the
// modifications the milter asked for, and the milter process's CPU time per
// message and peak RSS (from /proc/PID, with --pid). See bench/README.md.
//
// What is Postfix-like here (Postfix 3.x src/milter/milter8.c behaviour):
//   * OPTNEG offers version 6, the actions Postfix offers and every protocol
//     step flag of version 6 (NO*, NR_*, SKIP, RCPT_REJ, HDR_LEADSPC unless
//     --no-leadspc); the milter's answer decides which commands are sent
//     and which need a reply; a SETSYMLIST answer narrows the macro lists.
//   * One milter connection per SMTP session; the messages of a session
//     reuse it, separated by ABORT (Postfix's mail_reset); QUIT at the end.
//   * Macros go before every event (also before an event the milter asked
//     not to get: Postfix sends them anyway), in the same write as the event.
//   * Writes: everything is buffered and written when a reply is awaited,
//     when smtpd hands the connection to cleanup after DATA (Postfix flushes
//     there), or when the buffer passes 64 KB. Nagle stays on (Postfix does
//     not set TCP_NODELAY), unless --nodelay. So a milter without a DATA
//     callback, or one that writes its final reply in a separate small
//     packet with Nagle on, shows the same TCP stalls it has under Postfix.
//   * Header values as cleanup sends them: folded lines joined with LF, the
//     leading space kept only when HDR_LEADSPC was negotiated. Body as CRLF
//     text in chunks of at most 65535 bytes, then EOM (end of body).
//
// Loopback only: the driver refuses any address outside 127.0.0.0/8 and ::1.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

// ---------------------------------------------------------------------------
// Protocol constants (Sendmail's libmilter/mfdef.h values).

constexpr char SMFIC_ABORT = 'A', SMFIC_BODY = 'B', SMFIC_CONNECT = 'C', SMFIC_MACRO = 'D', SMFIC_BODYEOB = 'E',
               SMFIC_HELO = 'H', SMFIC_HEADER = 'L', SMFIC_MAIL = 'M', SMFIC_EOH = 'N', SMFIC_OPTNEG = 'O',
               SMFIC_QUIT = 'Q', SMFIC_RCPT = 'R', SMFIC_DATA = 'T';

constexpr char SMFIR_ADDRCPT = '+', SMFIR_DELRCPT = '-', SMFIR_ACCEPT = 'a', SMFIR_REPLBODY = 'b',
               SMFIR_CONTINUE = 'c', SMFIR_DISCARD = 'd', SMFIR_CHGHEADER = 'm', SMFIR_PROGRESS = 'p',
               SMFIR_REJECT = 'r', SMFIR_TEMPFAIL = 't', SMFIR_SHUTDOWN = '4', SMFIR_ADDHEADER = 'h',
               SMFIR_INSHEADER = 'i', SMFIR_REPLYCODE = 'y', SMFIR_QUARANTINE = 'q', SMFIR_SKIP = 's',
               SMFIR_CHGFROM = 'e', SMFIR_ADDRCPT_PAR = '2', SMFIR_CONN_FAIL = 'f';

constexpr uint32_t SMFIP_NOCONNECT = 1u << 0, SMFIP_NOHELO = 1u << 1, SMFIP_NOMAIL = 1u << 2,
                   SMFIP_NORCPT = 1u << 3, SMFIP_NOBODY = 1u << 4, SMFIP_NOHDRS = 1u << 5, SMFIP_NOEOH = 1u << 6,
                   SMFIP_NR_HDR = 1u << 7, SMFIP_NOUNKNOWN = 1u << 8, SMFIP_NODATA = 1u << 9,
                   SMFIP_SKIP = 1u << 10, SMFIP_RCPT_REJ = 1u << 11, SMFIP_NR_CONN = 1u << 12,
                   SMFIP_NR_HELO = 1u << 13, SMFIP_NR_MAIL = 1u << 14, SMFIP_NR_RCPT = 1u << 15,
                   SMFIP_NR_DATA = 1u << 16, SMFIP_NR_UNKN = 1u << 17, SMFIP_NR_EOH = 1u << 18,
                   SMFIP_NR_BODY = 1u << 19, SMFIP_HDR_LEADSPC = 1u << 20;

constexpr uint32_t kNoSendMask = SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL | SMFIP_NORCPT | SMFIP_NOBODY |
                                 SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOUNKNOWN | SMFIP_NODATA;
constexpr uint32_t kNoReplyMask = SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT | SMFIP_NR_DATA |
                                  SMFIP_NR_UNKN | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY;
constexpr uint32_t kV6Events = kNoSendMask | SMFIP_SKIP | SMFIP_RCPT_REJ | kNoReplyMask | SMFIP_HDR_LEADSPC;

constexpr uint32_t SMFIF_ADDHDRS = 1u << 0, SMFIF_CHGBODY = 1u << 1, SMFIF_ADDRCPT = 1u << 2,
                   SMFIF_DELRCPT = 1u << 3, SMFIF_CHGHDRS = 1u << 4, SMFIF_QUARANTINE = 1u << 5,
                   SMFIF_CHGFROM = 1u << 6, SMFIF_ADDRCPT_PAR = 1u << 7, SMFIF_SETSYMLIST = 1u << 8;
constexpr uint32_t kPostfixActions = SMFIF_ADDHDRS | SMFIF_ADDRCPT | SMFIF_DELRCPT | SMFIF_CHGHDRS | SMFIF_CHGBODY |
                                     SMFIF_QUARANTINE | SMFIF_CHGFROM | SMFIF_ADDRCPT_PAR | SMFIF_SETSYMLIST;

constexpr size_t kChunk = 65535;        // Postfix's MILTER_CHUNK_SIZE
constexpr size_t kFlushAt = 64 * 1024;  // write out a buffer this large even without a reply due

using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------
// Options.

struct Options {
    std::string socket;
    int connections = 8;
    double duration = 5.0;
    double warmup = 1.0;
    long messages = 0;  // > 0: this many messages instead of a duration
    size_t size = 2048;
    int msgs_per_conn = 10;  // 0: one connection per thread for the whole run
    std::string login = "acme-bulk";
    std::string from = "noreply@careers.uni.ac.uk";
    std::string rcpt = "student@example.org";
    std::string client_addr = "127.0.0.2";
    std::string client_name = "app1.careers.uni.ac.uk";
    std::string helo = "app1.careers.uni.ac.uk";
    long pid = 0;
    bool reset_hwm = false;
    bool leadspc = true;
    bool nodelay = false;
    bool require_dkim = true;
    std::string dump;
    std::string write_message;
    std::string label;
    double timeout = 30.0;
    double slow_ms = 30.0;
    long max_errors = 100;
};

[[noreturn]] void usage(int status) {
    std::fputs(
        "usage: milter_load --socket inet:PORT@HOST|inet6:PORT@HOST|unix:/path [options]\n"
        "\n"
        "Plays Postfix's side of the milter protocol (v6) over C connections and\n"
        "reports msgs/s, latency per message (MAIL to final EOM reply), the\n"
        "modifications received, and with --pid the milter's CPU ms/message\n"
        "(utime+stime from /proc/PID/stat) and peak RSS (VmHWM).\n"
        "\n"
        "  -s, --socket SPEC       milter socket (loopback or unix only)\n"
        "  -c, --connections C    concurrent connections (default 8)\n"
        "  -d, --duration SEC     measured time (default 5), after --warmup\n"
        "      --warmup SEC       unmeasured time first (default 1)\n"
        "  -n, --messages N       send N messages in all instead (no warmup)\n"
        "      --size BYTES       message size: 2k, 20k, 200k or a number (default 2k)\n"
        "      --msgs-per-conn M  messages per milter connection (= per SMTP\n"
        "                         session, ABORT between them; default 10;\n"
        "                         0: keep each connection for the whole run)\n"
        "      --login LOGIN      {auth_authen} macro (default acme-bulk; '' for none)\n"
        "      --from ADDR        envelope sender and From address\n"
        "      --rcpt ADDR        envelope recipient\n"
        "      --client-addr IP   client address in CONNECT (default 127.0.0.2)\n"
        "      --pid PID          milter process to read CPU time and VmHWM from\n"
        "      --reset-hwm        reset the milter's VmHWM when measuring starts\n"
        "                         (writes 5 to /proc/PID/clear_refs; needs root)\n"
        "      --no-leadspc       do not offer SMFIP_HDR_LEADSPC\n"
        "      --nodelay          TCP_NODELAY on our sockets (Postfix does not)\n"
        "      --no-require-dkim  do not count messages without an inserted\n"
        "                         DKIM-Signature as errors\n"
        "      --dump FILE        write the first message as it would be delivered\n"
        "                         (inserted/added/changed headers applied)\n"
        "      --write-message F  write one generated message (LF line ends, for\n"
        "                         smtp-source -F) and exit; needs no --socket\n"
        "      --label TEXT       name for the RESULT line\n"
        "      --timeout SEC      per-reply timeout (default 30)\n"
        "      --slow-ms MS       count messages slower than this (default 30)\n"
        "      --max-errors N     give up after N connection/protocol errors (default 100)\n"
        "\n"
        "Exit status: 0 if every message was accepted and (unless\n"
        "--no-require-dkim) got a DKIM-Signature insert; 1 otherwise; 2 on usage.\n",
        status == 0 ? stdout : stderr);
    std::exit(status);
}

size_t parse_size(const std::string& text) {
    char* end = nullptr;
    double value = std::strtod(text.c_str(), &end);
    std::string unit(end ? end : "");
    if (unit == "k" || unit == "K" || unit == "kb" || unit == "KB") value *= 1024;
    else if (unit == "m" || unit == "M" || unit == "mb" || unit == "MB") value *= 1024 * 1024;
    else if (!unit.empty()) usage(2);
    if (value < 512) {
        std::fprintf(stderr, "milter_load: --size must be at least 512 bytes\n");
        std::exit(2);
    }
    return static_cast<size_t>(value);
}

Options parse_options(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "milter_load: %s needs a value\n", arg.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (arg == "-h" || arg == "--help") usage(0);
        else if (arg == "-s" || arg == "--socket") o.socket = value();
        else if (arg == "-c" || arg == "--connections") o.connections = std::atoi(value().c_str());
        else if (arg == "-d" || arg == "--duration") o.duration = std::atof(value().c_str());
        else if (arg == "--warmup") o.warmup = std::atof(value().c_str());
        else if (arg == "-n" || arg == "--messages") o.messages = std::atol(value().c_str());
        else if (arg == "--size") o.size = parse_size(value());
        else if (arg == "--msgs-per-conn") o.msgs_per_conn = std::atoi(value().c_str());
        else if (arg == "--login") o.login = value();
        else if (arg == "--from") o.from = value();
        else if (arg == "--rcpt") o.rcpt = value();
        else if (arg == "--client-addr") o.client_addr = value();
        else if (arg == "--pid") o.pid = std::atol(value().c_str());
        else if (arg == "--reset-hwm") o.reset_hwm = true;
        else if (arg == "--no-leadspc") o.leadspc = false;
        else if (arg == "--nodelay") o.nodelay = true;
        else if (arg == "--no-require-dkim") o.require_dkim = false;
        else if (arg == "--dump") o.dump = value();
        else if (arg == "--write-message") o.write_message = value();
        else if (arg == "--label") o.label = value();
        else if (arg == "--timeout") o.timeout = std::atof(value().c_str());
        else if (arg == "--slow-ms") o.slow_ms = std::atof(value().c_str());
        else if (arg == "--max-errors") o.max_errors = std::atol(value().c_str());
        else {
            std::fprintf(stderr, "milter_load: unknown option %s\n", arg.c_str());
            usage(2);
        }
    }
    if ((o.socket.empty() && o.write_message.empty()) || o.connections < 1 || o.msgs_per_conn < 0 || o.timeout <= 0 ||
        (o.messages <= 0 && o.duration <= 0)) {
        usage(2);
    }
    return o;
}

// ---------------------------------------------------------------------------
// Socket address (loopback only).

struct Endpoint {
    sockaddr_storage address{};
    socklen_t length = 0;
    bool tcp = false;
};

bool loopback(const sockaddr_storage& a) {
    if (a.ss_family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(&a);
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (a.ss_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&a);
        return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
    }
    return false;
}

Endpoint parse_endpoint(const std::string& spec) {
    Endpoint e;
    auto colon = spec.find(':');
    if (colon == std::string::npos) {
        std::fprintf(stderr, "milter_load: bad socket %s (want inet:PORT@HOST or unix:/path)\n", spec.c_str());
        std::exit(2);
    }
    std::string kind = spec.substr(0, colon), rest = spec.substr(colon + 1);
    if (kind == "unix" || kind == "local") {
        sockaddr_un un{};
        un.sun_family = AF_UNIX;
        if (rest.size() >= sizeof un.sun_path) {
            std::fprintf(stderr, "milter_load: unix socket path too long\n");
            std::exit(2);
        }
        std::memcpy(un.sun_path, rest.c_str(), rest.size() + 1);
        std::memcpy(&e.address, &un, sizeof un);
        e.length = sizeof un;
        return e;
    }
    if (kind != "inet" && kind != "inet6") {
        std::fprintf(stderr, "milter_load: bad socket kind %s\n", kind.c_str());
        std::exit(2);
    }
    auto at = rest.find('@');
    std::string port = rest.substr(0, at), host = at == std::string::npos ? "127.0.0.1" : rest.substr(at + 1);
    if (!host.empty() && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    addrinfo hints{}, *result = nullptr;
    hints.ai_family = kind == "inet6" ? AF_INET6 : AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &result); rc != 0 || result == nullptr) {
        std::fprintf(stderr, "milter_load: cannot resolve %s: %s\n", spec.c_str(), gai_strerror(rc));
        std::exit(2);
    }
    std::memcpy(&e.address, result->ai_addr, result->ai_addrlen);
    e.length = result->ai_addrlen;
    e.tcp = true;
    ::freeaddrinfo(result);
    if (!loopback(e.address)) {
        std::fprintf(stderr, "milter_load: %s is not a loopback address; refusing\n", host.c_str());
        std::exit(2);
    }
    return e;
}

// ---------------------------------------------------------------------------
// Realistic messages: multipart/alternative text + HTML, and for large sizes a
// base64 attachment, as applications send them. Headers include a folded one.

const char* const kWords[] = {
    "the", "careers", "fair", "students", "interview", "application", "your", "and", "of", "to",
    "employers", "graduate", "placement", "scheme", "deadline", "please", "confirm", "attendance", "we",
    "look", "forward", "meeting", "you", "on", "campus", "next", "week", "register", "online", "session",
    "workshop", "CV", "feedback", "available", "from", "our", "advisers", "booking", "slots", "open", "now",
    "in", "the", "main", "hall", "at", "10:00", "with", "over", "forty", "organisations", "taking", "part",
};

std::string words(std::mt19937& rng, size_t bytes) {
    std::string out;
    while (out.size() < bytes) {
        if (!out.empty()) out += ' ';
        out += kWords[rng() % std::size(kWords)];
    }
    return out;
}

// Soft line breaks at 72 columns, CRLF line ends (quoted-printable-safe ASCII).
void append_wrapped(std::string& out, const std::string& text, size_t width = 72) {
    size_t start = 0;
    while (start < text.size()) {
        size_t end = std::min(text.size(), start + width);
        if (end < text.size()) {
            size_t space = text.rfind(' ', end);
            if (space != std::string::npos && space > start) end = space;
        }
        out.append(text, start, end - start);
        out += "\r\n";
        start = end;
        while (start < text.size() && text[start] == ' ') ++start;
    }
}

std::string make_text_part(std::mt19937& rng, size_t bytes) {
    std::string out = "Dear student,\r\n\r\n";
    while (out.size() + 80 < bytes) {
        append_wrapped(out, words(rng, std::min<size_t>(bytes - out.size(), 60 + rng() % 400)));
        out += "\r\n";
    }
    out += "Kind regards,\r\nThe Careers Service\r\n";
    return out;
}

std::string make_html_part(std::mt19937& rng, size_t bytes) {
    std::string out =
        "<!DOCTYPE html>\r\n<html><head><meta charset=\"utf-8\"><title>Careers update</title></head>\r\n"
        "<body style=\"font-family: Arial, sans-serif; color: #222;\">\r\n<p>Dear student,</p>\r\n";
    while (out.size() + 160 < bytes) {
        std::string para = "<p>" + words(rng, std::min<size_t>(bytes - out.size(), 60 + rng() % 400)) + "</p>";
        if (rng() % 4 == 0) para += " <a href=\"https://careers.uni.ac.uk/events?id=" + std::to_string(rng() % 100000) +
                                    "\">Book your place</a>";
        append_wrapped(out, para, 76);
    }
    out += "<p>Kind regards,<br>The Careers Service</p>\r\n</body></html>\r\n";
    return out;
}

std::string base64_lines(std::mt19937& rng, size_t bytes) {
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve(bytes + bytes / 38);
    while (out.size() + 78 <= bytes) {
        for (int i = 0; i < 76; ++i) out += alphabet[rng() & 63];
        out += "\r\n";
    }
    return out;
}

struct Header {
    std::string name;
    std::string value;  // as it follows the colon on the wire (leading space, CRLF folds)
};

struct Message {
    std::vector<Header> headers;
    std::string body;  // after the empty line, CRLF text
    size_t size = 0;   // bytes on the wire (headers + CRLF + body)
};

Message make_message(const Options& o, size_t target, int variant) {
    std::mt19937 rng(static_cast<uint32_t>(1234 + variant * 7919 + target));
    Message m;
    const std::string boundary = "=_tm_" + std::to_string(variant) + "_" + std::to_string(rng() % 1000000);
    const std::string n = std::to_string(1000 + variant);
    const std::string domain = o.from.substr(o.from.find('@') + 1);
    m.headers = {
        {"From", " \"Careers Service\" <" + o.from + ">"},
        {"To", " \"Student " + n + "\" <" + o.rcpt + ">"},
        {"Subject", " Your application " + n + ": interview slots are now open"},
        {"Date", " Tue, 04 Jun 2024 10:" + std::to_string(10 + variant % 50) + ":00 +0100"},
        {"Message-ID", " <20240604." + n + "." + std::to_string(rng()) + "@app1." + domain + ">"},
        {"MIME-Version", " 1.0"},
        {"Content-Type", " multipart/" + std::string(target >= 100 * 1024 ? "mixed" : "alternative") +
                             ";\r\n boundary=\"" + boundary + "\""},
        {"List-Unsubscribe", " <https://" + domain + "/unsubscribe/" + std::to_string(rng()) +
                                 ">,\r\n <mailto:unsubscribe@" + domain + "?subject=unsubscribe-" + n + ">"},
        {"List-Unsubscribe-Post", " List-Unsubscribe=One-Click"},
        {"X-Mailer", " careers-portal/4.2"},
    };
    size_t head = 2;
    for (const auto& h : m.headers) head += h.name.size() + 1 + h.value.size() + 2;
    const size_t overhead = 420;  // MIME part headers and boundaries
    const size_t room = target > head + overhead + 200 ? target - head - overhead : 200;
    size_t text_bytes = room * 2 / 5, html_bytes = room - text_bytes, attachment_bytes = 0;
    if (target >= 100 * 1024) {
        attachment_bytes = room * 4 / 5;
        text_bytes = (room - attachment_bytes) * 2 / 5;
        html_bytes = room - attachment_bytes - text_bytes;
    }
    std::string& b = m.body;
    b += "This is a multi-part message in MIME format.\r\n\r\n";
    if (attachment_bytes) {
        b += "--" + boundary + "\r\nContent-Type: multipart/alternative; boundary=\"" + boundary + "_alt\"\r\n\r\n";
    }
    const std::string alt = attachment_bytes ? boundary + "_alt" : boundary;
    b += "--" + alt + "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n";
    b += make_text_part(rng, text_bytes);
    b += "\r\n--" + alt + "\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n";
    b += make_html_part(rng, html_bytes);
    b += "\r\n--" + alt + "--\r\n";
    if (attachment_bytes) {
        b += "\r\n--" + boundary +
             "\r\nContent-Type: application/pdf; name=\"programme.pdf\"\r\n"
             "Content-Disposition: attachment; filename=\"programme.pdf\"\r\n"
             "Content-Transfer-Encoding: base64\r\n\r\n";
        b += base64_lines(rng, attachment_bytes);
        b += "\r\n--" + boundary + "--\r\n";
    }
    m.size = head + b.size();
    return m;
}

// ---------------------------------------------------------------------------
// Packets.

void put32(std::string& out, uint32_t v) {
    v = htonl(v);
    out.append(reinterpret_cast<const char*>(&v), 4);
}

uint32_t get32(const char* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return ntohl(v);
}

void begin_packet(std::string& out, char cmd, size_t data_length) {
    put32(out, static_cast<uint32_t>(data_length + 1));
    out += cmd;
}

// NUL-terminated strings.
void put_packet(std::string& out, char cmd, const std::vector<std::string_view>& strings) {
    size_t length = 0;
    for (auto s : strings) length += s.size() + 1;
    begin_packet(out, cmd, length);
    for (auto s : strings) {
        out.append(s);
        out += '\0';
    }
}

using Macros = std::vector<std::pair<std::string, std::string>>;

void put_macros(std::string& out, char stage, const Macros& macros, const std::vector<std::string>* only) {
    size_t length = 1;
    auto wanted = [&](const std::string& name) {
        return only == nullptr || std::find(only->begin(), only->end(), name) != only->end();
    };
    for (const auto& [name, value] : macros)
        if (wanted(name)) length += name.size() + value.size() + 2;
    begin_packet(out, SMFIC_MACRO, length);
    out += stage;
    for (const auto& [name, value] : macros) {
        if (!wanted(name)) continue;
        out += name;
        out += '\0';
        out += value;
        out += '\0';
    }
}

// ---------------------------------------------------------------------------
// Results.

enum class Outcome { signed_ok, unsigned_ok, rejected, tempfail, discarded, error };

struct Stats {
    long ok = 0, unsigned_ok = 0, rejected = 0, tempfail = 0, discarded = 0, errors = 0;
    long ins = 0, ins_dkim = 0, chg = 0, add = 0, add_dkim = 0, chgfrom = 0, other_mods = 0, body_replaced = 0;
    long connections = 0, slow = 0;
    std::vector<double> latencies_ms;
    std::map<std::string, long> error_kinds;

    void merge(const Stats& s) {
        ok += s.ok, unsigned_ok += s.unsigned_ok, rejected += s.rejected, tempfail += s.tempfail;
        discarded += s.discarded, errors += s.errors, ins += s.ins, ins_dkim += s.ins_dkim, chg += s.chg;
        add += s.add, add_dkim += s.add_dkim, chgfrom += s.chgfrom, other_mods += s.other_mods;
        body_replaced += s.body_replaced;
        connections += s.connections, slow += s.slow;
        latencies_ms.insert(latencies_ms.end(), s.latencies_ms.begin(), s.latencies_ms.end());
        for (const auto& [k, v] : s.error_kinds) error_kinds[k] += v;
    }
};

struct ProtocolError {
    std::string what;
};

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return std::tolower(x) == std::tolower(y); });
}

// ---------------------------------------------------------------------------
// Shared run state.

struct Shared {
    const Options* options = nullptr;
    Endpoint endpoint;
    std::vector<Message> messages;  // variants, used in turn
    std::atomic<bool> measuring{false};
    std::atomic<bool> stop{false};
    std::atomic<long> claimed{0};    // --messages mode
    std::atomic<long> completed{0};  // messages finished (any outcome)
    std::atomic<long> queue_counter{0};
    std::mutex dump_mutex;
    bool dumped = false;
    std::atomic<long> errors{0};  // all errors, warm-up included, for --max-errors
    std::atomic<bool> gave_up{false};
};

// One milter connection = one SMTP session, as Postfix's smtpd/cleanup use it.
class Session {
public:
    Session(Shared& shared, Stats& stats, int index) : shared_(shared), o_(*shared.options), stats_(stats), index_(index) {}
    ~Session() { close_socket(); }

    bool open() {
        fd_ = ::socket(shared_.endpoint.address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) return fail_io("socket");
        timeval tv{};
        tv.tv_sec = static_cast<time_t>(o_.timeout);
        tv.tv_usec = static_cast<suseconds_t>((o_.timeout - static_cast<double>(tv.tv_sec)) * 1e6);
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (shared_.endpoint.tcp && o_.nodelay) {
            int on = 1;
            ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
        }
        if (::connect(fd_, reinterpret_cast<const sockaddr*>(&shared_.endpoint.address), shared_.endpoint.length) != 0)
            return fail_io("connect");
        ++stats_.connections;
        try {
            negotiate();
            connect_events();
        } catch (const ProtocolError& e) {
            note_error(e.what);
            close_socket();
            return false;
        }
        return fd_ >= 0;
    }

    bool is_open() const { return fd_ >= 0; }

    // Sends one message; returns false when the connection is unusable.
    bool send_message(long number) {
        const Message& msg = shared_.messages[static_cast<size_t>(number) % shared_.messages.size()];
        char qid[16];
        std::snprintf(qid, sizeof qid, "%010lX", shared_.queue_counter.fetch_add(1) + 0x4B2C000000L);
        queue_id_ = qid;
        MessageRecord record;
        const bool want_dump = !o_.dump.empty() && !shared_.dumped;
        const auto start = Clock::now();
        Outcome outcome = Outcome::error;
        try {
            if (messages_on_connection_ > 0) {
                // Postfix's mail_reset() after the previous transaction.
                begin_packet(out_, SMFIC_ABORT, 0);
            }
            outcome = transaction(msg, want_dump ? &record : nullptr);
        } catch (const ProtocolError& e) {
            note_error(e.what);
            close_socket();
            outcome = Outcome::error;
        }
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
        ++messages_on_connection_;
        if (counting()) count(outcome, ms);  // not during warm-up or after the window
        shared_.completed.fetch_add(1, std::memory_order_relaxed);
        if (want_dump && (outcome == Outcome::signed_ok || outcome == Outcome::unsigned_ok)) write_dump(msg, record);
        return fd_ >= 0;
    }

    void finish() {
        if (fd_ < 0) return;
        if (messages_on_connection_ > 0) begin_packet(out_, SMFIC_ABORT, 0);
        begin_packet(out_, SMFIC_QUIT, 0);
        try {
            flush();
        } catch (const ProtocolError&) {
        }
        close_socket();
    }

    int messages_on_connection() const { return messages_on_connection_; }

private:
    struct MessageRecord {
        std::vector<Header> inserted;  // in order received, with index
        std::vector<long> inserted_index;
        std::vector<Header> added;
        std::vector<std::tuple<long, std::string, std::string>> changed;
        std::string new_sender;
        bool body_replaced = false;  // SMFIR_REPLBODY: new_body is the body to deliver
        std::string new_body;
    };

    enum class Reply { cont, accept, reject, tempfail, discard, skip, none };

    Shared& shared_;
    const Options& o_;
    Stats& stats_;
    int index_;
    int fd_ = -1;
    std::string out_;
    std::string in_;
    size_t in_pos_ = 0;
    uint32_t version_ = 0, actions_ = 0, ev_mask_ = 0;
    std::map<char, std::vector<std::string>> symlist_;  // stage -> macro names (SETSYMLIST)
    std::string queue_id_;
    int messages_on_connection_ = 0;
    char skip_event_ = 0;

    void count(Outcome outcome, double ms) {
        switch (outcome) {
            case Outcome::signed_ok: ++stats_.ok; break;
            case Outcome::unsigned_ok: ++stats_.unsigned_ok; break;
            case Outcome::rejected: ++stats_.rejected; break;
            case Outcome::tempfail: ++stats_.tempfail; break;
            case Outcome::discarded: ++stats_.discarded; break;
            case Outcome::error: ++stats_.errors; break;
        }
        if (outcome != Outcome::error) {
            stats_.latencies_ms.push_back(ms);
            if (ms > o_.slow_ms) ++stats_.slow;
        }
    }

    void note_error(const std::string& what) {
        if (shared_.errors.fetch_add(1) + 1 >= o_.max_errors && !shared_.gave_up.exchange(true)) shared_.stop = true;
        if (shared_.measuring.load(std::memory_order_relaxed) && !shared_.stop.load(std::memory_order_relaxed))
            ++stats_.error_kinds[what];
    }

    bool fail_io(const char* what) {
        note_error(std::string(what) + ": " + std::strerror(errno));
        close_socket();
        return false;
    }

    void close_socket() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
        out_.clear();
        in_.clear();
        in_pos_ = 0;
    }

    // ---- I/O ----

    void flush() {
        size_t done = 0;
        while (done < out_.size()) {
            ssize_t n = ::send(fd_, out_.data() + done, out_.size() - done, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR) continue;
                throw ProtocolError{std::string("write: ") + std::strerror(errno)};
            }
            done += static_cast<size_t>(n);
        }
        out_.clear();
    }

    void maybe_flush() {
        if (out_.size() >= kFlushAt) flush();
    }

    void fill(size_t need) {
        if (in_pos_ > 0 && in_pos_ == in_.size()) {
            in_.clear();
            in_pos_ = 0;
        }
        while (in_.size() - in_pos_ < need) {
            char buffer[16384];
            ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
            if (n < 0) {
                if (errno == EINTR) continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) throw ProtocolError{"read: timeout"};
                throw ProtocolError{std::string("read: ") + std::strerror(errno)};
            }
            if (n == 0) throw ProtocolError{"read: milter closed the connection"};
            in_.append(buffer, static_cast<size_t>(n));
        }
    }

    // Reads one packet: command and data.
    std::pair<char, std::string> read_packet() {
        if (!out_.empty()) flush();  // as Postfix's VSTREAM does before reading
        fill(4);
        uint32_t length = get32(in_.data() + in_pos_);
        if (length < 1 || length > (1u << 26)) throw ProtocolError{"bad reply packet length"};
        fill(4 + length);
        char cmd = in_[in_pos_ + 4];
        std::string data = in_.substr(in_pos_ + 5, length - 1);
        in_pos_ += 4 + length;
        return {cmd, std::move(data)};
    }

    // ---- negotiation and connection events ----

    void negotiate() {
        std::string data;
        put32(data, 6);
        put32(data, kPostfixActions);
        put32(data, o_.leadspc ? kV6Events : (kV6Events & ~SMFIP_HDR_LEADSPC));
        begin_packet(out_, SMFIC_OPTNEG, data.size());
        out_ += data;
        auto [cmd, reply] = read_packet();
        if (cmd != SMFIC_OPTNEG || reply.size() < 12) throw ProtocolError{"bad OPTNEG reply"};
        version_ = get32(reply.data());
        actions_ = get32(reply.data() + 4);
        ev_mask_ = get32(reply.data() + 8);
        if (version_ > 6 || version_ < 2) throw ProtocolError{"unsupported milter protocol version"};
        if ((actions_ & kPostfixActions) != actions_) throw ProtocolError{"milter wants actions we did not offer"};
        size_t pos = 12;
        static const char stage_of[] = {SMFIC_CONNECT, SMFIC_HELO, SMFIC_MAIL, SMFIC_RCPT, SMFIC_DATA, SMFIC_BODYEOB, SMFIC_EOH};
        while (pos + 4 < reply.size()) {
            uint32_t type = get32(reply.data() + pos);
            pos += 4;
            size_t end = reply.find('\0', pos);
            if (end == std::string::npos) throw ProtocolError{"bad SETSYMLIST data"};
            std::string list = reply.substr(pos, end - pos);
            pos = end + 1;
            if (type >= std::size(stage_of)) continue;
            std::vector<std::string> names;
            std::istringstream in(list);
            for (std::string name; in >> name;) names.push_back(name);
            symlist_[stage_of[type]] = names;
        }
    }

    const std::vector<std::string>* only(char stage) const {
        // Postfix's EOH and header events use the EOH list, body chunks the EOM list.
        char key = stage == SMFIC_HEADER ? SMFIC_EOH : stage == SMFIC_BODY ? SMFIC_BODYEOB : stage;
        auto it = symlist_.find(key);
        return it == symlist_.end() ? nullptr : &it->second;
    }

    // milter8_event(): macros (always, for envelope events), then the event
    // unless the milter opted out, then the reply unless it opted out of that.
    Reply event(char cmd, uint32_t no_flag, uint32_t no_reply_flag, const Macros* macros,
                const std::vector<std::string_view>& strings, MessageRecord* record = nullptr,
                std::string_view raw = {}, bool raw_data = false) {
        if (skip_event_ != 0) {
            if (cmd == skip_event_) return Reply::cont;
            skip_event_ = 0;
        }
        if (macros) put_macros(out_, cmd, *macros, only(cmd));
        if (ev_mask_ & no_flag) return Reply::none;
        if (raw_data) {
            begin_packet(out_, cmd, raw.size());
            out_.append(raw);
        } else {
            put_packet(out_, cmd, strings);
        }
        if (ev_mask_ & no_reply_flag) {
            maybe_flush();
            return Reply::none;
        }
        return read_replies(cmd, record);
    }

    Reply read_replies(char cmd, MessageRecord* record) {
        for (;;) {
            auto [r, data] = read_packet();
            switch (r) {
                case SMFIR_PROGRESS: continue;
                case SMFIR_CONTINUE: return Reply::cont;
                case SMFIR_ACCEPT: return Reply::accept;
                case SMFIR_DISCARD: return Reply::discard;
                case SMFIR_REJECT: return Reply::reject;
                case SMFIR_TEMPFAIL: return Reply::tempfail;
                case SMFIR_SHUTDOWN: throw ProtocolError{"milter sent SHUTDOWN"};
                case SMFIR_CONN_FAIL: throw ProtocolError{"milter sent CONN_FAIL"};
                case SMFIR_REPLYCODE: return !data.empty() && data[0] == '4' ? Reply::tempfail : Reply::reject;
                case SMFIR_QUARANTINE: ++stats_.other_mods; continue;
                case SMFIR_SKIP:
                    skip_event_ = cmd;
                    return Reply::skip;
                default: break;
            }
            if (cmd != SMFIC_BODYEOB) throw ProtocolError{std::string("unexpected reply '") + r + "' before end of message"};
            modification(r, data, record);
        }
    }

    static std::vector<std::string> split_strings(const std::string& data, size_t from) {
        std::vector<std::string> out;
        size_t pos = from;
        while (pos < data.size()) {
            size_t end = data.find('\0', pos);
            if (end == std::string::npos) throw ProtocolError{"modification without NUL terminator"};
            out.push_back(data.substr(pos, end - pos));
            pos = end + 1;
        }
        return out;
    }

    bool counting() const {
        return shared_.measuring.load(std::memory_order_relaxed) && !shared_.stop.load(std::memory_order_relaxed);
    }

    void modification(char r, const std::string& data, MessageRecord* record) {
        const bool c = counting();
        switch (r) {
            case SMFIR_INSHEADER: {
                if (data.size() < 4) throw ProtocolError{"short INSHEADER"};
                auto s = split_strings(data, 4);
                if (s.size() != 2) throw ProtocolError{"bad INSHEADER"};
                if (c) ++stats_.ins;
                if (iequals(s[0], "DKIM-Signature")) ++dkim_inserted_;
                if (record) {
                    record->inserted.push_back({s[0], s[1]});
                    record->inserted_index.push_back(static_cast<long>(get32(data.data())));
                }
                break;
            }
            case SMFIR_CHGHEADER: {
                if (data.size() < 4) throw ProtocolError{"short CHGHEADER"};
                auto s = split_strings(data, 4);
                if (s.size() != 2) throw ProtocolError{"bad CHGHEADER"};
                if (c) ++stats_.chg;
                if (record) record->changed.emplace_back(static_cast<long>(get32(data.data())), s[0], s[1]);
                break;
            }
            case SMFIR_ADDHEADER: {
                auto s = split_strings(data, 0);
                if (s.size() != 2) throw ProtocolError{"bad ADDHEADER"};
                if (c) ++stats_.add;
                if (iequals(s[0], "DKIM-Signature")) ++dkim_added_;
                if (record) record->added.push_back({s[0], s[1]});
                break;
            }
            case SMFIR_CHGFROM: {
                auto s = split_strings(data, 0);
                if (s.empty()) throw ProtocolError{"bad CHGFROM"};
                if (c) ++stats_.chgfrom;
                if (record) record->new_sender = s[0];
                break;
            }
            case SMFIR_REPLBODY:
                // The new body arrives in chunks, each replacing nothing but
                // adding to the one before (libmilter's smfi_replacebody).
                if (c) ++stats_.body_replaced;
                if (record) {
                    if (!record->body_replaced) record->new_body.clear();
                    record->body_replaced = true;
                    record->new_body.append(data);
                }
                break;
            case SMFIR_ADDRCPT:
            case SMFIR_DELRCPT:
            case SMFIR_ADDRCPT_PAR:
                if (c) ++stats_.other_mods;
                break;
            default: throw ProtocolError{std::string("unknown reply '") + r + "' at end of message"};
        }
    }

    long dkim_inserted_ = 0, dkim_added_ = 0;

    void connect_events() {
        const bool tcp_client = true;  // clients of Postfix's smtpd come over TCP
        Macros conn = {{"j", "mta.uni.ac.uk"},
                       {"{daemon_name}", "submission"},
                       {"{daemon_addr}", "127.0.0.1"},
                       {"v", "Postfix 3.7.11"},
                       {"_", o_.client_name + " [" + o_.client_addr + "]"}};
        std::string connect_data;
        connect_data += o_.client_name;
        connect_data += '\0';
        const bool v6 = o_.client_addr.find(':') != std::string::npos;
        connect_data += tcp_client ? (v6 ? '6' : '4') : 'L';
        uint16_t port = htons(static_cast<uint16_t>(40000 + index_ % 20000));
        connect_data.append(reinterpret_cast<const char*>(&port), 2);
        connect_data += o_.client_addr;
        connect_data += '\0';
        Reply r = event(SMFIC_CONNECT, SMFIP_NOCONNECT, SMFIP_NR_CONN, &conn, {}, nullptr, connect_data, true);
        if (r == Reply::accept || r == Reply::reject || r == Reply::tempfail)
            throw ProtocolError{"milter refused or skipped the connection at CONNECT"};
        Macros helo = {{"{tls_version}", "TLSv1.3"}, {"{cipher}", "TLS_AES_256_GCM_SHA384"}, {"{cipher_bits}", "256"}};
        r = event(SMFIC_HELO, SMFIP_NOHELO, SMFIP_NR_HELO, &helo, {o_.helo});
        if (r == Reply::accept || r == Reply::reject || r == Reply::tempfail)
            throw ProtocolError{"milter refused or skipped the connection at HELO"};
    }

    static Outcome refusal(Reply r) {
        switch (r) {
            case Reply::reject: return Outcome::rejected;
            case Reply::tempfail: return Outcome::tempfail;
            case Reply::discard: return Outcome::discarded;
            case Reply::accept: return Outcome::unsigned_ok;
            default: return Outcome::error;
        }
    }

    static bool stops(Reply r) {
        return r == Reply::accept || r == Reply::reject || r == Reply::tempfail || r == Reply::discard;
    }

    Outcome transaction(const Message& msg, MessageRecord* record) {
        dkim_inserted_ = dkim_added_ = 0;
        const std::string qid = queue_id_;
        Macros mail = {{"i", qid}, {"{mail_addr}", o_.from}};
        if (!o_.login.empty()) {
            mail.insert(mail.begin() + 1, {"{auth_type}", "PLAIN"});
            mail.insert(mail.begin() + 2, {"{auth_authen}", o_.login});
        }
        const std::string sender = "<" + o_.from + ">", size_arg = "SIZE=" + std::to_string(msg.size);
        Reply r = event(SMFIC_MAIL, SMFIP_NOMAIL, SMFIP_NR_MAIL, &mail, {sender, size_arg});
        if (stops(r)) return refusal(r);
        Macros rcpt = {{"i", qid}, {"{rcpt_addr}", o_.rcpt}, {"{rcpt_host}", o_.rcpt.substr(o_.rcpt.find('@') + 1)},
                       {"{rcpt_mailer}", "smtp"}};
        const std::string recipient = "<" + o_.rcpt + ">";
        r = event(SMFIC_RCPT, SMFIP_NORCPT, SMFIP_NR_RCPT, &rcpt, {recipient});
        if (stops(r)) return refusal(r);
        Macros data = {{"i", qid}};
        r = event(SMFIC_DATA, SMFIP_NODATA, SMFIP_NR_DATA, &data, {});
        if (stops(r)) return refusal(r);
        // smtpd hands the milter connection to cleanup here and flushes it.
        if (!out_.empty()) flush();
        Macros eoh = {{"i", qid}};
        if (!(ev_mask_ & SMFIP_NOHDRS)) {
            const bool lead = (ev_mask_ & SMFIP_HDR_LEADSPC) != 0;
            std::string value;
            for (const Header& h : msg.headers) {
                value.clear();
                for (char ch : h.value)
                    if (ch != '\r') value += ch;  // folded lines joined with LF, as cleanup keeps them
                std::string_view v = value;
                if (!lead && !v.empty() && v.front() == ' ') v.remove_prefix(1);
                r = event(SMFIC_HEADER, SMFIP_NOHDRS, SMFIP_NR_HDR, &eoh, {h.name, v});
                if (stops(r)) return refusal(r);
            }
        }
        if (!(ev_mask_ & SMFIP_NOEOH)) {
            r = event(SMFIC_EOH, SMFIP_NOEOH, SMFIP_NR_EOH, &eoh, {});
            if (stops(r)) return refusal(r);
        }
        Macros eod = {{"i", qid}};
        if (!(ev_mask_ & SMFIP_NOBODY)) {
            for (size_t pos = 0; pos < msg.body.size(); pos += kChunk) {
                std::string_view chunk(msg.body.data() + pos, std::min(kChunk, msg.body.size() - pos));
                r = event(SMFIC_BODY, SMFIP_NOBODY, SMFIP_NR_BODY, &eod, {}, nullptr, chunk, true);
                if (stops(r)) return refusal(r);
                if (r == Reply::skip) break;
            }
        }
        skip_event_ = 0;
        r = event(SMFIC_BODYEOB, 0, 0, &eod, {}, record, {}, true);
        if (r == Reply::reject || r == Reply::tempfail || r == Reply::discard) return refusal(r);
        if (r != Reply::cont && r != Reply::accept) throw ProtocolError{"unexpected final reply"};
        return dkim_inserted_ > 0 ? Outcome::signed_ok : Outcome::unsigned_ok;
    }

    // The message as Postfix would deliver it (without its own Received).
    void write_dump(const Message& msg, const MessageRecord& rec) {
        std::lock_guard<std::mutex> lock(shared_.dump_mutex);
        if (shared_.dumped) return;
        shared_.dumped = true;
        const bool lead = (ev_mask_ & SMFIP_HDR_LEADSPC) != 0;
        auto line = [&](const std::string& name, const std::string& value) {
            std::string out = name + (lead ? ":" : ": ");
            for (size_t i = 0; i < value.size(); ++i) {
                if (value[i] == '\n' && (i == 0 || value[i - 1] != '\r')) out += '\r';
                out += value[i];
            }
            return out + "\r\n";
        };
        std::vector<Header> headers = msg.headers;
        for (auto& h : headers) {
            std::string v;
            for (char ch : h.value)
                if (ch != '\r') v += ch;
            if (!lead && !v.empty() && v.front() == ' ') v.erase(0, 1);
            h.value = v;
        }
        for (const auto& [index, name, value] : rec.changed) {
            long seen = 0;
            for (auto it = headers.begin(); it != headers.end(); ++it) {
                if (!iequals(it->name, name) || ++seen != std::max(1L, index)) continue;
                if (value.empty()) headers.erase(it);
                else it->value = value;
                break;
            }
        }
        std::vector<Header> top;
        for (size_t i = 0; i < rec.inserted.size(); ++i) {
            size_t at = std::min(static_cast<size_t>(rec.inserted_index[i]), top.size());
            top.insert(top.begin() + static_cast<long>(at), rec.inserted[i]);
        }
        std::string out;
        for (const auto& h : top) out += line(h.name, h.value);
        for (const auto& h : headers) out += line(h.name, h.value);
        for (const auto& h : rec.added) out += line(h.name, h.value);
        out += "\r\n";
        out += rec.body_replaced ? rec.new_body : msg.body;
        std::ofstream file(o_.dump, std::ios::binary);
        file << out;
        std::fprintf(stderr, "milter_load: wrote %s (%zu bytes; envelope sender %s)\n", o_.dump.c_str(), out.size(),
                     rec.new_sender.empty() ? ("<" + o_.from + "> unchanged").c_str() : rec.new_sender.c_str());
    }
};

void worker(Shared& shared, Stats& stats, int index) {
    const Options& o = *shared.options;
    auto session = std::make_unique<Session>(shared, stats, index);
    long local = 0;
    for (;;) {
        if (shared.stop.load(std::memory_order_relaxed)) break;
        long number;
        if (o.messages > 0) {
            number = shared.claimed.fetch_add(1);
            if (number >= o.messages) break;
        } else {
            number = index * 1000003L + local;
        }
        ++local;
        if (!session->is_open() && !session->open()) {
            if (o.messages > 0) {
                ++stats.errors;  // the claimed message could not be sent
                shared.completed.fetch_add(1);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            session = std::make_unique<Session>(shared, stats, index);
            continue;
        }
        session->send_message(number);
        if (!session->is_open() || (o.msgs_per_conn > 0 && session->messages_on_connection() >= o.msgs_per_conn)) {
            session->finish();
            session = std::make_unique<Session>(shared, stats, index);
        }
    }
    session->finish();
}

// ---------------------------------------------------------------------------
// /proc readings.

struct ProcCpu {
    bool ok = false;
    double seconds = 0;
};

ProcCpu read_cpu(long pid) {
    ProcCpu c;
    if (pid <= 0) return c;
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    auto close = text.rfind(')');
    if (close == std::string::npos) return c;
    std::istringstream in(text.substr(close + 2));
    std::vector<std::string> fields;
    for (std::string field; in >> field;) fields.push_back(field);
    // fields[0] is state (field 3); utime is field 14, stime field 15
    if (fields.size() < 13) return c;
    const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
    c.seconds = (std::atof(fields[11].c_str()) + std::atof(fields[12].c_str())) / tick;
    c.ok = true;
    return c;
}

long read_status_kb(long pid, const char* key) {
    if (pid <= 0) return -1;
    std::ifstream f("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    const size_t n = std::strlen(key);
    while (std::getline(f, line)) {
        if (line.compare(0, n, key) == 0 && line.size() > n && line[n] == ':') return std::atol(line.c_str() + n + 1);
    }
    return -1;
}

double self_cpu_seconds() {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double percentile(std::vector<double>& sorted, double p) {
    if (sorted.empty()) return 0;
    size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
    if (rank == 0) rank = 1;
    return sorted[std::min(rank, sorted.size()) - 1];
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parse_options(argc, argv);
    if (!o.write_message.empty()) {
        const Message m = make_message(o, o.size, 0);
        std::string text;
        for (const auto& h : m.headers) text += h.name + ":" + h.value + "\r\n";
        text += "\r\n" + m.body;
        std::string lf;
        for (char ch : text)
            if (ch != '\r') lf += ch;
        std::ofstream file(o.write_message, std::ios::binary);
        file << lf;
        return file ? 0 : 1;
    }
    Shared shared;
    shared.options = &o;
    shared.endpoint = parse_endpoint(o.socket);
    for (int v = 0; v < 32; ++v) shared.messages.push_back(make_message(o, o.size, v));
    size_t avg_size = 0;
    for (const auto& m : shared.messages) avg_size += m.size;
    avg_size /= shared.messages.size();

    std::vector<Stats> stats(static_cast<size_t>(o.connections));
    std::vector<std::thread> threads;
    const bool by_count = o.messages > 0;
    if (by_count) shared.measuring = true;

    ProcCpu cpu0;
    double self0 = 0;
    auto t0 = Clock::now();
    auto begin_measuring = [&] {
        if (o.reset_hwm && o.pid > 0) {
            std::ofstream clear("/proc/" + std::to_string(o.pid) + "/clear_refs");
            clear << "5\n";
        }
        cpu0 = read_cpu(o.pid);
        self0 = self_cpu_seconds();
        t0 = Clock::now();
    };
    if (by_count) begin_measuring();
    for (int i = 0; i < o.connections; ++i)
        threads.emplace_back(worker, std::ref(shared), std::ref(stats[static_cast<size_t>(i)]), i);

    if (!by_count) {
        std::this_thread::sleep_for(std::chrono::duration<double>(o.warmup));
        begin_measuring();
        shared.measuring = true;
        const auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration));
        while (Clock::now() < until && !shared.stop) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        shared.stop = true;
    }
    auto t1 = Clock::now();
    ProcCpu cpu1;
    double self1 = 0;
    if (!by_count) {
        cpu1 = read_cpu(o.pid);
        self1 = self_cpu_seconds();
    }
    for (auto& t : threads) t.join();
    if (by_count) {
        t1 = Clock::now();
        cpu1 = read_cpu(o.pid);
        self1 = self_cpu_seconds();
    }
    const long hwm_kb = read_status_kb(o.pid, "VmHWM");
    const long rss_kb = read_status_kb(o.pid, "VmRSS");

    Stats total;
    for (const auto& s : stats) total.merge(s);
    std::sort(total.latencies_ms.begin(), total.latencies_ms.end());
    const double seconds = std::chrono::duration<double>(t1 - t0).count();
    const long accepted = total.ok + total.unsigned_ok;
    const long finished = accepted + total.rejected + total.tempfail + total.discarded;
    const double rate = seconds > 0 ? static_cast<double>(accepted) / seconds : 0;
    const double p50 = percentile(total.latencies_ms, 50), p99 = percentile(total.latencies_ms, 99);
    const double max = total.latencies_ms.empty() ? 0 : total.latencies_ms.back();
    const double cpu_s = (cpu0.ok && cpu1.ok) ? cpu1.seconds - cpu0.seconds : -1;
    const double cpu_ms_per_msg = (cpu_s >= 0 && finished > 0) ? cpu_s * 1000.0 / static_cast<double>(finished) : -1;
    const double self_ms_per_msg = finished > 0 ? (self1 - self0) * 1000.0 / static_cast<double>(finished) : 0;

    std::printf("milter_load: %s, %d connection(s), %zu-byte messages (target %zu), %s%s\n", o.socket.c_str(),
                o.connections, avg_size, o.size,
                o.msgs_per_conn > 0 ? (std::to_string(o.msgs_per_conn) + " per connection").c_str() : "connections kept",
                o.nodelay ? ", TCP_NODELAY" : "");
    if (by_count) std::printf("  window      %.2f s\n", seconds);
    else std::printf("  window      %.2f s after %.1f s warm-up\n", seconds, o.warmup);
    std::printf("  messages    %ld signed, %ld accepted unsigned, %ld rejected, %ld tempfail, %ld discarded, %ld errors\n",
                total.ok, total.unsigned_ok, total.rejected, total.tempfail, total.discarded, total.errors);
    std::printf("  throughput  %.1f msgs/s (%ld milter connections opened)\n", rate, total.connections);
    std::printf("  latency     p50 %.3f ms, p99 %.3f ms, max %.3f ms; %ld message(s) over %.0f ms\n", p50, p99, max,
                total.slow, o.slow_ms);
    std::printf("  replies     INSHEADER %ld (DKIM-Signature in %ld messages), CHGHEADER %ld, ADDHEADER %ld, CHGFROM %ld, "
                "REPLBODY packets %ld, other %ld\n",
                total.ins, total.ok, total.chg, total.add, total.chgfrom, total.body_replaced, total.other_mods);
    if (o.pid > 0) {
        if (cpu_s >= 0)
            std::printf("  milter      pid %ld: CPU %.3f s in window = %.3f ms/msg (%.0f%% of one core); VmHWM %.1f MB, VmRSS %.1f MB\n",
                        o.pid, cpu_s, cpu_ms_per_msg, seconds > 0 ? cpu_s * 100.0 / seconds : 0, static_cast<double>(hwm_kb) / 1024.0,
                        static_cast<double>(rss_kb) / 1024.0);
        else
            std::printf("  milter      pid %ld: cannot read /proc/%ld/stat\n", o.pid, o.pid);
    }
    std::printf("  driver      CPU %.3f ms/msg\n", self_ms_per_msg);
    for (const auto& [what, n] : total.error_kinds) std::printf("  error       %ld x %s\n", n, what.c_str());
    if (shared.gave_up) std::printf("  ERROR       gave up after %ld errors (--max-errors)\n", o.max_errors);

    const long bad = total.errors + total.rejected + total.tempfail + total.discarded + (o.require_dkim ? total.unsigned_ok : 0);
    if (o.require_dkim && total.unsigned_ok > 0)
        std::printf("  ERROR       %ld message(s) accepted without a DKIM-Signature insert\n", total.unsigned_ok);
    if (finished == 0) std::printf("  ERROR       no message completed\n");
    std::printf("RESULT label=%s socket=%s size=%zu conns=%d seconds=%.3f signed=%ld unsigned=%ld rejected=%ld "
                "tempfail=%ld errors=%ld rate=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f slow=%ld ins=%ld add=%ld "
                "chgfrom=%ld cpu_ms_per_msg=%.4f hwm_kb=%ld driver_cpu_ms_per_msg=%.4f\n",
                o.label.empty() ? "-" : o.label.c_str(), o.socket.c_str(), avg_size, o.connections, seconds, total.ok,
                total.unsigned_ok, total.rejected, total.tempfail, total.errors + total.discarded, rate, p50, p99, max,
                total.slow, total.ins, total.add, total.chgfrom, cpu_ms_per_msg, hwm_kb, self_ms_per_msg);
    return (bad > 0 || finished == 0 || shared.gave_up) ? 1 : 0;
}
