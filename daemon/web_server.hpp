// The libwebsockets context, joined to the daemon's libuv loop as a foreign
// loop, and its protocol callback: requests under an Engine.IO path go to
// that EioServer, every other HTTP request to the route handler. Thread: loop.
#pragma once

#include "config.hpp"
#include "eio_server.hpp"
#include "http_responder.hpp"
#include "http_types.hpp"

#include <libwebsockets.h>
#include <uv.h>

#include <memory>
#include <string>
#include <unordered_map>

namespace clubvoice {

class WebServer {
  public:
    // Listens on config.host:config.port. Throws std::runtime_error naming the
    // key and address when that fails (port taken, no such address).
    WebServer(uv_loop_t* loop, const Config::Server& config, HttpHandler handler,
              HttpResponder& responder);
    ~WebServer();
    WebServer(const WebServer&) = delete;
    WebServer& operator=(const WebServer&) = delete;

    // Requests under engine.options().path go to it; it must outlive this server.
    void add_engine(EioServer& engine) { engines_.push_back(&engine); }

    // First half of the foreign-loop teardown: closes every connection and the
    // listening socket. The loop must run until it drains before the
    // destructor finishes the job.
    void begin_shutdown();

    // The lws protocol callback (public so the protocol table can name it).
    // Nothing escapes it: an exception closes the connection (and its
    // Engine.IO session) and is counted as an internal error.
    static int callback(lws* wsi, lws_callback_reasons reason, void* user, void* in,
                        size_t len) noexcept;

  private:
    static int dispatch(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len);
    static void on_callback_error(lws_callback_reasons reason, WsiState* state) noexcept;
    EioServer* engine_for(std::string_view path) const;
    int on_http(lws* wsi, WsiState* state, std::string_view path);
    int on_confirm_upgrade(lws* wsi);
    int on_established(lws* wsi, WsiState* state);

    struct ContextDeleter {
        void operator()(lws_context* ctx) const { lws_context_destroy(ctx); }
    };

    HttpHandler handler_;
    HttpResponder& responder_;
    std::vector<EioServer*> engines_;
    std::unique_ptr<lws_context, ContextDeleter> context_;
};

}  // namespace clubvoice
