// http_poster.cpp — see http_poster.h.
#include "webhookd/http_poster.h"

#include <algorithm>

#include "common/duration.h"

namespace tenantmail::webhookd {
namespace {

constexpr std::size_t kResponseKept = 512;

std::size_t keep_start(char* data, std::size_t size, std::size_t count, void* user) {
    auto* kept = static_cast<std::string*>(user);
    const std::size_t bytes = size * count;
    if (kept->size() < kResponseKept) kept->append(data, std::min(bytes, kResponseKept - kept->size()));
    return bytes;  // read and dropped: the receiver may answer at length
}

}  // namespace

struct HttpPoster::Transfer {
    std::uint64_t token = 0;
    PostRequest request;
    CURL* easy = nullptr;
    curl_slist* headers = nullptr;
    std::string response;
    char error[CURL_ERROR_SIZE] = {};

    ~Transfer() {
        if (headers != nullptr) curl_slist_free_all(headers);
        if (easy != nullptr) curl_easy_cleanup(easy);
    }
};

void HttpPoster::TransferDeleter::operator()(Transfer* transfer) const { delete transfer; }

Result<std::unique_ptr<HttpPoster>> HttpPoster::create() {
    CURLM* multi = curl_multi_init();
    if (multi == nullptr) return make_error("libcurl: cannot create a multi handle");
    return std::unique_ptr<HttpPoster>(new HttpPoster(multi));
}

HttpPoster::~HttpPoster() {
    abandon_all();
    curl_multi_cleanup(multi_);
}

Result<void> HttpPoster::start(std::uint64_t token, PostRequest request) {
    std::unique_ptr<Transfer, TransferDeleter> transfer(new Transfer);
    transfer->token = token;
    transfer->request = std::move(request);
    transfer->easy = curl_easy_init();
    if (transfer->easy == nullptr) return make_error("libcurl: cannot create a transfer");
    for (const std::string& header : transfer->request.headers) {
        curl_slist* grown = curl_slist_append(transfer->headers, header.c_str());
        if (grown == nullptr) return make_error("libcurl: out of memory for headers");
        transfer->headers = grown;
    }
    CURL* e = transfer->easy;
    const PostRequest& r = transfer->request;
    bool ok = true;
    const auto set = [&ok](CURLcode code) { ok = ok && code == CURLE_OK; };
    set(curl_easy_setopt(e, CURLOPT_URL, r.url.c_str()));
    set(curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https"));
    set(curl_easy_setopt(e, CURLOPT_POST, 1L));
    set(curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.data()));
    set(curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size())));
    set(curl_easy_setopt(e, CURLOPT_HTTPHEADER, transfer->headers));
    set(curl_easy_setopt(e, CURLOPT_USERAGENT, "tenantmail-webhookd/" TM_VERSION));
    set(curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L));
    set(curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L));
    set(curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L));
    set(curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout.count())));
    set(curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(r.connect_timeout.count())));
    set(curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L));
    // A proxy from the environment would see every tenant's events.
    set(curl_easy_setopt(e, CURLOPT_PROXY, ""));
    set(curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, keep_start));
    set(curl_easy_setopt(e, CURLOPT_WRITEDATA, &transfer->response));
    set(curl_easy_setopt(e, CURLOPT_ERRORBUFFER, transfer->error));
    set(curl_easy_setopt(e, CURLOPT_PRIVATE, transfer.get()));
    if (!ok) return make_error("libcurl: cannot set up the POST");
    if (curl_multi_add_handle(multi_, e) != CURLM_OK) return make_error("libcurl: cannot start the POST");
    transfers_.emplace(e, std::move(transfer));
    return {};
}

void HttpPoster::wait(std::vector<curl_waitfd>& extra, std::chrono::milliseconds timeout) {
    for (curl_waitfd& fd : extra) fd.revents = 0;
    int ready = 0;
    curl_multi_poll(multi_, extra.data(), static_cast<unsigned>(extra.size()),
                    static_cast<int>(std::clamp<long long>(timeout.count(), 0, 60000)), &ready);
    int still_running = 0;
    curl_multi_perform(multi_, &still_running);
}

std::vector<PostOutcome> HttpPoster::finished() {
    std::vector<PostOutcome> outcomes;
    int left = 0;
    while (CURLMsg* message = curl_multi_info_read(multi_, &left)) {
        if (message->msg != CURLMSG_DONE) continue;
        CURL* easy = message->easy_handle;
        const CURLcode code = message->data.result;
        const auto it = transfers_.find(easy);
        if (it == transfers_.end()) continue;
        Transfer& t = *it->second;
        PostOutcome outcome;
        outcome.token = t.token;
        if (code == CURLE_OK) {
            curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &outcome.status);
            outcome.response_start = t.response;
        } else if (code == CURLE_OPERATION_TIMEDOUT) {
            outcome.error = "no answer within " + format_duration(t.request.timeout);
        } else {
            outcome.error = t.error[0] != '\0' ? std::string(t.error) : std::string(curl_easy_strerror(code));
        }
        outcomes.push_back(std::move(outcome));
        remove(easy);
    }
    return outcomes;
}

std::vector<std::uint64_t> HttpPoster::abandon_all() {
    std::vector<std::uint64_t> tokens;
    while (!transfers_.empty()) {
        tokens.push_back(transfers_.begin()->second->token);
        remove(transfers_.begin()->first);
    }
    return tokens;
}

void HttpPoster::remove(CURL* easy) {
    curl_multi_remove_handle(multi_, easy);
    transfers_.erase(easy);
}

}  // namespace tenantmail::webhookd
