// The "/" namespace of clubvoiced, as the web client and other clients see
// it: `config` on connect and `get_config` (ack), `clients` counts, `levels`
// for the sockets that ask, and the talk events (handed to TalkService).
// Thread: loop.
#pragma once

#include "access_policy.hpp"
#include "audience.hpp"
#include "config.hpp"
#include "metrics.hpp"
#include "sio_server.hpp"
#include "talk_service.hpp"
#include "uv_handles.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>

namespace clubvoice {

class RoomNamespace {
  public:
    // `config` is the daemon's live configuration and `access` its access
    // policy (a reload changes both in place). `room_level` and
    // `music_level` give the room's and the music input's levels now, in dBFS.
    RoomNamespace(uv_loop_t* loop, SioServer& server, const Config& config,
                  const AccessPolicy& access, Audience& audience, TalkService& talk,
                  std::function<float()> room_level, std::function<float()> music_level);

    std::size_t clients() const { return server_.socket_count("/"); }
    // Clients of the room on other nodes of its cluster (0 alone): what the
    // `clients` event and `config` count besides this node's.
    void set_remote_clients(std::size_t count);
    std::size_t room_clients() const { return clients() + remote_clients_; }
    // The `config` payload for one client: canTalk and role are its own.
    nlohmann::json config_json(const SioSocket& socket) const;
    // After a reload: closes clients the access rules no longer admit (a
    // token removed, listening closed), stops talkers whose role may no
    // longer talk, and sends every client its new `config`.
    void config_changed();

    struct Counters {
        std::uint64_t invalid_events = 0;  // wrong-shaped events (acked with an error, or closed)
        std::uint64_t unknown_events = 0;  // events of names this server does not know
        std::uint64_t invalid_auth = 0;    // CONNECTs refused for their auth payload
        std::uint64_t invalid_token = 0;   // CONNECTs refused for a wrong or unknown token
        std::uint64_t token_needed = 0;    // CONNECTs without a token where listening needs one
        std::uint64_t talk_refused = 0;    // talk requests from roles that may not talk
        std::uint64_t revoked = 0;         // clients closed because a reload withdrew access
    };
    const Counters& counters() const { return counters_; }

    // The server's figures as the room sees them: sessions and clients, what
    // Engine.IO and Socket.IO closed and why, and what this namespace refused.
    struct Figures {
        std::size_t sessions = 0, clients = 0;
        EioCounters eio;
        std::uint64_t protocol_errors = 0;  // Engine.IO's and Socket.IO's
        std::uint64_t stream_drops = 0, internal_errors = 0;
        Counters room;
    };
    Figures figures() const;
    // The figures under clubvoice_sessions, _clients and the server's
    // counters (/status: "server").
    void report(MetricWriter& out) const;
    static void describe_metrics(MetricWriter& out);  // the table alone, for --list-metrics

  private:
    std::optional<nlohmann::json> authorize(nlohmann::json& auth, const EioSession& session);
    bool may_talk(const SioSocket& socket) const;
    void on_connect(SioSocket& socket);
    void on_event(SioSocket& socket, std::string_view event, nlohmann::json& args,
                  const SioAck& ack);
    // A wrong shape: an ack {error} when the event has one and the client
    // asked for it; otherwise the session is closed.
    void refuse(SioSocket& socket, std::string_view event, std::string_view problem,
                const SioAck& ack);
    void on_disconnect(SioSocket& socket, std::string_view reason);
    void clients_changed();
    void broadcast_clients();
    void subscribe_levels(SioSocket& socket, bool on);
    void broadcast_levels();

    uv_loop_t* loop_;
    SioServer& server_;
    const Config& config_;
    const AccessPolicy& access_;
    Audience& audience_;
    TalkService& talk_;
    std::function<float()> room_level_;
    std::function<float()> music_level_;
    UvTimer clients_timer_;  // pending `clients` broadcast
    std::size_t remote_clients_ = 0;
    UvTimer levels_timer_;                      // runs while someone subscribed to `levels`
    std::set<std::string> levels_subscribers_;  // socket ids
    Counters counters_;
};

}  // namespace clubvoice
