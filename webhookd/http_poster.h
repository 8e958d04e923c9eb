// http_poster.h — concurrent webhook POSTs on one thread with libcurl's
// multi interface: start() queues a POST, wait() sleeps until a transfer
// progresses, one of the caller's own descriptors (signals, Redis) is ready,
// or the timeout passes; finished() hands back the outcomes. Each POST has a
// connect and a total time limit, verifies TLS certificates and host names,
// follows no redirect, uses no proxy (not even one from the environment)
// and keeps only a short excerpt of the response body. Every connection
// attempt is checked against the destination policy (destination_policy.h)
// on the address libcurl is about to connect to, after resolution: a name
// that resolves to loopback or the metadata service is refused like the
// literal address, with the reason as the POST's error.
// The secret never reaches this layer; only the signature header does.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "common/destination_policy.h"

namespace tenantmail::webhookd {

struct PostRequest {
    std::string url;
    std::string body;
    std::vector<std::string> headers;  // "Name: value"
    std::chrono::milliseconds timeout{15000};
    std::chrono::milliseconds connect_timeout{5000};
};

struct PostOutcome {
    std::uint64_t token = 0;
    long status = 0;             // HTTP status; 0 when no response came
    std::string error;           // "" when a response came; else why not
    std::string response_start;  // first bytes of the response body, as received
    bool success() const { return error.empty() && status >= 200 && status < 300; }
};

class HttpPoster {
public:
    // Call curl_global_init() before the first HttpPoster.
    static Result<std::unique_ptr<HttpPoster>> create(DestinationPolicy policy);
    ~HttpPoster();
    HttpPoster(const HttpPoster&) = delete;
    HttpPoster& operator=(const HttpPoster&) = delete;

    // token identifies the POST in its outcome.
    Result<void> start(std::uint64_t token, PostRequest request);
    // extra: the caller's descriptors; their revents are filled in.
    void wait(std::vector<curl_waitfd>& extra, std::chrono::milliseconds timeout);
    std::vector<PostOutcome> finished();
    // Stops every running POST; returns their tokens.
    std::vector<std::uint64_t> abandon_all();
    std::size_t running() const { return transfers_.size(); }

private:
    struct Transfer;
    struct TransferDeleter {
        void operator()(Transfer* transfer) const;  // defined where Transfer is complete
    };
    HttpPoster(CURLM* multi, DestinationPolicy policy) : multi_(multi), policy_(std::move(policy)) {}
    void remove(CURL* easy);

    CURLM* multi_;
    const DestinationPolicy policy_;
    std::unordered_map<CURL*, std::unique_ptr<Transfer, TransferDeleter>> transfers_;
};

}  // namespace tenantmail::webhookd
