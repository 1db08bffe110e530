// A client connection to a Unix domain socket on the loop (uv_pipe_t):
// connect, read what arrives, write without blocking, close. Each connect
// uses a fresh handle, so a connection that died can simply be made again.
// Every callback is guarded: nothing unwinds into libuv. Thread: loop.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace clubvoice {

class UvPipeClient {
  public:
    struct Events {
        std::function<void()> connected;
        std::function<void(std::string_view data)> received;
        // The connection could not be made, or ended (EOF or an error): the
        // libuv status (UV_EOF when the peer closed). Not called after close().
        std::function<void(int status)> lost;
    };

    UvPipeClient(uv_loop_t* loop, Events events);
    ~UvPipeClient();
    UvPipeClient(const UvPipeClient&) = delete;
    UvPipeClient& operator=(const UvPipeClient&) = delete;

    // Starts connecting to `path` (closing any connection there was first).
    void connect(const std::string& path);
    // Queues bytes on an open connection; false when there is none.
    bool write(std::string bytes);
    // Closes the connection, if any; no event follows. Queued writes may be lost.
    void close();
    // Closes once the queued writes have gone out (a last word before
    // shutdown); no event follows.
    void finish();
    bool connected() const;

  private:
    struct Connection;
    void on_connect(Connection& connection, int status);
    void on_read(Connection& connection, ssize_t n, const uv_buf_t* buf);
    void drop(int status);

    uv_loop_t* loop_;
    Events events_;
    Connection* current_ = nullptr;  // owned by libuv's close callback once closing
};

}  // namespace clubvoice
