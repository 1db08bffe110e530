#include "room_namespace.hpp"

#include "log.hpp"
#include "version.hpp"

namespace clubvoice {
namespace {

constexpr std::uint64_t kLevelsIntervalMs = 100;  // `levels` at 10 Hz
constexpr const char* kLevelsRoom = "levels";

}  // namespace

RoomNamespace::RoomNamespace(uv_loop_t* loop, SioServer& server, const Config& config,
                             TalkService& talk, std::function<float()> room_level)
    : loop_(loop),
      server_(server),
      config_(config),
      talk_(talk),
      room_level_(std::move(room_level)) {
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
    if (event == "mic") {
        talk_.on_mic(socket, args);  // may close the socket: nothing may follow
        return;
    }
    if (event == "talk") {
        talk_.on_talk(socket, args, ack);
        return;
    }
    if (event == "levels") {
        subscribe_levels(socket, args);
        return;
    }
    if (event == "get_config") {
        if (ack) ack(nlohmann::json::array({config_json()}));
        return;
    }
    log::debug("client {}: unknown event \"{}\" ignored", socket.id(), event);
}

void RoomNamespace::on_disconnect(SioSocket& socket, std::string_view reason) {
    log::info("client {} left: {} ({} remain)", socket.id(), reason, clients());
    server_.engine().unsubscribe(socket.session());
    talk_.on_disconnect(socket);
    levels_subscribers_.erase(socket.id());
    if (levels_subscribers_.empty()) levels_timer_.close();
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

void RoomNamespace::config_changed() {
    server_.broadcast("/",
                      make_outgoing(sio::Packet{sio::PacketType::event, "/", std::nullopt,
                                                nlohmann::json::array({"config", config_json()})}));
}

void RoomNamespace::subscribe_levels(SioSocket& socket, const nlohmann::json& args) {
    const bool on = !args.empty() && args[0].is_object() && args[0].value("on", false);
    if (on) {
        socket.join(kLevelsRoom);
        levels_subscribers_.insert(socket.id());
        if (!levels_timer_) {
            levels_timer_ = start_timer(loop_, kLevelsIntervalMs, kLevelsIntervalMs,
                                        [this] { broadcast_levels(); });
        }
    } else {
        socket.leave(kLevelsRoom);
        levels_subscribers_.erase(socket.id());
        if (levels_subscribers_.empty()) levels_timer_.close();
    }
}

void RoomNamespace::broadcast_levels() {
    // No music input yet: it reads as silence.
    nlohmann::json levels = {{"room", room_level_ ? room_level_() : -120.0F},
                             {"music", -120.0F},
                             {"mic", talk_.mic_level_dbfs()}};
    server_.broadcast_to_room(
        "/", kLevelsRoom,
        make_outgoing(sio::Packet{sio::PacketType::event, "/", std::nullopt,
                                  nlohmann::json::array({"levels", std::move(levels)})}));
}

}  // namespace clubvoice
