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
#include "common/redis_cluster_async.h"
#include "common/redis_cluster_client.h"
#include "common/redis_sentinel.h"

namespace tenantmail {

namespace asio = boost::asio;

namespace {

constexpr std::chrono::milliseconds kFirstBackoff{50};
constexpr std::chrono::milliseconds kMaxBackoff{1000};
// How often a connected client asks the sentinels whether the master moved.
constexpr std::chrono::milliseconds kSentinelCheckInterval{1000};

timeval to_timeval(std::chrono::milliseconds duration) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(duration.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((duration.count() % 1000) * 1000);
    return tv;
}

std::string reply_error_text(const redisReply* reply) {
    return std::string(reply->str, reply->len);
}

bool is_readonly(const redisReply* reply) {
    return reply != nullptr && reply->type == REDIS_REPLY_ERROR &&
           is_readonly_error(std::string_view(reply->str, reply->len));
}

}  // namespace

RespValue resp_value(const redisReply* reply) {
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
            for (std::size_t i = 0; i < reply->elements; ++i) elements.push_back(resp_value(reply->element[i]));
            return RespValue::of_array(std::move(elements));
        }
        default: return RespValue::nil();
    }
}

std::string describe_redis(const RedisSettings& settings) {
    if (!settings.cluster_nodes.empty()) {
        std::string where = "cluster via ";
        for (std::size_t i = 0; i < settings.cluster_nodes.size(); ++i)
            where += (i == 0 ? "" : ",") + describe_endpoint(settings.cluster_nodes[i]);
        return where;
    }
    if (!settings.sentinels.empty()) {
        std::string where = "master " + settings.master_name + " via sentinels ";
        for (std::size_t i = 0; i < settings.sentinels.size(); ++i)
            where += (i == 0 ? "" : ",") + describe_endpoint(settings.sentinels[i]);
        return where;
    }
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

RedisClient::RedisClient(redisContext* context) : context_(context) {}
RedisClient::RedisClient(RedisClient&&) noexcept = default;
RedisClient& RedisClient::operator=(RedisClient&&) noexcept = default;
RedisClient::~RedisClient() = default;

int RedisClient::fd() const { return cluster_ ? cluster_->fd() : context_->fd; }

Result<RedisClient> RedisClient::connect(const RedisSettings& settings, const std::string& password) {
    if (!settings.cluster_nodes.empty()) {
        auto cluster = RedisClusterClient::connect(settings, password);
        if (!cluster) return Error{cluster.error()};
        RedisClient client(nullptr);
        client.where_ = (*cluster)->where();
        client.cluster_ = std::move(*cluster);
        return client;
    }
    if (!settings.sentinels.empty()) return connect_via_sentinels(settings, password);
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

// Asks the sentinels where the master is, connects and checks ROLE.
Result<RedisClient> RedisClient::connect_via_sentinels(const RedisSettings& settings, const std::string& password) {
    auto sentinel_password = read_sentinel_password(settings);
    if (!sentinel_password) return Error{sentinel_password.error()};
    auto master = locate_master(settings, *sentinel_password);
    if (!master) return Error{master.error()};
    RedisSettings direct;
    direct.host = master->host;
    direct.port = master->port;
    direct.timeout = settings.timeout;
    auto client = connect(direct, password);
    if (!client) return Error{client.error()};
    client->where_ = "master " + settings.master_name + " at " + describe_endpoint(*master);
    auto role = client->call({"ROLE"});
    if (!role) return Error{role.error()};
    if (!is_master_role(*role)) {
        return make_error("Redis at " + client->where_ + " is not a master yet (ROLE); the sentinels' answer is stale");
    }
    client->sentinel_mode_ = settings;
    client->sentinel_password_ = std::move(*sentinel_password);
    client->master_ = *master;
    client->confirmed_at_ = std::chrono::steady_clock::now();
    return client;
}

Result<void> RedisClient::confirm_master() {
    if (sentinel_mode_.sentinels.empty()) return {};
    const auto now = std::chrono::steady_clock::now();
    if (now - confirmed_at_ < kSentinelCheckInterval) return {};
    confirmed_at_ = now;
    auto master = locate_master(sentinel_mode_, sentinel_password_);
    if (!master || *master == master_) return {};
    return make_error("Redis at " + where_ + ": the sentinels name " + describe_endpoint(*master) + " as master now");
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
    if (cluster_) return cluster_->pipeline(commands);
    if (auto confirmed = confirm_master(); !confirmed) return Error{confirmed.error()};
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
    for (const RedisReply& reply : replies) {
        if (is_readonly(reply.get())) return replica_error(reply.get());
    }
    return replies;
}

// A master turned replica (a failover the client has not noticed) answers
// writes with READONLY: an error like a lost connection, so that the owner
// drops this one and the next connect asks the sentinels again.
Error RedisClient::replica_error(const redisReply* reply) const {
    return make_error("Redis at " + where_ + " is a replica now: " + reply_error_text(reply));
}

Error RedisClient::io_error() const {
    return make_error("Redis at " + where_ + ": " + (context_->err ? std::string(context_->errstr) : "no reply"));
}

Result<RespValue> RedisClient::call(const std::vector<std::string>& args) {
    RedisArgv argv(args);
    auto reply = reply_argv(argv.count(), argv.pointers.data(), argv.lengths.data());
    if (!reply) return Error{reply.error()};
    return resp_value(reply->get());
}

Result<RedisReply> RedisClient::reply_argv(int argc, const char** argv, const std::size_t* lengths) {
    if (cluster_) return cluster_->command(argc, argv, lengths);
    if (auto confirmed = confirm_master(); !confirmed) return Error{confirmed.error()};
    RedisReply reply(static_cast<redisReply*>(redisCommandArgv(context_.get(), argc, argv, lengths)));
    if (!reply) return io_error();
    if (is_readonly(reply.get())) return replica_error(reply.get());
    return reply;
}

Result<void> RedisClient::send(const std::vector<std::string>& args) {
    if (cluster_) return cluster_->send(args);
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
    if (cluster_) return cluster_->receive();
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
    if (is_readonly(reply.get())) return replica_error(reply.get());
    return std::optional<RespValue>(resp_value(reply.get()));
}

Result<RedisReply> RedisClient::command_argv(int argc, const char** argv, const std::size_t* lengths) {
    auto reply = reply_argv(argc, argv, lengths);
    if (!reply) return reply;
    if ((*reply)->type == REDIS_REPLY_ERROR) {
        return make_error("Redis at " + where_ + ": " + reply_error_text(reply->get()));
    }
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
      outage_(kFirstBackoff, kMaxBackoff),
      sentinel_timer_(io) {
    if (!settings_.cluster_nodes.empty()) cluster_ = std::make_unique<Cluster>(io);
}

AsyncRedis::~AsyncRedis() {
    if (state_ != State::stopped) stop();
    *alive_ = false;
    if (locator_.joinable()) locator_.join();  // bounded: each sentinel by redis.timeout
    if (cluster_ && cluster_->reader.joinable()) cluster_->reader.join();  // bounded: each node by redis.timeout
}

void AsyncRedis::add_startup_command(std::vector<std::string> args) { startup_commands_.push_back(std::move(args)); }

void AsyncRedis::start() {
    if (state_ != State::idle) return;
    if (cluster_) {
        state_ = State::locating;  // commands are refused until the first slot map
        read_cluster_map();
        return;
    }
    connect();
}

void AsyncRedis::stop() {
    if (state_ == State::stopped) return;
    state_ = State::stopped;
    reconnect_timer_.cancel();
    deadline_timer_.cancel();
    sentinel_timer_.cancel();
    if (cluster_) {
        cluster_->reread_timer.cancel();
        for (auto& [name, node] : cluster_->nodes) node->stop();
        return;
    }
    fail("client stopped");
}

void AsyncRedis::connect() {
    if (!settings_.sentinels.empty()) return locate();
    connect_to(settings_.host, settings_.port, settings_.socket);
}

void AsyncRedis::locate() {
    state_ = State::locating;  // no link: commands are refused meanwhile
    ask_sentinels();
}

void AsyncRedis::ask_sentinels() {
    if (asking_) return;  // the answer on its way will do
    asking_ = true;
    if (locator_.joinable()) locator_.join();  // finished: it posted its answer
    // The password file is read for each connection; the checks while
    // connected reuse what that read found.
    std::optional<std::string> known =
        state_ == State::locating ? std::nullopt : sentinel_password_;
    locator_ = std::thread([this, settings = settings_, known = std::move(known), alive = alive_, &io = io_] {
        std::optional<std::string> password = known;
        Result<RedisEndpoint> master = [&]() -> Result<RedisEndpoint> {
            if (!password) {
                auto read = read_sentinel_password(settings);
                if (!read) return Error{read.error()};
                password = std::move(*read);
            }
            return locate_master(settings, *password);
        }();
        asio::post(io, [this, alive, master = std::move(master), password = std::move(password)]() mutable {
            if (!*alive) return;
            if (password) sentinel_password_ = std::move(password);
            on_sentinels_answer(std::move(master));
        });
    });
}

void AsyncRedis::on_sentinels_answer(Result<RedisEndpoint> master) {
    asking_ = false;
    if (state_ == State::locating) return on_located(std::move(master));
    if (state_ != State::up) return;
    // A planned failover (or a partition) leaves our connection to the old
    // master open and writable until the sentinels demote it: switch as
    // soon as they name another master. Sentinels that do not answer
    // change nothing while the master does.
    if (master && !(*master == master_)) {
        if (observer_ != nullptr) observer_->on_failover();
        fail("the sentinels name " + describe_endpoint(*master) + " as master now");
        return;
    }
    arm_sentinel_check();
}

void AsyncRedis::arm_sentinel_check() {
    if (sentinel_check_armed_ || settings_.sentinels.empty() || state_ != State::up) return;
    sentinel_check_armed_ = true;
    sentinel_timer_.expires_after(kSentinelCheckInterval);
    sentinel_timer_.async_wait([this](const boost::system::error_code& ec) {
        sentinel_check_armed_ = false;
        if (!ec && state_ == State::up) ask_sentinels();
    });
}

void AsyncRedis::on_located(Result<RedisEndpoint> master) {
    if (!master) {
        state_ = State::connecting;  // so fail() below counts as a lost attempt
        fail(master.error());
        return;
    }
    if (observer_ != nullptr && !master_.host.empty() && !(*master == master_)) observer_->on_failover();
    master_ = *master;
    where_ = "master " + settings_.master_name + " at " + describe_endpoint(*master);
    connect_to(master->host, master->port, "");
}

void AsyncRedis::connect_to(const std::string& host, std::uint16_t port, const std::string& socket) {
    redisAsyncContext* context = socket.empty() ? redisAsyncConnect(host.c_str(), port)
                                                : redisAsyncConnectUnix(socket.c_str());
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
    auto send_startup = [&](const std::vector<std::string>& args, bool role_check = false) {
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
        pending_.push(Pending{nullptr, deadline, role_check});
        ++startup_left_;
        return true;
    };
    bool queued = true;
    if (!password_.empty()) queued = send_startup({"AUTH", password_});
    if (!settings_.sentinels.empty()) queued = queued && send_startup({"ROLE"}, true);
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
    if (cluster_) return cluster_command(argc, argv, lengths, handler, deadline);
    if ((state_ != State::up && state_ != State::connecting) || !link_ || link_->dead) {
        ++stats_.refused;
        return false;
    }
    if (redisAsyncCommandArgv(link_->ac, &Link::on_reply_callback, link_.get(), argc, argv, lengths) != REDIS_OK) {
        ++stats_.refused;
        return false;
    }
    pending_.push(Pending{&handler, deadline, false, observer_ != nullptr ? Clock::now() : Clock::time_point{}});
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
        if (observer_ != nullptr) observer_->on_round_trip(Clock::now() - pending.sent);
        pending.handler->on_redis_reply(reply);
        // A master turned replica: ask the sentinels again (single-server
        // mode reconnects too, and says so once per outage).
        if (is_readonly(reply) && state_ != State::stopped) fail("it is a replica now: " + reply_error_text(reply));
        return;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        fail("connection handshake refused: " + reply_error_text(reply));
        return;
    }
    if (pending.role_check && !is_master_role(resp_value(reply))) {
        fail("it is not a master (ROLE); the sentinels' answer was stale");
        return;
    }
    if (startup_left_ > 0 && --startup_left_ == 0) note_up();
}

void AsyncRedis::note_up() {
    state_ = State::up;
    arm_sentinel_check();
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
            if (observer_ != nullptr) observer_->on_outage();
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
        if (observer_ != nullptr) observer_->on_command_failed();
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
