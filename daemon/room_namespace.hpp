// The "/" namespace of clubvoiced, as the web client and other clients see
// it: `config` on connect and `get_config` (ack), `clients` counts, `levels`
// for the sockets that ask, and the talk events (handed to TalkService).
// Thread: loop.
#pragma once

#include "config.hpp"
#include "sio_server.hpp"
#include "talk_service.hpp"
#include "uv_handles.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <set>
#include <string>

namespace clubvoice {

class RoomNamespace {
  public:
    // `config` is the daemon's live configuration (a reload changes it in place).
    // `room_level` gives the room's level now, in dBFS.
    RoomNamespace(uv_loop_t* loop, SioServer& server, const Config& config, TalkService& talk,
                  std::function<float()> room_level);

    std::size_t clients() const { return server_.socket_count("/"); }
    nlohmann::json config_json() const;
    // Tells every client the configuration changed (after a reload).
    void config_changed();

  private:
    void on_connect(SioSocket& socket);
    void on_event(SioSocket& socket, std::string_view event, nlohmann::json& args,
                  const SioAck& ack);
    void on_disconnect(SioSocket& socket, std::string_view reason);
    void clients_changed();
    void broadcast_clients();
    void subscribe_levels(SioSocket& socket, const nlohmann::json& args);
    void broadcast_levels();

    uv_loop_t* loop_;
    SioServer& server_;
    const Config& config_;
    TalkService& talk_;
    std::function<float()> room_level_;
    UvTimer clients_timer_;                     // pending `clients` broadcast
    UvTimer levels_timer_;                      // runs while someone subscribed to `levels`
    std::set<std::string> levels_subscribers_;  // socket ids
};

}  // namespace clubvoice
