// The libwebsockets context, joined to the daemon's libuv loop as a foreign
// loop, and its protocol callback: requests under a handler's path (the
// Engine.IO server's) go to that handler, every other HTTP request to the
// route handler. Thread: loop.
#pragma once

#include "config.hpp"
#include "connection_handler.hpp"
#include "http_responder.hpp"
#include "http_types.hpp"
#include "tls_certificate.hpp"

#include <libwebsockets.h>
#include <uv.h>

#include <memory>
#include <string_view>
#include <utility>
#include <vector>

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

    // Proxies whose forwarding headers name the client (server.trusted_proxies).
    void set_trusted_proxies(std::vector<IpNetwork> networks) {
        trusted_proxies_ = std::move(networks);
    }

    // Requests under the handler's path go to it; it must outlive this server.
    void add_handler(ConnectionHandler& handler) { handlers_.push_back(&handler); }

    // First half of the foreign-loop teardown: closes every connection and the
    // listening socket. The loop must run until it drains before the
    // destructor finishes the job.
    void begin_shutdown();

    // Serves the current contents of config.tls_cert_file and tls_key_file
    // (the paths this server was started with) to new connections, or refuses
    // them and keeps the served certificate. Never throws; plain HTTP: nothing.
    CertificateReload reload_certificate(const Config::Server& config);

    // The lws protocol callback (public so the protocol table can name it).
    // Nothing escapes it: an exception closes the connection (and what its
    // handler made of it) and is counted as an internal error.
    static int callback(lws* wsi, lws_callback_reasons reason, void* user, void* in,
                        size_t len) noexcept;

  private:
    static int dispatch(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len);
    static void on_callback_error(lws_callback_reasons reason, WsiState* state) noexcept;
    ConnectionHandler* handler_for(std::string_view path) const;
    int on_http(lws* wsi, WsiState* state, std::string_view path);
    int on_confirm_upgrade(lws* wsi);
    int on_established(lws* wsi, WsiState* state);

    struct ContextDeleter {
        void operator()(lws_context* ctx) const { lws_context_destroy(ctx); }
    };

    HttpHandler handler_;
    HttpResponder& responder_;
    std::vector<ConnectionHandler*> handlers_;
    std::vector<IpNetwork> trusted_proxies_;
    std::unique_ptr<lws_context, ContextDeleter> context_;
    SSL_CTX* ssl_ctx_ = nullptr;  // the TLS vhost's, owned by lws
};

}  // namespace clubvoice
