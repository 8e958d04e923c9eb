// http_poster.cpp — see http_poster.h.
#include "webhookd/http_poster.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

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

// The address libcurl is about to connect to, as text for IpAddress.
std::optional<IpAddress> connect_address(const curl_sockaddr& target) {
    char text[INET6_ADDRSTRLEN] = {};
    if (target.family == AF_INET && target.addrlen >= sizeof(sockaddr_in)) {
        sockaddr_in v4{};
        std::memcpy(&v4, &target.addr, sizeof v4);
        ::inet_ntop(AF_INET, &v4.sin_addr, text, sizeof text);
    } else if (target.family == AF_INET6 && target.addrlen >= sizeof(sockaddr_in6)) {
        sockaddr_in6 v6{};
        std::memcpy(&v6, &target.addr, sizeof v6);
        ::inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof text);
    } else {
        return std::nullopt;
    }
    return IpAddress::parse(text);
}

// One transfer's view of its connection attempts.
struct ConnectCheck {
    const DestinationPolicy* policy = nullptr;
    std::string refused;    // why the last refused attempt was refused
    bool admitted = false;  // some attempt was let through: its own error is the one to report
};

// libcurl calls this for every connection attempt (each resolved address,
// IPv4 and IPv6 alike), so the policy sees what is really connected to, not
// the name in the URL. CURL_SOCKET_BAD makes libcurl try the next address
// or fail with CURLE_COULDNT_CONNECT; the reason stays in the check.
curl_socket_t open_checked_socket(void* user, curlsocktype, curl_sockaddr* target) {
    auto* check = static_cast<ConnectCheck*>(user);
    const auto address = connect_address(*target);
    if (!address) {
        check->refused = "destination of address family " + std::to_string(target->family) + " is refused";
        return CURL_SOCKET_BAD;
    }
    if (std::string why = refused_address(*address, *check->policy); !why.empty()) {
        check->refused = std::move(why);
        return CURL_SOCKET_BAD;
    }
    check->admitted = true;
    return ::socket(target->family, target->socktype | SOCK_CLOEXEC, target->protocol);
}

}  // namespace

struct HttpPoster::Transfer {
    std::uint64_t token = 0;
    PostRequest request;
    CURL* easy = nullptr;
    curl_slist* headers = nullptr;
    std::string response;
    char error[CURL_ERROR_SIZE] = {};
    ConnectCheck connect_check;

    ~Transfer() {
        if (headers != nullptr) curl_slist_free_all(headers);
        if (easy != nullptr) curl_easy_cleanup(easy);
    }
};

void HttpPoster::TransferDeleter::operator()(Transfer* transfer) const { delete transfer; }

Result<std::unique_ptr<HttpPoster>> HttpPoster::create(DestinationPolicy policy) {
    CURLM* multi = curl_multi_init();
    if (multi == nullptr) return make_error("libcurl: cannot create a multi handle");
    return std::unique_ptr<HttpPoster>(new HttpPoster(multi, std::move(policy)));
}

HttpPoster::~HttpPoster() {
    abandon_all();
    curl_multi_cleanup(multi_);
}

Result<void> HttpPoster::start(std::uint64_t token, PostRequest request) {
    if (std::string why = refused_url(request.url, policy_); !why.empty()) return make_error(why);
    std::unique_ptr<Transfer, TransferDeleter> transfer(new Transfer);
    transfer->token = token;
    transfer->connect_check.policy = &policy_;
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
    set(curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, policy_.allow_http ? "http,https" : "https"));
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
    set(curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_checked_socket));
    set(curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, &transfer->connect_check));
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
        } else if (code == CURLE_COULDNT_CONNECT && !t.connect_check.refused.empty() && !t.connect_check.admitted) {
            outcome.error = t.connect_check.refused;
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
