// One connection to Redis on the daemon's loop, through hiredis' async API
// watched by a uv_poll_t: nothing here blocks the loop (give an address, or
// a name /etc/hosts answers: hiredis resolves names before connecting). The
// glue to libuv is ours, on the model of hiredis' libuv adapter: Debian 12's
// adapter (hiredis 0.14) drops a poll error, which libuv reports for a
// refused or reset connection, so such a connection would never be retried.
// The connection comes back by itself: when it fails, is lost, does not
// answer a connect within 2 s or leaves commands unanswered for 5 s, it is
// dropped and tried again after 0.5 s, doubling to 10 s; `events` say so.
// Commands go as argument vectors (binary-safe); a reply handler, if given,
// gets the reply, or nullptr when the connection went away first.
// RAII: the hiredis context is freed with the object (its libuv handle is
// closed on the loop, so destroy it while the loop still runs).
// Every hiredis callback is guarded: no exception reaches C. Thread: loop.
#pragma once

#include "uv_handles.hpp"

#include <hiredis/async.h>
#include <uv.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>

namespace clubvoice {

class RedisConnection {
  public:
    using Reply = std::function<void(const redisReply* reply)>;
    struct Events {
        std::function<void()> up;                          // connected (again)
        std::function<void(const std::string& why)> down;  // failed or lost
    };

    // `name` says which connection a log line is about ("publisher").
    RedisConnection(uv_loop_t* loop, std::string host, int port, std::string name, Events events);
    ~RedisConnection();
    RedisConnection(const RedisConnection&) = delete;
    RedisConnection& operator=(const RedisConnection&) = delete;

    bool up() const { return up_; }
    const std::string& problem() const { return problem_; }
    const std::string& name() const { return name_; }
    // Commands sent and not yet answered (a Redis that stalls lets them grow).
    std::size_t pending() const { return pending_; }

    // Sends one command. False, with nothing sent, while not connected. A
    // `reply` handler stays registered for every reply of a subscription.
    bool command(std::initializer_list<std::string_view> args, Reply reply = {});
    // Writes what the commands sent so far left in hiredis' buffer now,
    // rather than when the loop next polls (a socket that takes less keeps
    // the rest for the poll).
    void flush();

    // Closes the connection for good (shutdown): no more reconnecting.
    void close();

  private:
    struct Pending;  // one command's reply handler
    static void on_connect(const redisAsyncContext* context, int status) noexcept;
    static void on_disconnect(const redisAsyncContext* context, int status) noexcept;
    static void on_reply(redisAsyncContext* context, void* reply, void* data) noexcept;

    void connect();
    // Frees the context from our side (a timeout) and reports it lost.
    void discard(std::string why);
    void lost(std::string why);
    void check();  // the connect and reply timeouts

    uv_loop_t* loop_;
    std::string host_;
    int port_;
    std::string name_;
    Events events_;
    redisAsyncContext* context_ = nullptr;  // owned by hiredis once connecting; see lost()
    bool up_ = false;
    bool closed_ = false;
    std::string problem_ = "connecting";
    std::size_t pending_ = 0;
    bool freeing_ = false;        // inside our own redisAsyncFree
    std::uint64_t since_ms_ = 0;  // uv_now of the connect, or of the last reply
    std::chrono::milliseconds backoff_{500};
    UvTimer retry_;
    UvTimer check_;
};

}  // namespace clubvoice
