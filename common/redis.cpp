// redis.cpp — hiredis under RAII, and hiredis's async API driven by Asio.
//
// How the async side fits together: hiredis does the protocol (formatting
// commands into an output buffer, parsing replies, keeping the callback list)
// and asks its "event library" to watch the socket through five hooks
// (addRead/delRead/addWrite/delWrite/cleanup). Here the hooks map onto
// one-shot async_wait()s on an asio::posix::stream_descriptor that borrows
// hiredis's descriptor (released, never closed, by us: hiredis closes it).
// Writes are not waited for once connected: a posted handler flushes the
// buffer after the io thread has finished its current batch of work, so the
// commands of every client served in that batch leave in one write().
// Only when the kernel buffer is full do we wait for writability.
//
// hiredis 0.14 has no timeouts in its async API, so every command carries a
// deadline in our own FIFO (Redis answers in order, so hiredis's callback
// list and ours move together) and one timer watches the oldest entry.
#include "common/redis.h"

#include <hiredis/async.h>
#include <sys/time.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <utility>

#include "common/log.h"
#include "common/private_file.h"

namespace tenantmail {

namespace asio = boost::asio;

namespace {

constexpr std::chrono::milliseconds kFirstBackoff{50};
constexpr std::chrono::milliseconds kMaxBackoff{1000};

timeval to_timeval(std::chrono::milliseconds duration) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(duration.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((duration.count() % 1000) * 1000);
    return tv;
}

std::string reply_error_text(const redisReply* reply) {
    return std::string(reply->str, reply->len);
}

// A hiredis reply copied into a RespValue, for the parsers of redis_value.h.
RespValue resp_from_hiredis(const redisReply* reply) {
    if (reply == nullptr) return RespValue::nil();
    switch (reply->type) {
        case REDIS_REPLY_INTEGER: return RespValue::of_integer(reply->integer);
        case REDIS_REPLY_STRING: return RespValue::of_string(std::string(reply->str, reply->len));
        case REDIS_REPLY_STATUS: {
            RespValue value = RespValue::of_string(std::string(reply->str, reply->len));
            value.type = RespValue::Type::status;
            return value;
        }
        case REDIS_REPLY_ERROR: return RespValue::of_error(std::string(reply->str, reply->len));
        case REDIS_REPLY_ARRAY: {
            std::vector<RespValue> elements;
            elements.reserve(reply->elements);
            for (std::size_t i = 0; i < reply->elements; ++i) elements.push_back(resp_from_hiredis(reply->element[i]));
            return RespValue::of_array(std::move(elements));
        }
        default: return RespValue::nil();
    }
}

}  // namespace

std::string describe_redis(const RedisSettings& settings) {
    if (!settings.socket.empty()) return "unix:" + settings.socket;
    const bool v6 = settings.host.find(':') != std::string::npos;
    return (v6 ? "[" + settings.host + "]" : settings.host) + ":" + std::to_string(settings.port);
}

Result<std::string> read_redis_password(const RedisSettings& settings) {
    if (settings.password_file.empty()) return std::string();
    auto text = read_private_file(settings.password_file, "Redis password file");
    if (!text) return Error{text.error()};
    std::string password = std::move(*text);
    while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) password.pop_back();
    if (password.empty()) return make_error("Redis password file " + settings.password_file + " is empty");
    return password;
}

// ---------------------------------------------------------------------------
// RedisClient

Result<RedisClient> RedisClient::connect(const RedisSettings& settings, const std::string& password) {
    const timeval tv = to_timeval(settings.timeout);
    redisContext* context = settings.socket.empty()
                                ? redisConnectWithTimeout(settings.host.c_str(), settings.port, tv)
                                : redisConnectUnixWithTimeout(settings.socket.c_str(), tv);
    const std::string where = describe_redis(settings);
    if (context == nullptr) return make_error("cannot connect to Redis at " + where + ": out of memory");
    RedisClient client(context);
    client.where_ = where;
    if (context->err) return make_error("cannot connect to Redis at " + where + ": " + context->errstr);
    if (redisSetTimeout(context, tv) != REDIS_OK) {
        return make_error("cannot set a timeout on the Redis connection to " + where);
    }
    if (!password.empty()) {
        auto auth = client.command({"AUTH", password});
        if (!auth) return Error{auth.error()};
    }
    return client;
}

Result<RedisReply> RedisClient::command(std::initializer_list<std::string_view> args) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    argv.reserve(args.size());
    lengths.reserve(args.size());
    for (const std::string_view arg : args) {
        argv.push_back(arg.data());
        lengths.push_back(arg.size());
    }
    return command_argv(static_cast<int>(argv.size()), argv.data(), lengths.data());
}

RedisArgv::RedisArgv(const std::vector<std::string>& args) {
    pointers.reserve(args.size());
    lengths.reserve(args.size());
    for (const std::string& arg : args) {
        pointers.push_back(arg.data());
        lengths.push_back(arg.size());
    }
}

Result<RedisReply> RedisClient::command(const std::vector<std::string>& args) {
    RedisArgv argv(args);
    return command_argv(argv.count(), argv.pointers.data(), argv.lengths.data());
}

Result<std::vector<RedisReply>> RedisClient::pipeline(const std::vector<std::vector<std::string>>& commands) {
    for (const auto& args : commands) {
        RedisArgv argv(args);
        if (redisAppendCommandArgv(context_.get(), argv.count(), argv.pointers.data(), argv.lengths.data()) !=
            REDIS_OK) {
            return make_error("Redis at " + where_ + ": cannot queue a command: " + context_->errstr);
        }
    }
    std::vector<RedisReply> replies;
    replies.reserve(commands.size());
    for (std::size_t i = 0; i < commands.size(); ++i) {
        void* raw = nullptr;
        if (redisGetReply(context_.get(), &raw) != REDIS_OK || raw == nullptr) {
            const std::string reason = context_->err ? context_->errstr : "no reply";
            return make_error("Redis at " + where_ + ": " + reason);
        }
        replies.emplace_back(static_cast<redisReply*>(raw));
    }
    return replies;
}

Error RedisClient::io_error() const {
    return make_error("Redis at " + where_ + ": " + (context_->err ? std::string(context_->errstr) : "no reply"));
}

Result<RespValue> RedisClient::call(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (const std::string& arg : args) {
        argv.push_back(arg.data());
        lengths.push_back(arg.size());
    }
    const RedisReply reply(static_cast<redisReply*>(
        redisCommandArgv(context_.get(), static_cast<int>(argv.size()), argv.data(), lengths.data())));
    if (!reply) return io_error();
    return resp_from_hiredis(reply.get());
}

Result<void> RedisClient::send(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (const std::string& arg : args) {
        argv.push_back(arg.data());
        lengths.push_back(arg.size());
    }
    if (redisAppendCommandArgv(context_.get(), static_cast<int>(argv.size()), argv.data(), lengths.data()) !=
        REDIS_OK) {
        return io_error();
    }
    int done = 0;
    while (!done) {
        if (redisBufferWrite(context_.get(), &done) != REDIS_OK) return io_error();
    }
    return {};
}

Result<std::optional<RespValue>> RedisClient::receive() {
    void* raw = nullptr;
    // A reply may already sit complete in hiredis's buffer; read the
    // socket only when not, and only once (poll said it is readable).
    if (redisGetReplyFromReader(context_.get(), &raw) != REDIS_OK) return io_error();
    if (raw == nullptr) {
        if (redisBufferRead(context_.get()) != REDIS_OK) return io_error();
        if (redisGetReplyFromReader(context_.get(), &raw) != REDIS_OK) return io_error();
    }
    if (raw == nullptr) return std::optional<RespValue>{};
    const RedisReply reply(static_cast<redisReply*>(raw));
    return std::optional<RespValue>(resp_from_hiredis(reply.get()));
}

Result<RedisReply> RedisClient::command_argv(int argc, const char** argv, const std::size_t* lengths) {
    RedisReply reply(static_cast<redisReply*>(redisCommandArgv(context_.get(), argc, argv, lengths)));
    if (!reply) {
        const std::string reason = context_->err ? context_->errstr : "no reply";
        return make_error("Redis at " + where_ + ": " + reason);
    }
    if (reply->type == REDIS_REPLY_ERROR) return make_error("Redis at " + where_ + ": " + reply_error_text(reply.get()));
    return reply;
}

// ---------------------------------------------------------------------------
// AsyncRedis::PendingQueue

void AsyncRedis::PendingQueue::push(const Pending& pending) {
    if (size_ == slots_.size()) {
        std::vector<Pending> bigger(std::max<std::size_t>(64, slots_.size() * 2));
        for (std::size_t i = 0; i < size_; ++i) bigger[i] = slots_[(head_ + i) % slots_.size()];
        slots_.swap(bigger);
        head_ = 0;
    }
    slots_[(head_ + size_) % slots_.size()] = pending;
    ++size_;
}

AsyncRedis::Pending AsyncRedis::PendingQueue::pop() {
    const Pending pending = slots_[head_];
    head_ = (head_ + 1) % slots_.size();
    --size_;
    return pending;
}

// ---------------------------------------------------------------------------
// AsyncRedis::Link: one hiredis async context and the Asio side of its socket.

struct AsyncRedis::Link : std::enable_shared_from_this<AsyncRedis::Link> {
    Link(asio::io_context& io, AsyncRedis& owner_, std::chrono::microseconds write_delay_)
        : owner(&owner_), socket(io), write_delay(write_delay_), write_timer(io) {}
    ~Link() {
        release_socket();
        if (ac != nullptr) {
            // Only reached if the owner never freed it (it always does).
            redisAsyncContext* context = std::exchange(ac, nullptr);
            dead = true;
            redisAsyncFree(context);
        }
    }

    bool connected() const { return ac != nullptr && (ac->c.flags & REDIS_CONNECTED) != 0; }

    void release_socket() {
        if (socket.is_open()) socket.release();  // cancels our waits; hiredis closes the fd
    }

    void arm_read() {
        if (read_armed || dead || !socket.is_open()) return;
        read_armed = true;
        socket.async_wait(asio::posix::stream_descriptor::wait_read,
                          [self = shared_from_this()](const boost::system::error_code& ec) {
                              self->read_armed = false;
                              if (ec || self->dead || !self->want_read) return;
                              redisAsyncHandleRead(self->ac);
                          });
    }

    void arm_write() {
        if (write_armed || dead || !socket.is_open()) return;
        write_armed = true;
        socket.async_wait(asio::posix::stream_descriptor::wait_write,
                          [self = shared_from_this()](const boost::system::error_code& ec) {
                              self->write_armed = false;
                              if (ec || self->dead || !self->want_write) return;
                              self->write_now();
                          });
    }

    // Lets hiredis write (or finish connecting). If it still has output
    // afterwards (kernel buffer full, or connect still in progress), wait
    // for the socket to become writable.
    void write_now() {
        in_write = true;
        redisAsyncHandleWrite(ac);
        in_write = false;
        if (!dead && want_write) arm_write();
    }

    // hiredis event hooks; data is the Link.
    static void add_read(void* data) {
        auto* link = static_cast<Link*>(data);
        link->want_read = true;
        link->arm_read();
    }
    static void del_read(void* data) { static_cast<Link*>(data)->want_read = false; }
    static void add_write(void* data) {
        auto* link = static_cast<Link*>(data);
        link->want_write = true;
        if (link->in_write || link->dead) return;  // write_now() looks at want_write when hiredis returns
        if (!link->connected()) {
            link->arm_write();  // writable = connected (or failed)
            return;
        }
        if (link->write_posted || link->write_armed) return;
        link->write_posted = true;
        auto write = [self = link->shared_from_this()] {
            self->write_posted = false;
            if (self->dead || !self->want_write) return;
            self->write_now();
        };
        if (link->write_delay.count() == 0) {
            asio::post(link->socket.get_executor(), std::move(write));
            return;
        }
        link->write_timer.expires_after(link->write_delay);
        link->write_timer.async_wait([write = std::move(write)](const boost::system::error_code&) { write(); });
    }
    static void del_write(void* data) { static_cast<Link*>(data)->want_write = false; }
    static void cleanup(void* data) {
        auto* link = static_cast<Link*>(data);
        link->release_socket();
        if (!link->dead) link->owner->on_link_lost(*link, link->error_text("connection closed"));
    }

    static void on_reply_callback(redisAsyncContext*, void* reply, void* privdata) {
        auto* link = static_cast<Link*>(privdata);
        if (link->dead) return;
        if (reply == nullptr) {
            link->owner->on_link_lost(*link, link->error_text("connection closed"));
            return;
        }
        link->owner->on_reply(*link, static_cast<redisReply*>(reply));
    }
    static void on_connect_callback(const redisAsyncContext* context, int status) {
        auto* link = static_cast<Link*>(context->data);
        if (status != REDIS_OK && !link->dead) link->owner->on_link_lost(*link, link->error_text("cannot connect"));
    }
    static void on_disconnect_callback(const redisAsyncContext* context, int) {
        auto* link = static_cast<Link*>(context->data);
        if (!link->dead) link->owner->on_link_lost(*link, link->error_text("connection closed"));
    }

    std::string error_text(const char* fallback) const {
        if (ac != nullptr && ac->c.err != 0 && ac->c.errstr[0] != '\0') return ac->c.errstr;
        return fallback;
    }

    AsyncRedis* owner;
    redisAsyncContext* ac = nullptr;
    asio::posix::stream_descriptor socket;
    std::chrono::microseconds write_delay;
    asio::steady_timer write_timer;  // holds output for write_delay
    bool dead = false;  // hiredis frees (or has freed) ac; ignore its callbacks
    bool want_read = false;
    bool want_write = false;
    bool read_armed = false;
    bool write_armed = false;
    bool write_posted = false;
    bool in_write = false;
};

// ---------------------------------------------------------------------------
// AsyncRedis

AsyncRedis::AsyncRedis(asio::io_context& io, RedisSettings settings, std::string password,
                       RedisOutageWording wording)
    : io_(io),
      settings_(std::move(settings)),
      password_(std::move(password)),
      where_(describe_redis(settings_)),
      deadline_timer_(io),
      reconnect_timer_(io),
      wording_(std::move(wording)),
      outage_(kFirstBackoff, kMaxBackoff) {}

AsyncRedis::~AsyncRedis() {
    if (state_ != State::stopped) stop();
}

void AsyncRedis::add_startup_command(std::vector<std::string> args) { startup_commands_.push_back(std::move(args)); }

void AsyncRedis::start() {
    if (state_ != State::idle) return;
    connect();
}

void AsyncRedis::stop() {
    if (state_ == State::stopped) return;
    state_ = State::stopped;
    reconnect_timer_.cancel();
    deadline_timer_.cancel();
    fail("client stopped");
}

void AsyncRedis::connect() {
    redisAsyncContext* context = settings_.socket.empty() ? redisAsyncConnect(settings_.host.c_str(), settings_.port)
                                                           : redisAsyncConnectUnix(settings_.socket.c_str());
    if (context == nullptr || context->err) {
        const std::string reason = context == nullptr ? "out of memory" : context->errstr;
        if (context != nullptr) redisAsyncFree(context);
        state_ = State::connecting;  // so fail() below counts as a lost attempt
        fail("cannot connect: " + reason);
        return;
    }
    auto link = std::make_shared<Link>(io_, *this, write_delay_);
    link->ac = context;
    context->data = link.get();
    boost::system::error_code ec;
    link->socket.assign(context->c.fd, ec);
    if (ec) {
        link->dead = true;
        link->ac = nullptr;
        redisAsyncFree(context);
        state_ = State::connecting;
        fail("cannot watch the Redis socket: " + ec.message());
        return;
    }
    context->ev.data = link.get();
    context->ev.addRead = &Link::add_read;
    context->ev.delRead = &Link::del_read;
    context->ev.addWrite = &Link::add_write;
    context->ev.delWrite = &Link::del_write;
    context->ev.cleanup = &Link::cleanup;
    link_ = link;
    state_ = State::connecting;
    redisAsyncSetConnectCallback(context, &Link::on_connect_callback);
    redisAsyncSetDisconnectCallback(context, &Link::on_disconnect_callback);

    // Handshake: AUTH, then the startup commands (or a PING), pipelined
    // ahead of whatever clients send meanwhile. Their deadlines bound the
    // connect as well.
    const Clock::time_point deadline = Clock::now() + settings_.timeout;
    startup_left_ = 0;
    auto send_startup = [&](const std::vector<std::string>& args) {
        std::vector<const char*> argv;
        std::vector<std::size_t> lengths;
        for (const std::string& arg : args) {
            argv.push_back(arg.data());
            lengths.push_back(arg.size());
        }
        if (redisAsyncCommandArgv(context, &Link::on_reply_callback, link.get(), static_cast<int>(argv.size()),
                                  argv.data(), lengths.data()) != REDIS_OK) {
            return false;
        }
        pending_.push(Pending{nullptr, deadline});
        ++startup_left_;
        return true;
    };
    bool queued = true;
    if (!password_.empty()) queued = send_startup({"AUTH", password_});
    for (const auto& args : startup_commands_) queued = queued && send_startup(args);
    if (startup_commands_.empty()) queued = queued && send_startup({"PING"});
    if (!queued) {
        fail("cannot queue the connection handshake");
        return;
    }
    arm_deadline_timer();
}

bool AsyncRedis::command(int argc, const char** argv, const std::size_t* lengths, RedisReplyHandler& handler,
                         Clock::time_point deadline) {
    if ((state_ != State::up && state_ != State::connecting) || !link_ || link_->dead) {
        ++stats_.refused;
        return false;
    }
    if (redisAsyncCommandArgv(link_->ac, &Link::on_reply_callback, link_.get(), argc, argv, lengths) != REDIS_OK) {
        ++stats_.refused;
        return false;
    }
    pending_.push(Pending{&handler, deadline});
    ++stats_.sent;
    arm_deadline_timer();
    return true;
}

void AsyncRedis::on_reply(Link&, redisReply* reply) {
    // One entry is queued per command sent and Redis answers in order: a
    // reply without its entry means every later reply would reach the
    // wrong handler.
    if (pending_.empty()) TM_PANIC("Redis at %s: a reply arrived with no command pending", where_.c_str());
    const Pending pending = pending_.pop();
    if (pending.handler != nullptr) {
        pending.handler->on_redis_reply(reply);
        return;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        fail("connection handshake refused: " + reply_error_text(reply));
        return;
    }
    if (startup_left_ > 0 && --startup_left_ == 0) note_up();
}

void AsyncRedis::note_up() {
    state_ = State::up;
    if (const auto ended = outage_.on_success(Clock::now())) {
        const auto seconds = std::chrono::duration<double>(ended->duration).count();
        LOG_WARNING("Redis at %s is reachable again after %.1fs; %llu %s", where_.c_str(), seconds,
                    static_cast<unsigned long long>(stats_.failed + stats_.refused - failed_at_outage_start_),
                    wording_.failed_meanwhile.c_str());
    } else if (!ever_up_) {
        LOG_INFO("connected to Redis at %s", where_.c_str());
    }
    ever_up_ = true;
}

void AsyncRedis::on_link_lost(Link& link, const std::string& reason) {
    // hiredis is freeing (or has freed) this context: never free it again.
    link.dead = true;
    link.ac = nullptr;
    link.release_socket();
    if (link_.get() != &link) return;
    fail(reason);
}

void AsyncRedis::fail(const std::string& reason) {
    if (auto link = link_) {  // the copy keeps it alive while hiredis unwinds
        link_.reset();
        if (!link->dead) {
            link->dead = true;
            redisAsyncContext* context = std::exchange(link->ac, nullptr);
            link->release_socket();
            redisAsyncFree(context);  // deferred by hiredis when inside its callback
        }
    }
    const bool stopping = state_ == State::stopped;
    Outage::Failure retry_delay{};
    if (!stopping) {
        state_ = State::down;
        retry_delay = outage_.on_failure(Clock::now());
        if (retry_delay.log_now) {
            failed_at_outage_start_ = stats_.failed + stats_.refused;
            ++stats_.outages;
            LOG_ERROR("Redis at %s unavailable: %s; %s", where_.c_str(), reason.c_str(),
                      wording_.while_down.c_str());
        } else {
            LOG_DEBUG("Redis at %s still unavailable: %s", where_.c_str(), reason.c_str());
        }
    }
    PendingQueue failed;
    std::swap(failed, pending_);
    startup_left_ = 0;
    fail_pending(failed);
    if (!stopping) schedule_reconnect(retry_delay.delay);
}

void AsyncRedis::fail_pending(PendingQueue& failed) {
    while (!failed.empty()) {
        const Pending pending = failed.pop();
        if (pending.handler == nullptr) continue;
        ++stats_.failed;
        pending.handler->on_redis_reply(nullptr);
    }
}

void AsyncRedis::arm_deadline_timer() {
    if (deadline_armed_ || pending_.empty() || state_ == State::stopped) return;
    deadline_armed_ = true;
    deadline_timer_.expires_at(pending_.front().deadline);
    deadline_timer_.async_wait([this](const boost::system::error_code& ec) {
        deadline_armed_ = false;
        if (!ec) on_deadline_timer();
    });
}

void AsyncRedis::on_deadline_timer() {
    if (pending_.empty() || state_ == State::stopped) return;
    if (pending_.front().deadline <= Clock::now()) {
        const bool handshake = pending_.front().handler == nullptr;
        fail(std::string(handshake ? "no answer to the connection handshake" : "no reply") + " within " +
             std::to_string(settings_.timeout.count()) + "ms");
        return;
    }
    arm_deadline_timer();
}

void AsyncRedis::schedule_reconnect(std::chrono::milliseconds delay) {
    reconnect_timer_.expires_after(delay);
    reconnect_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || state_ != State::down) return;
        connect();
    });
}

}  // namespace tenantmail
