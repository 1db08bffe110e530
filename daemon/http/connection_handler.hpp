// The seam between the lws host (WebServer) and what answers a path with
// sessions of its own (Engine.IO): the host hands each connection under the
// handler's path to it, and never needs to know what a session is.
// Thread: loop.
#pragma once

#include "http_types.hpp"

#include <libwebsockets.h>

#include <optional>

#include <string_view>

namespace clubvoice {

class ConnectionHandler;

// What lws keeps for each connection: zeroed by lws, so plain pointers only.
struct WsiState {
    ConnectionHandler* handler;  // null: a plain HTTP route
    void* session;               // the handler's object for this connection
    int kind;                    // the handler's name for what the connection does
};

class ConnectionHandler {
  public:
    virtual ~ConnectionHandler() = default;
    virtual bool owns_path(std::string_view path) const = 0;

    virtual int on_http(lws* wsi, WsiState& state, std::string_view method) = 0;
    virtual int on_http_body(lws* wsi, WsiState& state, std::string_view chunk) = 0;
    virtual int on_http_body_done(lws* wsi, WsiState& state) = 0;
    virtual int on_http_writeable(lws* wsi, WsiState& state) = 0;
    virtual void on_http_closed(lws* wsi, WsiState& state) = 0;
    // nullopt accepts the WebSocket handshake; a response refuses it.
    virtual std::optional<HttpResponse> on_ws_filter(lws* wsi) = 0;
    virtual int on_ws_established(lws* wsi, WsiState& state) = 0;
    virtual int on_ws_receive(lws* wsi, WsiState& state, std::string_view data) = 0;
    virtual int on_ws_writeable(lws* wsi, WsiState& state) = 0;
    virtual void on_ws_closed(lws* wsi, WsiState& state) = 0;

    // Called inside the host's catch block when a callback for this
    // connection threw: report it (report_current_exception) and close what
    // the connection belongs to.
    virtual void on_callback_error(WsiState& state, int lws_reason) noexcept = 0;
};

}  // namespace clubvoice
