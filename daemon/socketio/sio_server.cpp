#include "sio_server.hpp"

#include "internal_errors.hpp"
#include "log.hpp"
#include "loop_thread.hpp"
#include "protocol_error.hpp"
#include "random_id.hpp"

#include <fmt/format.h>

#include <vector>

namespace clubvoice {
namespace {

// The namespace's connect handler runs this long after the CONNECT reply was
// queued, so that reply reaches the client in a read of its own. Clients that
// take one message per read and then wait (the official suite's client does,
// with ws 8) would otherwise miss the handler's first event when both arrive
// in one TCP segment. The reference server gets the same separation, most of
// the time, from writing its next packet only after the previous write completed.
constexpr std::uint64_t kConnectHandlerDelayMs = 2;

// CONNECTs a session may have refused before it is closed.
constexpr int kMaxRefusedConnects = 5;

}  // namespace

SioSocket::SioSocket(SioServer& server, EioSession& session, std::string nsp, nlohmann::json auth)
    : server_(server),
      session_(session),
      id_(random_id()),
      nsp_(std::move(nsp)),
      auth_(std::move(auth)) {}

void SioSocket::emit(std::string_view event, nlohmann::json args) {
    assert_on_loop();
    nlohmann::json data = nlohmann::json::array({std::string(event)});
    for (auto& arg : args) data.push_back(std::move(arg));
    server_.send_to(session_,
                    sio::Packet{sio::PacketType::event, nsp_, std::nullopt, std::move(data)});
}

void SioSocket::send(OutgoingPtr packet) {
    assert_on_loop();
    server_.eio_.send(session_, std::move(packet));
}

void SioSocket::join(const std::string& room) {
    if (rooms_.insert(room).second) server_.namespaces_.at(nsp_).rooms[room].insert(this);
}

void SioSocket::leave(const std::string& room) {
    if (rooms_.erase(room) == 0) return;
    auto& rooms = server_.namespaces_.at(nsp_).rooms;
    auto it = rooms.find(room);
    if (it == rooms.end()) return;
    it->second.erase(this);
    if (it->second.empty()) rooms.erase(it);
}

void SioSocket::close(std::string_view reason) {
    server_.eio_.close(session_, reason);
}

void SioSocket::set_stream(bool on) {
    if (on) {
        server_.eio_.subscribe(session_);
    } else {
        server_.eio_.unsubscribe(session_);
    }
}

SioServer::SioServer(uv_loop_t* loop, SioOptions options, HttpResponder& responder)
    : loop_(loop), options_(std::move(options)), eio_(loop, options_.engine, *this, responder) {}

SioServer::~SioServer() {
    eio_.close_all("server stopped");
}

void SioServer::add_namespace(const std::string& nsp, SioNamespaceHandlers handlers) {
    namespaces_[nsp].handlers = std::move(handlers);
}

void SioServer::apply(const SioOptions& options) {
    options_.connect_timeout_ms = options.connect_timeout_ms;
    options_.limits = options.limits;
    eio_.apply(options.engine);
}

void SioServer::send_to(EioSession& session, const sio::Packet& packet) {
    eio_.send(session, make_outgoing(packet));
}

void SioServer::broadcast(const std::string& nsp, const OutgoingPtr& packet) {
    assert_on_loop();
    auto it = namespaces_.find(nsp);
    if (it == namespaces_.end()) return;
    send_to_all(it->second.sockets, packet);
}

void SioServer::publish_stream(OutgoingPtr packet) {
    eio_.publish(std::move(packet));
}

void SioServer::send_to_all(const std::set<SioSocket*>& sockets, const OutgoingPtr& packet) {
    // A send may close a session (its queue overflowed), which removes its
    // socket from the set: walk a copy of the sessions, which outlive this call.
    std::vector<EioSession*> sessions;
    sessions.reserve(sockets.size());
    for (SioSocket* socket : sockets) sessions.push_back(&socket->session());
    for (EioSession* session : sessions) eio_.send(*session, packet);
}

void SioServer::broadcast_to_room(const std::string& nsp, const std::string& room,
                                  const OutgoingPtr& packet) {
    assert_on_loop();
    auto it = namespaces_.find(nsp);
    if (it == namespaces_.end()) return;
    auto room_it = it->second.rooms.find(room);
    if (room_it == it->second.rooms.end()) return;
    send_to_all(room_it->second, packet);
}

std::size_t SioServer::socket_count(const std::string& nsp) const {
    auto it = namespaces_.find(nsp);
    return it == namespaces_.end() ? 0 : it->second.sockets.size();
}

void SioServer::on_open(EioSession& session) {
    auto client = std::make_unique<Client>(Client{&session, sio::Decoder(options_.limits), {}, {}});
    Client* raw = client.get();
    // A session that joins no namespace in time is closed, as the reference server does.
    raw->connect_timer =
        start_timer(loop_, static_cast<std::uint64_t>(options_.connect_timeout_ms), 0, [this, raw] {
            raw->connect_timer.close();
            if (raw->sockets.empty()) eio_.close(*raw->session, "connect timeout");
        });
    clients_.emplace(&session, std::move(client));
}

void SioServer::on_message(EioSession& session, const eio::Packet& packet) {
    auto it = clients_.find(&session);
    if (it == clients_.end()) return;
    Client& client = *it->second;
    try {
        std::optional<sio::Packet> decoded = packet.binary ? client.decoder.feed_binary(packet.data)
                                                           : client.decoder.feed_text(packet.data);
        if (decoded) handle(client, *decoded);
    } catch (const ProtocolError& e) {
        ++protocol_errors_;
        log::info("socket.io: {} ({}): closed: {}", session.sid, session.peer, e.what());
        eio_.close(session, "parse error");
    }
}

template <typename Fn>
void SioServer::guarded(EioSession& session, Fn&& fn) {
    try {
        fn();
    } catch (...) {
        report_current_exception(fmt::format("session {} ({})", session.sid, session.peer));
        eio_.close(session, "internal error");
    }
}

void SioServer::handle(Client& client, sio::Packet& packet) {
    using sio::PacketType;
    if (packet.type == PacketType::connect) {
        connect(client, packet);
        return;
    }
    auto it = client.sockets.find(packet.nsp);
    if (it == client.sockets.end()) {
        log::debug("socket.io: {}: packet for namespace {} it has not joined, ignored",
                   client.session->sid, packet.nsp);
        return;
    }
    SioSocket& socket = *it->second;
    EioSession& session = *client.session;
    run_connect_handler(socket);  // a client that talks at once is connected first
    if (session.closed) return;   // the handler ended it: `client` and `socket` are gone
    switch (packet.type) {
        case PacketType::disconnect:
            remove_socket(client, packet.nsp, "client namespace disconnect");
            break;
        case PacketType::event:
        case PacketType::binary_event: {
            const auto& handlers = namespaces_.at(packet.nsp).handlers;
            if (!handlers.on_event) break;
            std::string event(sio::event_name(packet));
            nlohmann::json args = nlohmann::json::array();
            for (std::size_t i = 1; i < packet.data.size(); ++i) {
                args.push_back(std::move(packet.data[i]));
            }
            SioAck ack;
            if (packet.id) {
                ack = [this, session = client.session, nsp = packet.nsp,
                       id = *packet.id](nlohmann::json reply) {
                    if (!reply.is_array()) reply = nlohmann::json::array({std::move(reply)});
                    send_to(*session, sio::Packet{sio::PacketType::ack, nsp, id, std::move(reply)});
                };
            }
            guarded(*client.session, [&] { handlers.on_event(socket, event, args, ack); });
            break;
        }
        case PacketType::ack:
        case PacketType::binary_ack:
            break;  // the server asks for no acknowledgements
        default:
            ++protocol_errors_;
            eio_.close(*client.session, "unexpected packet type");
            break;
    }
}

void SioServer::for_each_socket(const std::string& nsp, const std::function<void(SioSocket&)>& fn) {
    auto ns = namespaces_.find(nsp);
    if (ns == namespaces_.end()) return;
    for (SioSocket* socket : ns->second.sockets) fn(*socket);
}

void SioServer::connect(Client& client, const sio::Packet& packet) {
    auto ns = namespaces_.find(packet.nsp);
    if (ns == namespaces_.end()) {
        send_to(*client.session, sio::Packet{sio::PacketType::connect_error,
                                             packet.nsp,
                                             std::nullopt,
                                             {{"message", "Invalid namespace"}}});
        return;
    }
    if (client.sockets.contains(packet.nsp)) return;  // already connected: nothing to do
    nlohmann::json auth = packet.data;
    if (ns->second.handlers.authorize) {
        if (auto refusal = ns->second.handlers.authorize(auth, *client.session)) {
            send_to(*client.session, sio::Packet{sio::PacketType::connect_error, packet.nsp,
                                                 std::nullopt, *refusal});
            // Guessing tokens on one session is cut short (and its log lines with it).
            if (++client.refused_connects >= kMaxRefusedConnects) {
                eio_.close(*client.session, "too many refused connects");
            }
            return;
        }
    }
    if (!auth.is_object()) auth = nlohmann::json::object();
    auto owned = std::make_unique<SioSocket>(*this, *client.session, packet.nsp, std::move(auth));
    SioSocket& socket = *owned;
    client.sockets.emplace(packet.nsp, std::move(owned));
    ns->second.sockets.insert(&socket);
    client.connect_timer.close();
    send_to(
        *client.session,
        sio::Packet{sio::PacketType::connect, packet.nsp, std::nullopt, {{"sid", socket.id()}}});
    // Closed with the socket if it leaves first: then neither handler runs.
    socket.connect_handler_ = start_timer(loop_, kConnectHandlerDelayMs, 0,
                                          [this, &socket] { run_connect_handler(socket); });
}

void SioServer::run_connect_handler(SioSocket& socket) {
    if (socket.connect_handled_) return;
    socket.connect_handler_.close();
    socket.connect_handled_ = true;
    const auto& handlers = namespaces_.at(socket.nsp()).handlers;
    if (handlers.on_connect) guarded(socket.session(), [&] { handlers.on_connect(socket); });
}

// `nsp` by value: callers pass the map key or the socket's own name, both freed here.
// NOLINTNEXTLINE(performance-unnecessary-value-param)
void SioServer::remove_socket(Client& client, std::string nsp, std::string_view reason) {
    auto it = client.sockets.find(nsp);
    if (it == client.sockets.end()) return;
    std::unique_ptr<SioSocket> socket = std::move(it->second);
    client.sockets.erase(it);
    Namespace& ns = namespaces_.at(nsp);
    for (const auto& room : std::set<std::string>(socket->rooms_)) socket->leave(room);
    ns.sockets.erase(socket.get());
    if (socket->connect_handled_ && ns.handlers.on_disconnect) {
        // Each socket's handler runs on its own: one that throws must not
        // leave the session's other sockets registered.
        run_guarded(fmt::format("session {} ({})", client.session->sid, client.session->peer),
                    [&] { ns.handlers.on_disconnect(*socket, reason); });
    }
}

void SioServer::on_close(EioSession& session, std::string_view reason) {
    auto it = clients_.find(&session);
    if (it == clients_.end()) return;
    std::unique_ptr<Client> client = std::move(it->second);
    clients_.erase(it);
    while (!client->sockets.empty()) {
        remove_socket(*client, client->sockets.begin()->first, reason);
    }
    client->connect_timer.close();
}

}  // namespace clubvoice
