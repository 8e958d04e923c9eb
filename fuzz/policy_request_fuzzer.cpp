// policy_request_fuzzer.cpp — what a client writes to policyd's socket
// (policy_protocol), read the way policy_session reads it: writable(),
// commit(), parse() until need_more.
// Invariants: the requests and the outcome do not depend on how the bytes
// were cut into reads (once whole, once in reads of 1 to 64 bytes); the
// buffer never outgrows one largest request plus one read; no request has
// more attributes than the limit.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "policyd/policy_protocol.h"

namespace {

using namespace tenantmail::policyd;

// Small limits, so inputs of a few kilobytes reach them.
constexpr PolicyLimits kLimits{4096, 20};
constexpr std::size_t kReadSize = 4096;

struct Outcome {
    std::vector<std::string> requests;  // the kept attributes of each, joined
    bool failed = false;
    std::string error;
    bool clean_end = false;
};

std::string summary(const PolicyRequest& request) {
    return request.request + '\n' + request.protocol_state + '\n' + request.sasl_username + '\n' +
           request.client_address + '\n' + request.recipient + '\n' + request.queue_id + '\n' +
           std::to_string(request.attributes);
}

// Feeds input in reads whose sizes cycle through read_sizes, parsing after
// each as policy_session does.
Outcome run(std::string_view input, const std::vector<std::size_t>& read_sizes) {
    PolicyParser parser(kLimits);
    Outcome outcome;
    std::size_t next_size = 0;
    for (;;) {
        const auto status = parser.parse();
        if (status == PolicyParser::Status::ready) {
            FUZZ_CHECK(parser.request().attributes >= 1 && parser.request().attributes <= kLimits.max_attributes);
            outcome.requests.push_back(summary(parser.request()));
            continue;
        }
        if (status == PolicyParser::Status::error) {
            outcome.failed = true;
            outcome.error = parser.error();
            FUZZ_CHECK(!outcome.error.empty());
            return outcome;
        }
        if (input.empty()) break;
        const std::size_t count = std::min({read_sizes[next_size++ % read_sizes.size()], input.size(), kReadSize});
        const std::span<char> space = parser.writable(kReadSize);
        FUZZ_CHECK(space.size() >= kReadSize);
        std::memcpy(space.data(), input.data(), count);
        parser.commit(count);
        input.remove_prefix(count);
        FUZZ_CHECK(parser.capacity() <= kLimits.max_request_size + kReadSize);
    }
    outcome.clean_end = parser.finish();
    FUZZ_CHECK(outcome.clean_end == (parser.buffered() == 0));
    return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input = tenantmail::fuzz::as_text(data, size);
    const Outcome whole = run(input, {kReadSize});
    // Read sizes taken from the input itself, so the fuzzer explores them.
    std::vector<std::size_t> read_sizes;
    for (std::size_t i = 0; i < std::min<std::size_t>(size, 16); ++i) read_sizes.push_back(1 + data[i] % 64);
    if (read_sizes.empty()) read_sizes.push_back(1);
    const Outcome pieces = run(input, read_sizes);
    FUZZ_CHECK(whole.requests == pieces.requests);
    FUZZ_CHECK(whole.failed == pieces.failed);
    FUZZ_CHECK(whole.error == pieces.error);
    FUZZ_CHECK(whole.clean_end == pieces.clean_end);
    return 0;
}
