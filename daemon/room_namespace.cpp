#include "room_namespace.hpp"

#include "log.hpp"
#include "version.hpp"

namespace clubvoice {
RoomNamespace::RoomNamespace(uv_loop_t* loop, SioServer& server, const Config& config)
    : loop_(loop), server_(server), config_(config) {
    server_.add_namespace(
        "/", SioNamespaceHandlers{
                 nullptr,  // everyone may listen; tokens arrive with access control
                 [this](SioSocket& s) { on_connect(s); },
                 [this](SioSocket& s, std::string_view e, nlohmann::json& a, const SioAck& ack) {
                     on_event(s, e, a, ack);
                 },
                 [this](SioSocket& s, std::string_view r) { on_disconnect(s, r); },
             });
}

nlohmann::json RoomNamespace::config_json() const {
    return {
        {"version", kVersion},
        {"codec", "opus"},
        {"sampleRate", 48000},
        {"channels", config_.audio.capture.channels},
        {"frameMs", config_.audio.frame_ms},
        {"mode", to_string(config_.audio.mode)},
        {"canTalk", config_.audio.mode != AudioMode::listen},
        {"clients", clients()},
    };
}

void RoomNamespace::on_connect(SioSocket& socket) {
    log::info("client {} connected from {} ({} now)", socket.id(), socket.peer(), clients());
    server_.engine().subscribe(socket.session());  // the room's audio, from the next frame on
    socket.emit("config", nlohmann::json::array({config_json()}));
    clients_changed();
}

void RoomNamespace::on_event(SioSocket& socket, std::string_view event, nlohmann::json& args,
                             const SioAck& ack) {
    (void)args;
    if (event == "get_config") {
        if (ack) ack(nlohmann::json::array({config_json()}));
        return;
    }
    log::debug("client {}: unknown event \"{}\" ignored", socket.id(), event);
}

void RoomNamespace::on_disconnect(SioSocket& socket, std::string_view reason) {
    log::info("client {} left: {} ({} remain)", socket.id(), reason, clients());
    server_.engine().unsubscribe(socket.session());
    clients_changed();
}

void RoomNamespace::clients_changed() {
    // One `clients` broadcast per 200 ms at most: a crowd joining at once
    // would otherwise cost every listener one packet per newcomer.
    if (clients_timer_) return;
    clients_timer_ = start_timer(loop_, 200, 0, [this] {
        clients_timer_.close();
        broadcast_clients();
    });
}

void RoomNamespace::broadcast_clients() {
    sio::Packet packet{sio::PacketType::event, "/", std::nullopt,
                       nlohmann::json::array({"clients", {{"count", clients()}}})};
    server_.broadcast("/", make_outgoing(packet));
}

}  // namespace clubvoice
