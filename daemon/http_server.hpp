// The libwebsockets context, joined to the daemon's libuv loop as a foreign
// loop, and the HTTP side of its protocol callback. Thread: loop.
#pragma once

#include "config.hpp"
#include "http_types.hpp"

#include <libwebsockets.h>
#include <uv.h>

#include <memory>
#include <string>
#include <unordered_map>

namespace clubvoice {

class HttpServer {
public:
    // Listens on config.host:config.port. Throws std::runtime_error naming the
    // address when the context cannot be created (port taken, bad address).
    HttpServer(uv_loop_t* loop, const Config::Server& config, HttpHandler handler);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // First half of the foreign-loop teardown: closes every connection and the
    // listening socket. The loop must run until it drains before the
    // destructor finishes the job.
    void begin_shutdown();


    // The lws protocol callback (public so the protocol table can name it).
    static int callback(lws* wsi, lws_callback_reasons reason, void* user, void* in,
                        size_t len);

private:
    int on_http(lws* wsi, std::string_view path);
    int on_writeable(lws* wsi);
    int send_headers(lws* wsi, const HttpResponse& response, bool head);

    struct ContextDeleter {
        void operator()(lws_context* ctx) const { lws_context_destroy(ctx); }
    };

    HttpHandler handler_;
    std::unordered_map<lws*, std::string> pending_bodies_;  // LWS_PRE headroom + body
    std::unique_ptr<lws_context, ContextDeleter> context_;
};

}  // namespace clubvoice
