#include "redis_connection.hpp"

#include "internal_errors.hpp"

#include <fmt/format.h>

#include <strings.h>
#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

namespace clubvoice {
namespace {

constexpr std::chrono::milliseconds kFirstRetry{500};
constexpr std::chrono::milliseconds kMaxRetry{10'000};
constexpr std::uint64_t kConnectTimeoutMs = 2000;
constexpr std::uint64_t kReplyTimeoutMs = 5000;
constexpr std::uint64_t kCheckMs = 500;

// hiredis' event hooks on a uv_poll_t. A poll error (a refused or reset
// connection) is handed to hiredis as readiness for what it waits for, so
// that its read or write meets the error and ends the connection.
struct UvPollGlue {
    uv_poll_t handle{};
    redisAsyncContext* context = nullptr;
    int events = 0;

    static void on_poll(uv_poll_t* handle, int status, int ready) {
        auto* glue = static_cast<UvPollGlue*>(handle->data);
        const int events = status < 0 ? glue->events : ready;
        if (glue->context != nullptr && (events & UV_READABLE) != 0) {
            redisAsyncHandleRead(glue->context);
        }
        if (glue->context != nullptr && (events & UV_WRITABLE) != 0) {
            redisAsyncHandleWrite(glue->context);
        }
    }
    void watch(int wanted) {
        events = wanted;
        if (events != 0) {
            uv_poll_start(&handle, events, on_poll);
        } else {
            uv_poll_stop(&handle);
        }
    }
    static UvPollGlue* of(void* data) { return static_cast<UvPollGlue*>(data); }
    static void add_read(void* data) { of(data)->watch(of(data)->events | UV_READABLE); }
    static void del_read(void* data) { of(data)->watch(of(data)->events & ~UV_READABLE); }
    static void add_write(void* data) { of(data)->watch(of(data)->events | UV_WRITABLE); }
    static void del_write(void* data) { of(data)->watch(of(data)->events & ~UV_WRITABLE); }
    static void cleanup(void* data) {
        UvPollGlue* glue = of(data);
        glue->context = nullptr;  // hiredis is freeing it
        uv_close(reinterpret_cast<uv_handle_t*>(&glue->handle), [](uv_handle_t* handle) {
            std::unique_ptr<UvPollGlue>(static_cast<UvPollGlue*>(handle->data)).reset();
        });
    }
};

bool attach(redisAsyncContext* context, uv_loop_t* loop) {
    auto glue = std::make_unique<UvPollGlue>();
    if (uv_poll_init(loop, &glue->handle, context->c.fd) != 0) return false;
    glue->handle.data = glue.get();
    glue->context = context;
    context->ev.addRead = UvPollGlue::add_read;
    context->ev.delRead = UvPollGlue::del_read;
    context->ev.addWrite = UvPollGlue::add_write;
    context->ev.delWrite = UvPollGlue::del_write;
    context->ev.cleanup = UvPollGlue::cleanup;
    context->ev.data = glue.release();  // freed by cleanup, once libuv closed the handle
    return true;
}

bool is_subscription(std::string_view command) {
    return command.size() == 9 && strncasecmp(command.data(), "SUBSCRIBE", 9) == 0;
}

}  // namespace

// A reply handler, given to hiredis as the command's private data. A
// subscription's stays until the connection ends: hiredis keeps it for each
// channel and then calls it once per channel with no reply, so it counts
// the channels still holding it.
struct RedisConnection::Pending {
    Reply reply;
    bool subscription = false;
    std::size_t holders = 1;
};

RedisConnection::RedisConnection(uv_loop_t* loop, std::string host, int port, std::string name,
                                 Events events)
    : loop_(loop),
      host_(std::move(host)),
      port_(port),
      name_(std::move(name)),
      events_(std::move(events)),
      retry_(start_timer(loop, 0, 0, [this] { connect(); })),
      check_(start_timer(loop, kCheckMs, kCheckMs, [this] { check(); })) {}

RedisConnection::~RedisConnection() {
    close();
}

void RedisConnection::close() {
    closed_ = true;
    retry_.close();
    check_.close();
    if (redisAsyncContext* context = std::exchange(context_, nullptr)) {
        // Runs every pending handler with no reply; the libuv handle closes
        // on the loop's next turn.
        freeing_ = true;
        redisAsyncFree(context);
        freeing_ = false;
    }
    up_ = false;
}

void RedisConnection::discard(std::string why) {
    if (redisAsyncContext* context = std::exchange(context_, nullptr)) {
        freeing_ = true;
        redisAsyncFree(context);
        freeing_ = false;
    }
    lost(std::move(why));
}

void RedisConnection::check() {
    if (context_ == nullptr) return;
    const std::uint64_t waited = uv_now(loop_) - since_ms_;
    if (!up_ && waited > kConnectTimeoutMs) {
        discard("no answer to the connection within 2 s");
    } else if (up_ && pending_ > 0 && waited > kReplyTimeoutMs) {
        discard("no reply for 5 s");
    }
}

void RedisConnection::connect() {
    if (closed_ || context_ != nullptr) return;
    redisAsyncContext* context = redisAsyncConnect(host_.c_str(), port_);
    if (context == nullptr) {
        lost("out of memory");
        return;
    }
    if (context->err != 0) {
        std::string why = context->errstr;
        redisAsyncFree(context);
        lost(why);
        return;
    }
    context->data = this;
    if (!attach(context, loop_)) {
        redisAsyncFree(context);
        lost("cannot watch its socket on the loop");
        return;
    }
    redisAsyncSetConnectCallback(context, on_connect);
    redisAsyncSetDisconnectCallback(context, on_disconnect);
    context_ = context;
    since_ms_ = uv_now(loop_);
}

void RedisConnection::on_connect(const redisAsyncContext* context, int status) noexcept {
    auto* self = static_cast<RedisConnection*>(context->data);
    run_guarded("a Redis connect callback", [&] {
        if (status != REDIS_OK) {
            self->context_ = nullptr;  // hiredis frees it after this callback
            self->lost(context->errstr);
            return;
        }
        self->up_ = true;
        self->problem_.clear();
        self->backoff_ = kFirstRetry;
        if (self->events_.up) self->events_.up();
    });
}

void RedisConnection::on_disconnect(const redisAsyncContext* context, int status) noexcept {
    auto* self = static_cast<RedisConnection*>(context->data);
    run_guarded("a Redis disconnect callback", [&] {
        if (self->closed_ || self->freeing_) return;  // our own close() or discard()
        self->context_ = nullptr;                     // hiredis frees it after this callback
        self->lost(status == REDIS_OK ? std::string("closed") : std::string(context->errstr));
    });
}

void RedisConnection::lost(std::string why) {
    const bool was_up = up_;
    up_ = false;
    pending_ = 0;
    problem_ = why.empty() ? "connection lost" : std::move(why);
    if (closed_) return;
    restart_timer(retry_, static_cast<std::uint64_t>(backoff_.count()));
    backoff_ = std::min(backoff_ * 2, kMaxRetry);
    if (events_.down) events_.down(was_up ? "lost: " + problem_ : problem_);
}

bool RedisConnection::command(std::initializer_list<std::string_view> args, Reply reply) {
    if (!up_ || context_ == nullptr || args.size() == 0) return false;
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    argv.reserve(args.size());
    lengths.reserve(args.size());
    for (std::string_view arg : args) {
        argv.push_back(arg.data());
        lengths.push_back(arg.size());
    }
    std::unique_ptr<Pending> owned;
    if (reply) {
        const bool subscription = is_subscription(*args.begin());
        owned = std::make_unique<Pending>(Pending{
            std::move(reply), subscription, subscription && args.size() > 2 ? args.size() - 1 : 1});
    }
    Pending* pending = owned.get();
    const int rc = redisAsyncCommandArgv(context_, on_reply, pending, static_cast<int>(argv.size()),
                                         argv.data(), lengths.data());
    if (rc != REDIS_OK) return false;
    (void)owned.release();  // hiredis holds it now; on_reply frees it
    if (pending == nullptr || !pending->subscription) {
        if (pending_++ == 0) since_ms_ = uv_now(loop_);  // the reply clock starts now
    }
    return true;
}

void RedisConnection::flush() {
    if (context_ != nullptr && up_) redisAsyncHandleWrite(context_);
}

void RedisConnection::on_reply(redisAsyncContext* context, void* reply, void* data) noexcept {
    auto* self = static_cast<RedisConnection*>(context->data);
    auto* pending = static_cast<Pending*>(data);
    const auto* r = static_cast<const redisReply*>(reply);
    run_guarded("a Redis reply", [&] {
        if (pending == nullptr || !pending->subscription) {
            if (self->pending_ > 0) --self->pending_;
        }
        if (r != nullptr) self->since_ms_ = uv_now(self->loop_);
        if (pending != nullptr && pending->reply) pending->reply(r);
    });
    // A command's handler is done with its reply; a subscription's only when
    // the connection ends (no reply).
    if (pending != nullptr &&
        (!pending->subscription || (r == nullptr && --pending->holders == 0))) {
        std::unique_ptr<Pending>(pending).reset();
    }
}

}  // namespace clubvoice
