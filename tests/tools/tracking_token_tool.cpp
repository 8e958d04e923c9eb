// tracking_token_tool.cpp — test-only: makes and reads tracking tokens
// (common/tracking_token.h) with the codec the daemons run, so integration
// tests and the benchmark can make links for tenantmail-trackd and
// tenantmail-bounce without sending mail.
//   tracking_token_tool encode SECRET_FILE KIND TENANT QUEUE_ID RECIPIENT [URL]
//     prints the token (issued now)
//   tracking_token_tool decode SECRET_FILE TOKEN
//     prints the link as JSON: kind, tenant, queue_id, recipient, url, issued_at
//   tracking_token_tool SECRET_FILE KIND TENANT QUEUE_ID RECIPIENT URL [ISSUED_AT]
//   tracking_token_tool SECRET_FILE -   (many: one tab-separated line of
//                                        KIND..ISSUED_AT each on stdin)
// KIND: o, c or u; ISSUED_AT: seconds since the epoch (default: now).
// Errors go to stderr with exit status 1, usage errors 2. Not installed.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/tracking_token.h"

namespace {

using namespace tenantmail;

int usage() {
    std::fprintf(stderr,
                 "usage: tracking_token_tool encode SECRET_FILE o|c|u TENANT QUEUE_ID RECIPIENT [URL]\n"
                 "       tracking_token_tool decode SECRET_FILE TOKEN\n"
                 "       tracking_token_tool SECRET_FILE o|c|u TENANT QUEUE_ID RECIPIENT URL [ISSUED_AT]\n"
                 "       tracking_token_tool SECRET_FILE - < lines\n");
    return 2;
}

int fail(const std::string& message) {
    std::fprintf(stderr, "tracking_token_tool: %s\n", message.c_str());
    return 1;
}

std::int64_t now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::optional<TrackingLinkKind> parse_kind(std::string_view letter) {
    for (const TrackingLinkKind kind : {TrackingLinkKind::open, TrackingLinkKind::click, TrackingLinkKind::unsubscribe}) {
        if (tracking_path_letter(kind) == letter) return kind;
    }
    return std::nullopt;
}

// fields: KIND TENANT QUEUE_ID RECIPIENT [URL [ISSUED_AT]]
int print_token(const TrackingTokenCodec& codec, const std::vector<std::string>& fields) {
    if (fields.size() < 4 || fields.size() > 6) return usage();
    const auto kind = parse_kind(fields[0]);
    if (!kind) return usage();
    TrackingLink link{*kind, fields[1], fields[2], fields[3], fields.size() > 4 ? fields[4] : std::string(),
                      fields.size() > 5 ? std::strtoll(fields[5].c_str(), nullptr, 10) : now()};
    auto token = codec.encode(link);
    if (!token) return fail(token.error());
    std::cout << *token << '\n';
    return 0;
}

int decode(const TrackingTokenCodec& codec, const std::string& token) {
    auto link = codec.decode(token);
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

int from_stdin(const TrackingTokenCodec& codec) {
    for (std::string line; std::getline(std::cin, line);) {
        std::vector<std::string> fields(1);
        for (const char c : line) {
            if (c == '\t') fields.emplace_back();
            else fields.back().push_back(c);
        }
        if (const int status = print_token(codec, fields); status != 0) return status;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) return usage();
    const std::string_view mode = argv[1];
    const bool named = mode == "encode" || mode == "decode";
    auto codec = load_tracking_codec(argv[named ? 2 : 1]);
    if (!codec) return fail(codec.error());
    if (mode == "decode") return argc == 4 ? decode(*codec, argv[3]) : usage();
    if (mode == "encode") {
        if (argc != 7 && argc != 8) return usage();
        return print_token(*codec, std::vector<std::string>(argv + 3, argv + argc));
    }
    if (argc == 3) return std::string_view(argv[2]) == "-" ? from_stdin(*codec) : usage();
    if (argc != 7 && argc != 8) return usage();
    return print_token(*codec, std::vector<std::string>(argv + 2, argv + argc));
}
