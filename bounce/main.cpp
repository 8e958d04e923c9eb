// main.cpp — tenantmail-bounce: Postfix's pipe(8) transport for the bounce
// domains. Postfix runs it once per report, with the message on stdin and
// the envelope recipient (bounces+TOKEN@<bounce domain>, or the mailto:
// unsubscribe+TOKEN@<bounce domain> of List-Unsubscribe) after "--":
//
//   tenantmail-bounce [-c FILE] [options] -- RECIPIENT...
//
// Reads at most bounce.message_size_limit bytes of the message (the rest is
// read and dropped, so Postfix never sees a broken pipe), then hands over to
// process_bounce() once per recipient (Postfix passes several when one
// message went to several bounce addresses of a domain). The exit status is
// 0, or 75 when any recipient needs a retry: Postfix then retries them all,
// which is safe because recording is idempotent (bounce_processor.h).
// Problems an admin can fix exit 75 too, so the report waits in Postfix's
// queue instead of being lost.
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "bounce/bounce_processor.h"
#include "common/options/bounce.h"
#include "common/daemon.h"
#include "common/log.h"

namespace {

using namespace tenantmail;
using namespace tenantmail::bounce;

constexpr const char* kProgram = "tenantmail-bounce";

int usage_error(const std::string& message) {
    std::fprintf(stderr, "%s: %s\n", kProgram, message.c_str());
    return kExitTempfail;
}

// Options before "--", the recipient after it. Splitting here keeps the
// shared option parser free of positional arguments.
struct Arguments {
    std::vector<const char*> options;
    std::vector<std::string> recipients;
};

Arguments split_arguments(int argc, char** argv) {
    Arguments arguments;
    int i = 0;
    for (; i < argc && std::strcmp(argv[i], "--") != 0; ++i) arguments.options.push_back(argv[i]);
    for (++i; i < argc; ++i) arguments.recipients.emplace_back(argv[i]);
    return arguments;
}

// Fills delivery.message with at most limit bytes and counts the rest.
bool read_stdin(Delivery& delivery, std::size_t limit, std::string& error) {
    std::vector<char> buffer(64 * 1024);
    for (;;) {
        const ssize_t n = ::read(STDIN_FILENO, buffer.data(), buffer.size());
        if (n == 0) return true;
        if (n < 0) {
            if (errno == EINTR) continue;
            error = std::string("cannot read the message from stdin: ") + std::strerror(errno);
            return false;
        }
        const auto got = static_cast<std::size_t>(n);
        delivery.size += got;
        if (delivery.message.size() < limit) {
            delivery.message.append(buffer.data(), std::min(got, limit - delivery.message.size()));
        }
    }
}

// Caps the address space, so whatever a hostile report still makes a
// library allocate ends this run (Postfix retries it later, then gives up)
// instead of the host's memory. Not under AddressSanitizer: it reserves
// terabytes of address space for its shadow memory and cannot run under any
// RLIMIT_AS; the header pre-scan (header_scan.h) is what bounds those builds.
void limit_memory(std::size_t megabytes) {
#if defined(__SANITIZE_ADDRESS__)
    (void)megabytes;
#else
    const rlim_t bytes = static_cast<rlim_t>(megabytes) * 1024 * 1024;
    const struct rlimit limit{bytes, bytes};
    if (::setrlimit(RLIMIT_AS, &limit) != 0) LOG_WARNING("cannot set RLIMIT_AS: %s", std::strerror(errno));
#endif
}

}  // namespace

int main(int argc, char** argv) {
    tenantmail::keep_secrets_out_of_core_dumps();
    namespace po = boost::program_options;
    po::options_description desc(std::string("usage: ") + kProgram +
                                 " [options] -- RECIPIENT... < message\n\n"
                                 "Postfix pipe transport for bounces and feedback reports.\n\noptions");
    add_bounce_options(desc, kDefaultConfigFile);
    const Arguments arguments = split_arguments(argc, argv);
    auto config = load_config(static_cast<int>(arguments.options.size()), arguments.options.data(), desc);
    if (!config) return usage_error(config.error());
    if (config->options.count("help")) {
        std::cout << desc << '\n';
        return 0;
    }
    if (config->options.count("version")) {
        std::printf("%s %s\n", kProgram, TM_VERSION);
        return 0;
    }
    const BounceSettings settings = bounce_settings(*config);
    if (settings.common.check_config) return check_bounce_config(settings);
    if (arguments.recipients.empty()) {
        return usage_error("no recipient: the command line must end with \"-- ${original_recipient}\" "
                           "(see the pipe transport in postfix-master.cf)");
    }

    LogLevel level = LogLevel::info;
    parse_log_level(settings.common.log_level, level);
    log_open(kProgram, settings.foreground, level);
    limit_memory(settings.memory_limit_mb);

    Delivery delivery;
    std::string error;
    if (!read_stdin(delivery, settings.message_size_limit, error)) {
        LOG_ERROR("%s", error.c_str());
        return usage_error(error);
    }
    int status = kExitDone;
    for (const std::string& recipient : arguments.recipients) {
        delivery.recipient = recipient;
        if (process_bounce(settings, delivery) != kExitDone) status = kExitTempfail;
    }
    return status;
}
