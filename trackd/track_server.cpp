// track_server.cpp — see track_server.h.
#include "trackd/track_server.h"

#include <sys/socket.h>

#include <boost/asio/error.hpp>
#include <boost/beast/http/field.hpp>
#include <algorithm>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/printable.h"
#include "trackd/automation.h"
#include "trackd/client_address.h"
#include "trackd/http_session.h"
#include "trackd/pages.h"
#include "trackd/redis_call.h"
#include "trackd/track_events.h"

namespace tenantmail::trackd {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;

namespace {

constexpr const char* kNoStore = "no-store, no-cache, must-revalidate, private";

HttpResponse base_response(http::status status, unsigned version, bool keep_alive) {
    HttpResponse response{status, version};
    response.set(http::field::cache_control, kNoStore);
    response.keep_alive(keep_alive);
    return response;
}

HttpResponse base_response(http::status status, const HttpRequest& request) {
    return base_response(status, request.version(), request.keep_alive());
}

// The body, or for HEAD only its length.
void set_body(HttpResponse& response, bool head, std::string_view type, std::string_view body) {
    response.set(http::field::content_type, boost::beast::string_view(type.data(), type.size()));
    if (head) {
        response.content_length(body.size());
    } else {
        response.body().assign(body);
        response.prepare_payload();
    }
}

HttpResponse pixel_response(unsigned version, bool keep_alive, bool head) {
    HttpResponse response = base_response(http::status::ok, version, keep_alive);
    response.set(http::field::pragma, "no-cache");
    response.set(http::field::expires, "0");
    set_body(response, head, "image/gif", transparent_gif());
    return response;
}

// Without its Location (WireTemplate puts it in).
HttpResponse redirect_response(unsigned version, bool keep_alive) {
    HttpResponse response = base_response(http::status::found, version, keep_alive);
    response.set("Referrer-Policy", "no-referrer");
    response.content_length(0);
    return response;
}

void set_page_headers(HttpResponse& response) {
    response.set("X-Content-Type-Options", "nosniff");
    response.set("Content-Security-Policy", "default-src 'none'; form-action 'self'; frame-ancestors 'none'");
    response.set("Referrer-Policy", "no-referrer");
}

std::int64_t now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// HTTP/1.0 and 1.1 have their answers ready; Beast parses other 1-digit
// versions too, and those are serialized each time.
bool known_version(const HttpRequest& request) { return request.version() == 10 || request.version() == 11; }

std::string_view header(const HttpRequest& request, http::field field) {
    const auto found = request.find(field);
    if (found == request.end()) return {};
    const auto value = found->value();
    return {value.data(), value.size()};
}

// Every X-Forwarded-For field, joined with commas in order.
std::string forwarded_for(const HttpRequest& request) {
    std::string joined;
    for (auto [it, end] = request.equal_range("X-Forwarded-For"); it != end; ++it) {
        if (!joined.empty()) joined.push_back(',');
        joined.append(it->value().data(), it->value().size());
    }
    return joined;
}

}  // namespace

TrackServer::TrackServer(asio::io_context& io, ServerSettings settings, AsyncRedis& redis, TrackingTokenCodec codec,
                         std::shared_ptr<const TenantRegistry> registry)
    : io_(io),
      settings_(std::move(settings)),
      redis_(redis),
      codec_(std::move(codec)),
      registry_(std::move(registry)),
      acceptor_(io),
      accept_retry_(io),
      sweep_timer_(io) {
    for (const bool http11 : {false, true}) {
        for (const bool keep_alive : {false, true}) {
            const unsigned version = http11 ? 11 : 10;
            for (const bool head : {false, true})
                pixel_wire_[http11][keep_alive][head] = to_wire(pixel_response(version, keep_alive, head));
            redirect_wire_[http11][keep_alive] =
                WireTemplate(redirect_response(version, keep_alive), http::field::location);
        }
    }
}

TrackServer::~TrackServer() { stop(); }

Result<void> TrackServer::start(UniqueFd listener) {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        return make_error("cannot inspect the listening socket");
    }
    if (address.ss_family != AF_INET && address.ss_family != AF_INET6) {
        return make_error("the listening socket is not a TCP socket");
    }
    boost::system::error_code ec;
    acceptor_.assign(address.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), listener.get(), ec);
    if (ec) return make_error("cannot use the listening socket: " + ec.message());
    listener.release();  // the acceptor owns it now
    accept();
    sweep();
    return {};
}

void TrackServer::sweep() {
    if (stopped_) return;
    const auto now = std::chrono::steady_clock::now();
    std::vector<HttpSession*> expired;
    for (HttpSession* session : sessions_)
        if (session->expired(now)) expired.push_back(session);
    for (HttpSession* session : expired) session->close();
    const auto period = std::clamp<std::chrono::steady_clock::duration>(settings_.request_timeout / 4,
                                                                        std::chrono::milliseconds(50), std::chrono::seconds(1));
    sweep_timer_.expires_after(period);
    sweep_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) sweep();
    });
}

void TrackServer::stop() {
    if (stopped_) return;
    stopped_ = true;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    accept_retry_.cancel();
    sweep_timer_.cancel();
    const std::vector<HttpSession*> open(sessions_.begin(), sessions_.end());
    for (HttpSession* session : open) session->close();
}

void TrackServer::accept() {
    if (stopped_) return;
    acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
        if (stopped_) return;
        if (ec) {
            if (ec == asio::error::operation_aborted) return;
            // Out of descriptors and the like: wait a little rather than
            // spin, and say so once a minute.
            const auto now = std::chrono::steady_clock::now();
            if (now - last_accept_error_ > std::chrono::minutes(1)) {
                last_accept_error_ = now;
                LOG_ERROR("accepting a connection failed: %s; retrying every 100ms", ec.message().c_str());
            }
            accept_retry_.expires_after(std::chrono::milliseconds(100));
            accept_retry_.async_wait([this](const boost::system::error_code& timer_ec) {
                if (!timer_ec) accept();
            });
            return;
        }
        if (sessions_.size() >= settings_.connection_limit) {
            ++stats_.refused_connections;
            const auto now = std::chrono::steady_clock::now();
            if (now - last_limit_warning_ > std::chrono::minutes(1)) {
                last_limit_warning_ = now;
                LOG_WARNING("%zu client connections open (connection_limit); closing new ones", sessions_.size());
            }
            boost::system::error_code ignored;
            socket.close(ignored);
        } else {
            ++stats_.connections;
            boost::system::error_code peer_ec;
            const auto endpoint = socket.remote_endpoint(peer_ec);
            const std::optional<IpAddress> peer =
                peer_ec ? std::nullopt : IpAddress::parse(endpoint.address().to_string());
            if (peer) {
                auto session = std::make_shared<HttpSession>(*this, std::move(socket), *peer);
                sessions_.insert(session.get());
                session->start();
            }
        }
        accept();
    });
}

void TrackServer::lost(const EventSummary& event, std::string_view why) {
    ++stats_.lost_events;
    if (metrics_ != nullptr) metrics_->lost_events.Increment();
    LOG_WARNING("%s event lost: tenant %s, queue id %s, recipient %s: %.*s", std::string(event_kind_name(event.kind)).c_str(),
                event.tenant.c_str(), event.queue_id.empty() ? "-" : event.queue_id.c_str(),
                excerpt(event.recipient, 320).c_str(), static_cast<int>(why.size()), why.data());
}

// Fire and forget: the reader already has the answer.
void TrackServer::record(const EventSummary& event, ScriptCommand command) {
    auto done = [this, event](const redisReply* reply) {
        if (reply == nullptr) return lost(event, "no reply from Redis within redis.timeout");
        if (reply->type == REDIS_REPLY_ERROR) return lost(event, std::string_view(reply->str, reply->len));
        if (reply->type == REDIS_REPLY_NIL) {
            ++stats_.repeated_opens;
            if (metrics_ != nullptr) metrics_->repeated_opens.Increment();
            LOG_DEBUG("open: tenant %s, queue id %s: repeated within open_repeat_window, no event", event.tenant.c_str(),
                      event.queue_id.c_str());
            return;
        }
        ++stats_.events;
        if (metrics_ != nullptr) metrics_->events.Increment();
    };
    if (!send_script_command(redis_, std::move(command), std::move(done))) lost(event, "Redis unavailable");
}

void TrackServer::handle(const HttpRequest& request, const IpAddress& peer, std::function<void(WireResponse)> reply) {
    ++stats_.requests;
    const std::string_view method(request.method_string().data(), request.method_string().size());
    const std::string_view target(request.target().data(), request.target().size());
    const TrackRequest track{method, target, header(request, http::field::host), header(request, http::field::content_type),
                             request.body()};
    const Decision decision = decide(track, codec_, *registry_);

    const std::string_view agent = header(request, http::field::user_agent);
    RequestFacts facts{agent, client_address(peer, forwarded_for(request), settings_.trusted_proxies).to_string(), {}};

    switch (decision.action) {
        case Action::pixel: {
            ++stats_.opens;
            if (metrics_ != nullptr) metrics_->opens.Increment();
            facts.automation = classify_open(agent);
            Event event = make_track_event(EventKind::open, decision.link, facts);
            LOG_DEBUG("open: tenant %s, queue id %s, client %s%s%.*s", event.tenant.c_str(), event.queue_id.c_str(),
                      facts.client_address.c_str(), facts.automation.flagged() ? ", automated: " : "",
                      static_cast<int>(facts.automation.reason.size()), facts.automation.reason.data());
            const EventSummary summary = summarise(event);
            record(summary, build_open_command(std::move(event), settings_.open_repeat_window, settings_.stream_cap));
            if (!known_version(request)) return reply(to_wire(pixel_response(request.version(), request.keep_alive(), decision.head)));
            return reply(pixel_wire_[request.version() == 11][request.keep_alive()][decision.head]);
        }
        case Action::redirect: {
            ++stats_.clicks;
            if (metrics_ != nullptr) metrics_->clicks.Increment();
            facts.automation = classify_click({decision.head, agent,
                                               std::chrono::seconds(now_seconds() - decision.link.issued_at),
                                               settings_.scanner_window});
            Event event = make_track_event(EventKind::click, decision.link, facts);
            LOG_DEBUG("click: tenant %s, queue id %s, client %s%s%.*s", event.tenant.c_str(), event.queue_id.c_str(),
                      facts.client_address.c_str(), facts.automation.flagged() ? ", automated: " : "",
                      static_cast<int>(facts.automation.reason.size()), facts.automation.reason.data());
            const EventSummary summary = summarise(event);
            record(summary, build_click_command(std::move(event), settings_.stream_cap));
            if (!known_version(request)) {
                HttpResponse response = redirect_response(request.version(), request.keep_alive());
                response.set(http::field::location, decision.link.url);
                return reply(to_wire(response));
            }
            return reply(redirect_wire_[request.version() == 11][request.keep_alive()].with(decision.link.url));
        }
        case Action::unsubscribe_page: {
            HttpResponse response = base_response(http::status::ok, request);
            set_page_headers(response);
            set_body(response, decision.head, "text/html; charset=utf-8", unsubscribe_page(decision.token));
            return reply(to_wire(response));
        }
        case Action::unsubscribe: {
            ++stats_.unsubscribes;
            if (metrics_ != nullptr) metrics_->unsubscribes.Increment();
            Event event = make_track_event(EventKind::unsubscribe, decision.link, facts);
            const bool keep_alive = request.keep_alive();
            const unsigned version = request.version();
            auto done = [this, event = summarise(event), keep_alive, version, reply](const redisReply* redis_reply) {
                if (stopped_) return;
                const bool ok = redis_reply != nullptr && redis_reply->type == REDIS_REPLY_INTEGER;
                HttpResponse response{ok ? http::status::ok : http::status::service_unavailable, version};
                response.set(http::field::cache_control, kNoStore);
                response.keep_alive(keep_alive);
                if (ok) {
                    if (redis_reply->integer == 1) {
                        ++stats_.events;
                        if (metrics_ != nullptr) metrics_->events.Increment();
                    }
                    LOG_INFO("unsubscribe: tenant %s, queue id %s, recipient %s: %s", event.tenant.c_str(),
                             event.queue_id.c_str(), excerpt(event.recipient, 320).c_str(),
                             redis_reply->integer == 1 ? "suppressed" : "already suppressed");
                    set_page_headers(response);
                    set_body(response, false, "text/html; charset=utf-8", unsubscribed_page());
                } else {
                    const std::string why = redis_reply == nullptr ? "no reply from Redis within redis.timeout"
                                                                   : excerpt({redis_reply->str, redis_reply->len}, 200);
                    LOG_WARNING("unsubscribe: tenant %s, queue id %s, recipient %s: not recorded (%s); answered 503",
                                event.tenant.c_str(), event.queue_id.c_str(), excerpt(event.recipient, 320).c_str(),
                                why.c_str());
                    response.set(http::field::retry_after, "60");
                    set_body(response, false, "text/plain", "try again later\n");
                }
                reply(to_wire(response));
            };
            if (!send_script_command(redis_, build_unsubscribe_command(std::move(event), now_seconds(), settings_.stream_cap),
                                    done)) {
                done(nullptr);
            }
            return;
        }
        case Action::method_not_allowed: {
            HttpResponse response = base_response(http::status::method_not_allowed, request);
            response.set(http::field::allow, "GET, HEAD, POST");
            set_body(response, false, "text/plain", "method not allowed\n");
            return reply(to_wire(response));
        }
        case Action::bad_request: {
            LOG_INFO("bad request %.*s %s: %.*s", static_cast<int>(method.size()), method.data(),
                     excerpt(target, 80).c_str(), static_cast<int>(decision.why.size()), decision.why.data());
            HttpResponse response = base_response(http::status::bad_request, request);
            set_body(response, false, "text/plain", "bad request\n");
            return reply(to_wire(response));
        }
        case Action::not_found: break;
    }
    ++stats_.not_found;
    if (metrics_ != nullptr) metrics_->not_found.Increment();
    LOG_INFO("not found: %.*s %s (Host %s, client %s): %.*s", static_cast<int>(method.size()), method.data(),
             excerpt(target, 80).c_str(), excerpt(track.host, 100).c_str(), facts.client_address.c_str(),
             static_cast<int>(decision.why.size()), decision.why.data());
    HttpResponse response = base_response(http::status::not_found, request);
    set_body(response, decision.head, "text/plain", not_found_text());
    reply(to_wire(response));
}

}  // namespace tenantmail::trackd
