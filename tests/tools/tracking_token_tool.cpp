// tracking_token_tool.cpp — test-only: mints the token of a tracking link
// the way the milter does (common/tracking_token.h), so integration tests
// and the benchmark can make links for tenantmail-trackd without sending
// mail.
//   tracking_token_tool SECRET_FILE KIND TENANT QUEUE_ID RECIPIENT URL [ISSUED_AT]
//   tracking_token_tool SECRET_FILE -   (many: one tab-separated line of
//                                        KIND..ISSUED_AT each on stdin)
// KIND: o, c or u; ISSUED_AT: seconds since the epoch (default: now).
// Prints each token on a line of stdout; exit 1 with a message on failure.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "common/tracking_token.h"

namespace {

using namespace tenantmail;

std::int64_t now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// fields: KIND TENANT QUEUE_ID RECIPIENT URL [ISSUED_AT]
int print_token(const TrackingTokenCodec& codec, const std::vector<std::string>& fields, const char* program) {
    if (fields.size() != 5 && fields.size() != 6) {
        std::fprintf(stderr, "%s: want KIND TENANT QUEUE_ID RECIPIENT URL [ISSUED_AT]\n", program);
        return 2;
    }
    TrackingLink link;
    if (fields[0] == "o") link.kind = TrackingLinkKind::open;
    else if (fields[0] == "c") link.kind = TrackingLinkKind::click;
    else if (fields[0] == "u") link.kind = TrackingLinkKind::unsubscribe;
    else {
        std::fprintf(stderr, "%s: kind must be o, c or u\n", program);
        return 2;
    }
    link.tenant = fields[1];
    link.queue_id = fields[2];
    link.recipient = fields[3];
    link.url = fields[4];
    link.issued_at = fields.size() == 6 ? std::strtoll(fields[5].c_str(), nullptr, 10) : now();
    auto token = codec.encode(link);
    if (!token) {
        std::fprintf(stderr, "%s: %s\n", program, token.error().c_str());
        return 1;
    }
    std::printf("%s\n", token->c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3 && argc != 7 && argc != 8) {
        std::fprintf(stderr, "usage: %s SECRET_FILE o|c|u TENANT QUEUE_ID RECIPIENT URL [ISSUED_AT]\n"
                             "       %s SECRET_FILE - < lines\n", argv[0], argv[0]);
        return 2;
    }
    auto codec = load_tracking_codec(argv[1]);
    if (!codec) {
        std::fprintf(stderr, "%s: %s\n", argv[0], codec.error().c_str());
        return 1;
    }
    if (argc != 3) return print_token(*codec, std::vector<std::string>(argv + 2, argv + argc), argv[0]);
    if (std::string(argv[2]) != "-") return 2;
    for (std::string line; std::getline(std::cin, line);) {
        std::vector<std::string> fields(1);
        for (const char c : line) {
            if (c == '\t') fields.emplace_back();
            else fields.back().push_back(c);
        }
        if (const int status = print_token(*codec, fields, argv[0]); status != 0) return status;
    }
    return 0;
}
