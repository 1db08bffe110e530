// Writes HTTP responses on libwebsockets connections: the headers at once,
// the body from the next writeable callback, then completes the transaction
// so keep-alive connections can carry the next request. Thread: loop.
#pragma once

#include "http_types.hpp"

#include <libwebsockets.h>

#include <optional>
#include <string>
#include <unordered_map>

namespace clubvoice {

class HttpResponder {
  public:
    // Returns -1 when the connection must be closed, 0 otherwise. While the
    // request's body is still arriving the answer waits for its end: closing
    // with unread data would reset the connection before the client saw it.
    int respond(lws* wsi, HttpResponse response, bool head = false);
    bool has_pending(lws* wsi) const { return pending_.contains(wsi); }
    // Writes a pending body; returns -1 when the connection must be closed.
    int on_writeable(lws* wsi);
    void forget(lws* wsi);

    // A new request: notes whether a body follows it.
    void on_request(lws* wsi);
    // The body has been read. Returns true (and answers, with -1 in *rc on
    // failure) when an answer was waiting for it.
    bool on_body_done(lws* wsi, int* rc);

  private:
    struct Deferred {
        HttpResponse response;
        bool head;
    };
    int send_headers(lws* wsi, const HttpResponse& response, std::size_t length);
    std::unordered_map<lws*, std::string> pending_;  // LWS_PRE headroom + body
    std::unordered_map<lws*, std::optional<Deferred>> awaiting_body_;
};

}  // namespace clubvoice
