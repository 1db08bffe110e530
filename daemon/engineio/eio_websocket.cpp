// EioServer, WebSocket side: direct WebSocket sessions, the upgrade of a
// polling session, and writing each queued message as one raw write.
#include "eio_server.hpp"

#include "lws_request.hpp"
#include "protocol_error.hpp"
#include "ws_bytes.hpp"

#include <optional>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace clubvoice {
namespace {

const OutgoingPtr& probe_reply() {
    static const OutgoingPtr packet = make_outgoing({{eio::PacketType::pong, false, "probe"}});
    return packet;
}

// Keeps a stalled client's audio in our ring (where it is dropped, oldest
// first, and counted) instead of in the kernel's send buffer, where it would
// pile up seconds of delay: the socket reports writable only while less than
// this much is unsent.
void limit_unsent(lws* wsi) {
    int fd = lws_get_socket_fd(wsi);
    int lowat = 16384;
    if (fd >= 0) setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof lowat);
}

// Packets one writeable callback may write (each checked to have left whole).
constexpr int kWritesPerCallback = 32;

int write_raw(lws* wsi, const OutgoingPacket& packet) {
    return write_ws_bytes(wsi, packet.ws_bytes());
}

}  // namespace

// Checks the handshake before lws answers it: the query, then (for a new
// session) its Origin and the limits; a response refuses the connection.
// A bad sid is refused after the handshake instead (on_ws_established
// closes it), as the reference server does.
std::optional<HttpResponse> EioServer::on_ws_filter(lws* wsi) {
    if (url_arg(wsi, "EIO=") != "4" || url_arg(wsi, "transport=") != "websocket") {
        return HttpResponse::json(400, R"({"code":3,"message":"Bad request"})");
    }
    if (url_arg(wsi, "sid=")) return std::nullopt;  // an upgrade: the session was admitted
    return admit_handshake(wsi, request_client(wsi, options_.trusted_proxies));
}

int EioServer::on_ws_established(lws* wsi, WsiState& state) {
    state = {this, nullptr, WsiKind::websocket};
    if (auto sid = url_arg(wsi, "sid=")) {
        EioSession* session = find(*sid);
        if (session == nullptr || session->transport != EioSession::Transport::polling ||
            session->ws != nullptr) {
            return -1;
        }
        limit_unsent(wsi);
        session->ws = wsi;  // probing: the polling transport stays in charge until "5"
        state.session = session;
        return 0;
    }
    limit_unsent(wsi);
    EioSession& session = open_session(wsi, EioSession::Transport::websocket,
                                       request_client(wsi, options_.trusted_proxies));
    session.ws = wsi;
    state.session = &session;
    request_write(session);
    return 0;
}

int EioServer::on_ws_receive(lws* wsi, WsiState& state, std::string_view data) {
    EioSession* session = session_of(state);
    if (session == nullptr) return -1;
    // The frame header declares the whole frame's length: a message that will
    // not fit is refused at its first bytes, before the rest is awaited.
    if (session->rx.size() + data.size() + lws_remaining_packet_payload(wsi) >
        options_.max_payload) {
        protocol_error(*session, "WebSocket message over max payload");
        // After closing the session, which sets the normal close code.
        static constexpr char kReason[] = "message too big";
        lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
                         reinterpret_cast<unsigned char*>(const_cast<char*>(kReason)),
                         sizeof kReason - 1);
        return -1;
    }
    session->rx.append(data);
    if (lws_is_final_fragment(wsi) == 0 || lws_remaining_packet_payload(wsi) != 0) return 0;
    std::string message = std::move(session->rx);
    session->rx.clear();
    try {
        eio::Packet packet =
            lws_frame_is_binary(wsi) != 0 ? eio::decode_binary(message) : eio::decode_text(message);
        bool attached = session->transport == EioSession::Transport::websocket;
        // While probing, only the probe and the upgrade packet may come this way.
        if (!attached && packet.type != eio::PacketType::ping &&
            packet.type != eio::PacketType::upgrade) {
            protocol_error(*session, "packet on a WebSocket that is not upgraded yet");
            return -1;
        }
        handle_packet(*session, packet, true);
    } catch (const ProtocolError& e) {
        protocol_error(*session, e.what());
        return -1;
    }
    return 0;
}

// The fan-out's fast path: a listener whose socket took everything so far
// gets the new stream packet written at once. Asking lws for a writeable
// callback instead costs epoll_ctl calls per listener per frame (libuv
// re-registers the fd on every change of interest), which limited the daemon
// to well under 1,000 listeners; now it asks only when the kernel pushed back
// or control packets wait.
int EioServer::on_ws_writeable(lws* wsi, WsiState& state) {
    EioSession* session = session_of(state);
    if (session == nullptr) return -1;
    session->write_requested = false;
    if (session->probe_reply_due) {
        session->probe_reply_due = false;
        if (write_raw(wsi, *probe_reply()) != 0) return -1;
        if (has_output(*session)) {
            session->write_requested = true;
            lws_callback_on_writable(wsi);
        }
        return 0;
    }
    if (session->transport != EioSession::Transport::websocket) return 0;
    // Several packets per callback while the kernel takes each one whole: a
    // listener that fell behind catches up in a few callbacks and returns to
    // the direct writes of publish(), instead of paying a poll-interest change
    // (epoll_ctl) per packet, which at 2,000 listeners kept the loop saturated.
    for (int i = 0; i < kWritesPerCallback; ++i) {
        int wrote = 0;
        if (!session->control.empty()) {
            OutgoingPtr item = std::move(session->control.front());
            session->control.pop_front();
            session->control_bytes -= item->ws_size();
            wrote = write_raw(wsi, *item) != 0 ? -1 : 1;
        } else if (session->stream) {
            wrote = write_stream(*session);
        }
        if (wrote < 0) return -1;
        if (wrote == 0) break;                      // done (or a spare callback)
        if (lws_partial_buffered(wsi) != 0) break;  // the kernel pushed back: lws holds the rest
    }
    if (has_output(*session) || lws_partial_buffered(wsi) != 0) request_write(*session);
    return 0;
}

void EioServer::on_ws_closed(lws* wsi, WsiState& state) {
    EioSession* session = session_of(state);
    state = {this, nullptr, WsiKind::none};
    if (session == nullptr || session->ws != wsi) return;
    session->ws = nullptr;
    if (session->transport == EioSession::Transport::websocket) {
        close(*session, "transport closed");
    } else {
        // A probe that failed: the session goes on polling.
        session->upgrading = false;
        session->probe_reply_due = false;
        request_write(*session);
    }
}

}  // namespace clubvoice
