// The "/" namespace of clubvoiced, as the web client and other clients see
// it: `config` on connect and `get_config` (ack), `clients` counts. The talk
// and levels events join it with the audio work. Thread: loop.
#pragma once

#include "config.hpp"
#include "sio_server.hpp"
#include "uv_handles.hpp"

#include <nlohmann/json.hpp>

namespace clubvoice {

class RoomNamespace {
  public:
    // `config` is the daemon's live configuration (a reload changes it in place).
    RoomNamespace(uv_loop_t* loop, SioServer& server, const Config& config);

    std::size_t clients() const { return server_.socket_count("/"); }
    nlohmann::json config_json() const;

  private:
    void on_connect(SioSocket& socket);
    void on_event(SioSocket& socket, std::string_view event, nlohmann::json& args,
                  const SioAck& ack);
    void on_disconnect(SioSocket& socket, std::string_view reason);
    void clients_changed();
    void broadcast_clients();

    uv_loop_t* loop_;
    SioServer& server_;
    const Config& config_;
    UvTimer clients_timer_;  // pending `clients` broadcast
};

}  // namespace clubvoice
