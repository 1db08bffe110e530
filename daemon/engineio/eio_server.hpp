// An Engine.IO v4 server on libwebsockets: the handshake, HTTP long-polling,
// WebSocket, the polling->WebSocket upgrade and the heartbeat, for one path
// (e.g. /socket.io/). The layer above (Socket.IO, or an echo for the
// conformance suite) sees sessions open, messages arrive and sessions close.
// Thread: loop.
#pragma once

#include "connection_limits.hpp"
#include "eio_session.hpp"
#include "engineio_packet.hpp"
#include "http_responder.hpp"
#include "outgoing_packet.hpp"

#include <libwebsockets.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace clubvoice {

struct EioOptions {
    std::string path = "/socket.io/";
    int ping_interval_ms = 25000;
    int ping_timeout_ms = 20000;
    std::size_t max_payload = 1000000;
    int max_messages_per_s = 1000;  // a session sending faster than this (bursts: twice) is closed
    std::vector<std::string> cors_origins;    // "*" allows every origin; also the handshake's
                                              // Origin allow-list, beside the server's own
    std::vector<IpNetwork> trusted_proxies;   // whose forwarding headers name the client
    LimitSettings limits;                     // sessions in all and per client address
    std::uint64_t max_polling_ms = 600000;    // a session polling this long without upgrading
                                              // is closed
    std::size_t max_control_bytes = 1 << 20;  // a session whose control queue passes this is closed
    std::size_t stream_capacity = 32;         // stream packets a session may fall behind
    std::uint64_t stream_lag_close_ms = 10000;  // a session behind the ring this long is closed
};

class EioHandler {
  public:
    virtual ~EioHandler() = default;
    virtual void on_open(EioSession& session) = 0;
    virtual void on_message(EioSession& session, const eio::Packet& packet) = 0;
    virtual void on_close(EioSession& session, std::string_view reason) = 0;
};

struct EioCounters {
    std::uint64_t sessions_opened = 0;
    std::uint64_t upgrades = 0;
    std::uint64_t protocol_errors = 0;
    std::uint64_t ping_timeouts = 0;
    std::uint64_t queue_overflows = 0;
    std::uint64_t lag_disconnects = 0;
    std::uint64_t floods = 0;  // sessions closed for sending too many messages
    // Handshakes refused: a foreign Origin, the server full, too many
    // sessions from one address, sessions opened too fast from one address.
    std::uint64_t origin_refused = 0;
    std::uint64_t refused_server_full = 0;
    std::uint64_t refused_address_full = 0;
    std::uint64_t refused_too_fast = 0;
    std::uint64_t polling_timeouts = 0;  // sessions closed for polling past max_polling_ms
};

class EioServer final : public ConnectionHandler {
  public:
    EioServer(uv_loop_t* loop, EioOptions options, EioHandler& handler, HttpResponder& responder);
    ~EioServer() override;
    EioServer(const EioServer&) = delete;
    EioServer& operator=(const EioServer&) = delete;

    // New timings and limits; the path and the stream ring stay as they are.
    void apply(const EioOptions& options);
    bool owns_path(std::string_view path) const override;

    // Sends a control packet (never dropped) to one session.
    void send(EioSession& session, OutgoingPtr packet);
    // Stores a stream packet once; every subscribed session gets it or drops it.
    void publish(OutgoingPtr packet);
    void subscribe(EioSession& session);
    void unsubscribe(EioSession& session);
    // Ends a session (server side): the layer above gets on_close.
    void close(EioSession& session, std::string_view reason);
    // Closes every session, for shutdown.
    void close_all(std::string_view reason);

    std::size_t session_count() const { return sessions_.size(); }
    // The limits on sessions in all and per address; other kinds of
    // connection (the /stream.opus readers) open and close in them too.
    ConnectionLimits& limits() { return limits_; }
    const EioCounters& counters() const { return counters_; }
    std::uint64_t stream_drops() const;

    // The lws host (WebServer) hands these over.
    int on_http(lws* wsi, WsiState& state, std::string_view method) override;
    int on_http_body(lws* wsi, WsiState& state, std::string_view chunk) override;
    int on_http_body_done(lws* wsi, WsiState& state) override;
    int on_http_writeable(lws* wsi, WsiState& state) override;
    void on_http_closed(lws* wsi, WsiState& state) override;
    std::optional<HttpResponse> on_ws_filter(lws* wsi) override;
    int on_ws_established(lws* wsi, WsiState& state) override;
    int on_ws_receive(lws* wsi, WsiState& state, std::string_view data) override;
    int on_ws_writeable(lws* wsi, WsiState& state) override;
    void on_ws_closed(lws* wsi, WsiState& state) override;
    void on_callback_error(WsiState& state, int lws_reason) noexcept override;

  private:
    EioSession* find(std::string_view sid);
    // A new session's handshake: its Origin and the limits. nullopt admits;
    // otherwise the refusal to send (counted and logged).
    std::optional<HttpResponse> admit_handshake(lws* wsi, const IpAddress& client);
    EioSession& open_session(lws* wsi, EioSession::Transport transport, const IpAddress& client);
    void handle_packet(EioSession& session, const eio::Packet& packet, bool via_ws);
    void request_write(EioSession& session);
    // The stream fan-out (eio_publish.cpp): one walk over the listeners per
    // loop iteration that published; a listener's pending packets (up to a
    // few) in one write: 1 written, 0 nothing pending, -1 failed.
    void walk_stream();
    void start_walk();                     // the listeners to write, as of now
    void leave_walk(EioSession& session);  // a session closed mid-walk
    enum class StreamWrite { done, needs_callback, failed };
    StreamWrite try_write_stream(EioSession& session);
    int write_stream(EioSession& session);
    bool has_output(const EioSession& session) const;
    std::string drain_payload(EioSession& session);
    void schedule_ping(EioSession& session);
    void on_heartbeat(EioSession& session);
    void protocol_error(EioSession& session, std::string_view what);
    // Takes one message from the session's budget; false (and the session is
    // closed) when it has been sending faster than max_messages_per_s.
    bool within_budget(EioSession& session);
    void bury(EioSession& session);
    HttpResponse error_response(lws* wsi, int code, std::string_view message) const;
    void add_cors(lws* wsi, HttpResponse& response) const;
    bool declared_body_too_big(lws* wsi) const;
    std::string handshake_json(const EioSession& session) const;

    uv_loop_t* loop_;
    EioOptions options_;
    EioHandler& handler_;
    HttpResponder& responder_;
    std::unordered_map<std::string, std::unique_ptr<EioSession>> sessions_;
    std::vector<std::unique_ptr<EioSession>> dead_;  // freed on the next loop pass
    UvTimer reaper_;
    StreamFanout<OutgoingPtr> stream_;
    std::string batch_;  // a late listener's packets, joined for one write
    ConnectionLimits limits_;
    UvCheck walk_;      // runs walk_stream() after an iteration's I/O, while a walk is due
    UvIdle walk_idle_;  // keeps the poll between two slices of a walk from waiting
    bool walk_due_ = false;
    bool walk_again_ = false;  // published during a walk: another walk follows
    std::vector<EioSession*> walk_list_;
    std::size_t walk_at_ = 0;
    std::size_t freed_since_trim_ = 0;
    EioCounters counters_;
};

}  // namespace clubvoice
