#include "room_namespace.hpp"

#include "log.hpp"
#include "room_events.hpp"
#include "version.hpp"

namespace clubvoice {
namespace {

constexpr std::uint64_t kLevelsIntervalMs = 100;  // `levels` at 10 Hz
constexpr const char* kLevelsRoom = "levels";

}  // namespace

RoomNamespace::RoomNamespace(uv_loop_t* loop, SioServer& server, const Config& config,
                             Audience& audience, TalkService& talk,
                             std::function<float()> room_level)
    : loop_(loop),
      server_(server),
      config_(config),
      audience_(audience),
      talk_(talk),
      room_level_(std::move(room_level)) {
    server_.add_namespace(
        "/", SioNamespaceHandlers{
                 [this](nlohmann::json& auth) { return authorize(auth); },
                 [this](SioSocket& s) { on_connect(s); },
                 [this](SioSocket& s, std::string_view e, nlohmann::json& a, const SioAck& ack) {
                     on_event(s, e, a, ack);
                 },
                 [this](SioSocket& s, std::string_view r) { on_disconnect(s, r); },
             });
}

std::optional<nlohmann::json> RoomNamespace::authorize(nlohmann::json& auth) {
    // Everyone may listen; tokens decide roles once access control exists.
    room::Checked<room::ConnectAuth> checked = room::check_connect_auth(auth);
    if (!checked.ok()) {
        ++counters_.invalid_auth;
        log::info("connect refused: {}", checked.problem);
        return nlohmann::json{{"message", checked.problem}};
    }
    auth = checked.value->to_json();
    return std::nullopt;
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
    audience_.join(socket);
    socket.emit("config", nlohmann::json::array({config_json()}));
    clients_changed();
}

// The room's events. Each is checked against its shape (room_events.hpp)
// before its handler runs; the answer to a wrong shape is refuse()'s.
void RoomNamespace::on_event(SioSocket& socket, std::string_view event, nlohmann::json& args,
                             const SioAck& ack) {
    if (event == "mic") {
        const auto mic = room::check_mic(args);
        if (!mic.ok()) return refuse(socket, event, mic.problem, nullptr);
        talk_.on_mic(socket, *mic.value);  // may close the socket: nothing may follow
    } else if (event == "talk") {
        const auto talk = room::check_talk(args);
        if (!talk.ok()) return refuse(socket, event, talk.problem, ack);
        talk_.on_talk(socket, talk.value->on, ack);
    } else if (event == "levels") {
        const auto levels = room::check_levels(args);
        if (!levels.ok()) return refuse(socket, event, levels.problem, nullptr);
        subscribe_levels(socket, levels.value->on);
    } else if (event == "get_config") {
        const auto request = room::check_get_config(args);
        if (!request.ok()) return refuse(socket, event, request.problem, ack);
        if (ack) ack(nlohmann::json::array({config_json()}));
    } else {
        // Newer clients may send events this server does not know yet.
        ++counters_.unknown_events;
        log::debug("client {}: unknown event ignored", socket.id());
    }
}

void RoomNamespace::refuse(SioSocket& socket, std::string_view event, std::string_view problem,
                           const SioAck& ack) {
    ++counters_.invalid_events;
    if (ack) {
        // The event answers through an ack: the answer says what was wrong.
        log::info("client {} ({}): {}", socket.id(), socket.peer(), problem);
        nlohmann::json answer = {{"error", problem}};
        if (event == "talk") {
            answer.update({{"granted", false}, {"holder", nullptr}, {"reason", problem}});
        }
        ack(nlohmann::json::array({std::move(answer)}));
        return;
    }
    log::warning("client {} ({}): closed: {}", socket.id(), socket.peer(), problem);
    socket.close("invalid event");  // last use of `socket`
}

void RoomNamespace::on_disconnect(SioSocket& socket, std::string_view reason) {
    log::info("client {} left: {} ({} remain)", socket.id(), reason, clients());
    audience_.leave(socket);
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

void RoomNamespace::subscribe_levels(SioSocket& socket, bool on) {
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
