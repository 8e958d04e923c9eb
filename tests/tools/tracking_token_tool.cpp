// tracking_token_tool.cpp — makes and reads tracking tokens
// (common/tracking_token.h) for the integration tests, with the codec the
// daemons run:
//   tracking_token_tool encode SECRET_FILE KIND(o|c|u) TENANT QUEUE_ID RECIPIENT [URL]
//     prints the token (issued now) on stdout
//   tracking_token_tool decode SECRET_FILE TOKEN
//     prints the link as JSON: kind, tenant, queue_id, recipient, url, issued_at
// Errors go to stderr with exit status 1, usage errors 2. Test-only: not installed.
#include <cstdio>
#include <ctime>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/tracking_token.h"

namespace {

using namespace tenantmail;

int usage() {
    std::fprintf(stderr,
                 "usage: tracking_token_tool encode SECRET_FILE KIND(o|c|u) TENANT QUEUE_ID RECIPIENT [URL]\n"
                 "       tracking_token_tool decode SECRET_FILE TOKEN\n");
    return 2;
}

std::optional<TrackingLinkKind> parse_kind(std::string_view letter) {
    for (const TrackingLinkKind kind : {TrackingLinkKind::open, TrackingLinkKind::click, TrackingLinkKind::unsubscribe}) {
        if (tracking_path_letter(kind) == letter) return kind;
    }
    return std::nullopt;
}

int fail(const std::string& message) {
    std::fprintf(stderr, "tracking_token_tool: %s\n", message.c_str());
    return 1;
}

int encode(const TrackingTokenCodec& codec, int argc, char** argv) {
    if (argc != 7 && argc != 8) return usage();
    const auto kind = parse_kind(argv[3]);
    if (!kind) return usage();
    TrackingLink link;
    link.kind = *kind;
    link.tenant = argv[4];
    link.queue_id = argv[5];
    link.recipient = argv[6];
    if (argc == 8) link.url = argv[7];
    link.issued_at = static_cast<std::int64_t>(std::time(nullptr));
    auto token = codec.encode(link);
    if (!token) return fail(token.error());
    std::cout << *token << '\n';
    return 0;
}

int decode(const TrackingTokenCodec& codec, int argc, char** argv) {
    if (argc != 4) return usage();
    auto link = codec.decode(argv[3]);
    if (!link) return fail(link.error());
    const nlohmann::json json = {{"kind", std::string(tracking_path_letter(link->kind))},
                                 {"tenant", link->tenant},
                                 {"queue_id", link->queue_id},
                                 {"recipient", link->recipient},
                                 {"url", link->url},
                                 {"issued_at", link->issued_at}};
    std::cout << json.dump() << '\n';
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 4) return usage();
    const std::string_view mode = argv[1];
    if (mode != "encode" && mode != "decode") return usage();
    auto codec = load_tracking_codec(argv[2]);
    if (!codec) return fail(codec.error());
    return mode == "encode" ? encode(*codec, argc, argv) : decode(*codec, argc, argv);
}
