// tracking_token_tool.cpp — test-only: mints the token of a tracking link
// the way the milter does (common/tracking_token.h), so integration tests
// and the benchmark can make links for tenantmail-trackd without sending
// mail.
//   tracking_token_tool SECRET_FILE KIND TENANT QUEUE_ID RECIPIENT URL [ISSUED_AT]
// KIND: o, c or u; ISSUED_AT: seconds since the epoch (default: now).
// Prints the token on stdout; exit 1 with a message on failure.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/tracking_token.h"

int main(int argc, char** argv) {
    using namespace tenantmail;
    if (argc != 7 && argc != 8) {
        std::fprintf(stderr, "usage: %s SECRET_FILE o|c|u TENANT QUEUE_ID RECIPIENT URL [ISSUED_AT]\n", argv[0]);
        return 2;
    }
    auto codec = load_tracking_codec(argv[1]);
    if (!codec) {
        std::fprintf(stderr, "%s: %s\n", argv[0], codec.error().c_str());
        return 1;
    }
    TrackingLink link;
    const std::string kind = argv[2];
    if (kind == "o") link.kind = TrackingLinkKind::open;
    else if (kind == "c") link.kind = TrackingLinkKind::click;
    else if (kind == "u") link.kind = TrackingLinkKind::unsubscribe;
    else {
        std::fprintf(stderr, "%s: kind must be o, c or u\n", argv[0]);
        return 2;
    }
    link.tenant = argv[3];
    link.queue_id = argv[4];
    link.recipient = argv[5];
    link.url = argv[6];
    link.issued_at = argc == 8 ? std::strtoll(argv[7], nullptr, 10)
                               : std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count();
    auto token = codec->encode(link);
    if (!token) {
        std::fprintf(stderr, "%s: %s\n", argv[0], token.error().c_str());
        return 1;
    }
    std::printf("%s\n", token->c_str());
    return 0;
}
