// One Engine.IO session: its transport state, what waits to be sent, and its
// heartbeat. Owned by EioServer. Thread: loop.
#pragma once

#include "connection_handler.hpp"
#include "ip_network.hpp"
#include "outgoing_packet.hpp"
#include "stream_fanout.hpp"
#include "uv_handles.hpp"

#include <libwebsockets.h>

#include <cstdint>
#include <deque>
#include <optional>
#include <string>

namespace clubvoice {

struct EioSession {
    enum class Transport { polling, websocket };

    std::string sid;
    IpAddress client;    // request_client(): counted against the per-address limits
    std::string peer;    // the client's address as text, for log lines
    std::string bearer;  // the handshake's Authorization: Bearer token, if any
    std::uint64_t opened_ms = 0;
    Transport transport = Transport::polling;
    bool upgrading = false;        // probe answered on `ws`, waiting for the upgrade packet
    bool probe_reply_due = false;  // "3probe" still to be written on `ws`
    bool closed = false;
    bool write_requested = false;  // a writeable callback is asked for on `ws`

    lws* ws = nullptr;         // the WebSocket (probing, upgraded, or from the start)
    lws* poll_get = nullptr;   // a long-poll GET waiting for data
    lws* poll_post = nullptr;  // a POST whose body is arriving

    // Control packets (open, pong, acks, events) are never dropped; stream
    // packets (audio) come from the server's ring, read from `stream`.
    std::deque<OutgoingPtr> control;
    std::size_t control_bytes = 0;
    std::optional<StreamReader> stream;

    std::string rx;  // a WebSocket message arriving in fragments
    std::string post_body;

    // Messages it may still send now (a token bucket refilled at
    // max_messages_per_s, holding at most twice that), and when it was filled.
    double message_budget = -1.0;  // -1: not started
    std::uint64_t budget_at_ms = 0;

    UvTimer heartbeat;  // next ping, or the deadline for its pong
    bool awaiting_pong = false;
};

// What an Engine.IO connection does (WsiState::kind).
struct WsiKind {
    enum : int { none = 0, poll_get, poll_post, post_refused, websocket, poll_close, poll_release };
};

// The session a connection belongs to, or null.
inline EioSession* session_of(const WsiState& state) {
    return static_cast<EioSession*>(state.session);
}

}  // namespace clubvoice
