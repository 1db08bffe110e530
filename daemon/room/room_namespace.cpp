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
                             const AccessPolicy& access, Audience& audience, TalkService& talk,
                             std::function<float()> room_level, std::function<float()> music_level)
    : loop_(loop),
      server_(server),
      config_(config),
      access_(access),
      audience_(audience),
      talk_(talk),
      room_level_(std::move(room_level)),
      music_level_(std::move(music_level)) {
    server_.add_namespace(
        "/", SioNamespaceHandlers{
                 [this](nlohmann::json& auth, const EioSession& session) {
                     return authorize(auth, session);
                 },
                 [this](SioSocket& s) { on_connect(s); },
                 [this](SioSocket& s, std::string_view e, nlohmann::json& a, const SioAck& ack) {
                     on_event(s, e, a, ack);
                 },
                 [this](SioSocket& s, std::string_view r) { on_disconnect(s, r); },
             });
}

std::optional<nlohmann::json> RoomNamespace::authorize(nlohmann::json& auth,
                                                       const EioSession& session) {
    room::Checked<room::ConnectAuth> checked = room::check_connect_auth(auth);
    if (!checked.ok()) {
        ++counters_.invalid_auth;
        log::info("connect refused from {}: {}", session.peer, checked.problem);
        return nlohmann::json{{"message", checked.problem}};
    }
    room::ConnectAuth& given = *checked.value;
    // A token in CONNECT auth wins over one in the handshake's Authorization header.
    const Admission admission = access_.admit(given.token.value_or(session.bearer));
    if (!admission.role) {
        ++(admission.refusal == kInvalidToken ? counters_.invalid_token : counters_.token_needed);
        log::info("connect refused from {}: {}", session.peer, admission.refusal);
        return nlohmann::json{{"message", admission.refusal}};
    }
    given.token.reset();  // the secret is not kept
    if (given.name.empty() && admission.token) given.name = admission.token->name;
    auth = room::KeptAuth{std::move(given.name), *admission.role, admission.token}.to_json();
    return std::nullopt;
}

bool RoomNamespace::may_talk(const SioSocket& socket) const {
    return access_.may_talk(room::KeptAuth::from_json(socket.auth()).role);
}

nlohmann::json RoomNamespace::config_json(const SioSocket& socket) const {
    return {
        {"version", kVersion},
        {"codec", "opus"},
        {"sampleRate", 48000},
        {"channels", config_.audio.capture.channels},
        {"frameMs", config_.audio.frame_ms},
        {"mode", to_string(config_.audio.mode)},
        {"canTalk", config_.audio.mode != AudioMode::listen && may_talk(socket)},
        {"role", to_string(room::KeptAuth::from_json(socket.auth()).role)},
        {"clients", room_clients()},
    };
}

void RoomNamespace::on_connect(SioSocket& socket) {
    log::info("client {} connected from {} ({} now)", socket.id(), socket.peer(), clients());
    audience_.join(socket);
    socket.emit("config", nlohmann::json::array({config_json(socket)}));
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
        const bool allowed = may_talk(socket);
        if (talk.value->on && !allowed) ++counters_.talk_refused;
        talk_.on_talk(socket, talk.value->on, allowed, ack);
    } else if (event == "levels") {
        const auto levels = room::check_levels(args);
        if (!levels.ok()) return refuse(socket, event, levels.problem, nullptr);
        subscribe_levels(socket, levels.value->on);
    } else if (event == "get_config") {
        const auto request = room::check_get_config(args);
        if (!request.ok()) return refuse(socket, event, request.problem, ack);
        if (ack) ack(nlohmann::json::array({config_json(socket)}));
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

void RoomNamespace::set_remote_clients(std::size_t count) {
    if (count == remote_clients_) return;
    remote_clients_ = count;
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
                       nlohmann::json::array({"clients", {{"count", room_clients()}}})};
    server_.broadcast("/", make_outgoing(packet));
}

void RoomNamespace::config_changed() {
    std::vector<SioSocket*> revoked;
    std::vector<SioSocket*> others;
    server_.for_each_socket("/", [&](SioSocket& socket) {
        const bool admitted = access_.still_admits(room::KeptAuth::from_json(socket.auth()).token);
        (admitted ? others : revoked).push_back(&socket);
    });
    for (SioSocket* socket : revoked) {
        ++counters_.revoked;
        log::notice("client {} ({}): closed: the reloaded access rules no longer admit it",
                    socket->id(), socket->peer());
        socket->close("access withdrawn");
    }
    for (SioSocket* socket : others) {
        if (!may_talk(*socket)) talk_.on_talk(*socket, false, false, nullptr);
        socket->emit("config", nlohmann::json::array({config_json(*socket)}));
    }
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
    nlohmann::json levels = {{"room", room_level_ ? room_level_() : -120.0F},
                             {"music", music_level_ ? music_level_() : -120.0F},
                             {"mic", talk_.mic_level_dbfs()}};
    server_.broadcast_to_room(
        "/", kLevelsRoom,
        make_outgoing(sio::Packet{sio::PacketType::event, "/", std::nullopt,
                                  nlohmann::json::array({"levels", std::move(levels)})}));
}

}  // namespace clubvoice
