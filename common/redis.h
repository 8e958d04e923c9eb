// redis.h — Redis access over hiredis: RAII for its handles, one blocking
// client (tenantmailctl, the bounce pipe, the log follower, webhookd's
// dispatcher), and an asynchronous connection driven by a Boost.Asio
// io_context for the daemons that pipeline many clients.
// The async connection pipelines: every command issued while the io thread
// is busy goes out in one write, and Redis answers them in order. It bounds
// every command by redis.timeout (connecting included) and never blocks the
// io thread; on a timeout or a lost connection it fails what is pending,
// reconnects with backoff and logs once per outage, not once per command.
// Does not know any key or script of tenantmail (rate_limiter.h does).
#pragma once

#include <hiredis/hiredis.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/c_handle.h"
#include "common/config.h"
#include "common/outage.h"
#include "common/redis_cluster.h"
#include "common/redis_value.h"
#include "common/result.h"

struct redisAsyncContext;

namespace tenantmail {

class RedisClusterClient;  // redis_cluster_client.h

using RedisReply = CHandle<redisReply, freeReplyObject>;
using RedisContextPtr = CHandle<redisContext, redisFree>;

// "127.0.0.1:6379", "unix:/run/redis.sock", "master NAME via sentinels
// HOST:PORT,..." or "cluster via HOST:PORT,...", for messages.
std::string describe_redis(const RedisSettings& settings);

// A hiredis reply copied into a RespValue, for the parsers of redis_value.h.
RespValue resp_value(const redisReply* reply);

// A command's arguments as hiredis's *Argv calls take them, pointing into
// args (which must outlive this).
struct RedisArgv {
    explicit RedisArgv(const std::vector<std::string>& args);
    int count() const { return static_cast<int>(pointers.size()); }
    std::vector<const char*> pointers;
    std::vector<std::size_t> lengths;
};

// The AUTH password from redis.password_file (owner-only permissions, as for
// keys), without a trailing newline; "" when no file is configured.
Result<std::string> read_redis_password(const RedisSettings& settings);

// Blocking client: connect and command timeouts are redis.timeout.
// command() and pipeline() hand back hiredis's reply; command() turns an
// error reply into an error ("Redis at ...: ERR ..."). call(), send() and
// receive() hand back RespValue copies, error replies included as values,
// for code that parses replies with redis_value.h. Any I/O error leaves the
// connection unusable; the owner drops it and connects anew.
class RedisClient {
public:
    static Result<RedisClient> connect(const RedisSettings& settings, const std::string& password);
    RedisClient(RedisClient&&) noexcept;
    RedisClient& operator=(RedisClient&&) noexcept;
    ~RedisClient();

    Result<RedisReply> command(std::initializer_list<std::string_view> args);
    Result<RedisReply> command(const std::vector<std::string>& args);
    // Sends and waits. An error is a failed connection; an error reply
    // (-ERR ...) is a RespValue of type error.
    Result<RespValue> call(const std::vector<std::string>& args);
    // One long command at a time (XREADGROUP ... BLOCK) without blocking
    // the caller: send(), then poll fd() for reading and call receive(),
    // which gives the reply once complete and nullopt while incomplete.
    Result<void> send(const std::vector<std::string>& args);
    Result<std::optional<RespValue>> receive();
    int fd() const;
    const std::string& where() const { return where_; }
    // Sends all commands in one write, then reads their replies in order:
    // one round trip for the lot. Error replies stay in the result (the
    // caller judges each); an I/O failure fails the whole call and leaves
    // the connection unusable (connect again).
    Result<std::vector<RedisReply>> pipeline(const std::vector<std::vector<std::string>>& commands);

private:
    friend class RedisClusterClient;
    explicit RedisClient(redisContext* context);
    static Result<RedisClient> connect_via_sentinels(const RedisSettings& settings, const std::string& password);
    // Sentinel mode: at most once a second, whether the sentinels still
    // name this master; an error when they name another (the owner drops
    // the connection, as after an I/O error, and the next connect follows).
    Result<void> confirm_master();
    Result<RedisReply> command_argv(int argc, const char** argv, const std::size_t* lengths);
    // The reply, error replies included (only I/O fails).
    Result<RedisReply> reply_argv(int argc, const char** argv, const std::size_t* lengths);
    Error io_error() const;
    Error replica_error(const redisReply* reply) const;

    RedisContextPtr context_;
    std::string where_;
    RedisSettings sentinel_mode_;  // sentinels empty: not in Sentinel mode
    std::string sentinel_password_;  // read when connecting
    RedisEndpoint master_;
    std::chrono::steady_clock::time_point confirmed_at_{};
    std::unique_ptr<RedisClusterClient> cluster_;  // Cluster mode: it does everything; context_ unused
};

// Receives the outcome of one AsyncRedis command, exactly once: the reply
// (possibly an error reply such as NOSCRIPT), or nullptr when the command
// failed (no reply within the timeout, connection lost, client stopped).
// Never called from inside AsyncRedis::command() itself.
class RedisReplyHandler {
public:
    virtual void on_redis_reply(const redisReply* reply) = 0;

protected:
    ~RedisReplyHandler() = default;
};

// Told what happens to AsyncRedis's commands and connections, from the io
// thread (metrics.h's RedisMetrics): each reply's round trip, each command
// failed, each outage begun, each failover followed (a new Sentinel master,
// a Cluster slot map with slots on other masters).
class RedisObserver {
public:
    virtual void on_round_trip(std::chrono::nanoseconds elapsed) = 0;
    virtual void on_command_failed() = 0;
    virtual void on_outage() = 0;
    virtual void on_failover() = 0;

protected:
    ~RedisObserver() = default;
};

// What an outage means, in the owner's words, for the two lines AsyncRedis
// logs: "Redis at WHERE unavailable: REASON; WHILE_DOWN" once per outage and
// "Redis at WHERE is reachable again after Ns; COUNT FAILED_MEANWHILE".
struct RedisOutageWording {
    std::string while_down;        // e.g. "answering with the fallback action until it is back"
    std::string failed_meanwhile;  // e.g. "requests got the fallback answer meanwhile"
};

class AsyncRedis {
public:
    using Clock = std::chrono::steady_clock;

    AsyncRedis(boost::asio::io_context& io, RedisSettings settings, std::string password,
               RedisOutageWording wording);
    ~AsyncRedis();
    AsyncRedis(const AsyncRedis&) = delete;
    AsyncRedis& operator=(const AsyncRedis&) = delete;

    // Commands sent first on every new connection, after AUTH (e.g. SCRIPT
    // LOAD). A connection counts as up once all of them succeeded. Call
    // before start().
    void add_startup_command(std::vector<std::string> args);
    // Holds commands up to this long before writing them, so that a daemon
    // whose commands nobody waits for (trackd's events) sends them to Redis
    // in fewer, larger writes. 0 (the default): written as soon as the io
    // thread is free. Call before start().
    void set_write_delay(std::chrono::microseconds delay) { write_delay_ = delay; }
    // Reports to observer (nullptr: nobody, the default). Call before start().
    void set_observer(RedisObserver* observer) { observer_ = observer; }
    void start();
    // Fails everything pending, closes the connection, stops reconnecting.
    void stop();

    // Queues a command (argv as for redisCommandArgv; copied at once, so the
    // strings need not outlive the call). The reply must arrive by deadline.
    // Returns false, without calling handler, when Redis is known to be
    // unavailable (after a failure, until the next connection attempt).
    bool command(int argc, const char** argv, const std::size_t* lengths, RedisReplyHandler& handler,
                 Clock::time_point deadline);
    bool command(int argc, const char** argv, const std::size_t* lengths, RedisReplyHandler& handler) {
        return command(argc, argv, lengths, handler, Clock::now() + settings_.timeout);
    }
    bool command(const std::vector<std::string>& args, RedisReplyHandler& handler) {
        RedisArgv argv(args);
        return command(argv.count(), argv.pointers.data(), argv.lengths.data(), handler);
    }

    std::chrono::milliseconds timeout() const { return settings_.timeout; }
    bool up() const { return state_ == State::up; }
    const std::string& where() const { return where_; }

    struct Stats {
        std::uint64_t sent = 0;
        std::uint64_t failed = 0;    // handler got nullptr
        std::uint64_t refused = 0;   // command() returned false
        std::uint64_t outages = 0;
    };
    const Stats& stats() const { return stats_; }

private:
    struct Link;
    // Cluster mode (redis_cluster_async.cpp): an AsyncRedis in direct mode
    // per master, the slot map, and each command's redirections.
    struct Cluster;
    struct ClusterCommand;
    bool cluster_command(int argc, const char** argv, const std::size_t* lengths, RedisReplyHandler& handler,
                         Clock::time_point deadline);
    bool send_to(AsyncRedis& node, ClusterCommand& command);
    void on_cluster_reply(ClusterCommand& command, const redisReply* reply);
    // Reads CLUSTER SLOTS on a thread of its own, at most every 200 ms.
    void read_cluster_map();
    void on_cluster_map(Result<SlotMap> map);
    AsyncRedis& cluster_node(const RedisEndpoint& endpoint);

    struct Pending {
        RedisReplyHandler* handler = nullptr;  // nullptr: a startup command
        Clock::time_point deadline;
        bool role_check = false;  // Sentinel mode's ROLE: must say master
        Clock::time_point sent{};  // only with an observer
    };
    // FIFO of pending commands: Redis answers in order, so the reply at the
    // front of hiredis's callback list is always the front entry here.
    // A ring buffer, so steady traffic allocates nothing.
    class PendingQueue {
    public:
        bool empty() const { return size_ == 0; }
        std::size_t size() const { return size_; }
        Pending& front() { return slots_[head_]; }
        void push(const Pending& pending);
        Pending pop();

    private:
        std::vector<Pending> slots_;
        std::size_t head_ = 0;
        std::size_t size_ = 0;
    };
    enum class State { idle, locating, connecting, up, down, stopped };

    void connect();
    // Sentinel mode: asks the sentinels on a thread of its own (the io
    // thread never waits for them), then connect_to() the master.
    void locate();
    void ask_sentinels();  // one question at a time; the answer comes to on_sentinels_answer
    void on_sentinels_answer(Result<RedisEndpoint> master);
    void on_located(Result<RedisEndpoint> master);
    // While up: asks the sentinels every second, and reconnects when they
    // name another master (a planned failover leaves the old one writable).
    void arm_sentinel_check();
    void connect_to(const std::string& host, std::uint16_t port, const std::string& socket);
    void on_reply(Link& link, redisReply* reply);
    void on_link_lost(Link& link, const std::string& reason);
    void fail(const std::string& reason);
    void fail_pending(PendingQueue& pending);
    void arm_deadline_timer();
    void on_deadline_timer();
    void schedule_reconnect(std::chrono::milliseconds delay);
    void note_up();

    boost::asio::io_context& io_;
    RedisSettings settings_;
    std::string password_;
    std::string where_;
    std::vector<std::vector<std::string>> startup_commands_;
    std::shared_ptr<Link> link_;
    PendingQueue pending_;
    std::size_t startup_left_ = 0;
    State state_ = State::idle;
    boost::asio::steady_timer deadline_timer_;
    bool deadline_armed_ = false;
    boost::asio::steady_timer reconnect_timer_;
    RedisOutageWording wording_;
    Outage outage_;
    bool ever_up_ = false;
    std::uint64_t failed_at_outage_start_ = 0;
    std::chrono::microseconds write_delay_{0};
    std::thread locator_;
    bool asking_ = false;  // locator_ runs
    std::optional<std::string> sentinel_password_;  // read at the last connection
    RedisEndpoint master_;
    boost::asio::steady_timer sentinel_timer_;
    bool sentinel_check_armed_ = false;
    std::unique_ptr<Cluster> cluster_;  // Cluster mode only
    RedisObserver* observer_ = nullptr;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // false once destroyed: late locator posts
    Stats stats_;
};

}  // namespace tenantmail
