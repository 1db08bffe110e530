// A Socket.IO v5 server on top of one EioServer: namespaces, CONNECT with an
// auth payload, events with acknowledgements, binary attachments, rooms,
// broadcasts of prebuilt packets. Thread: loop.
#pragma once

#include "eio_server.hpp"
#include "outgoing_packet.hpp"
#include "socketio_decoder.hpp"
#include "uv_handles.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>

namespace clubvoice {

class SioServer;

// One client connected to one namespace.
class SioSocket {
  public:
    SioSocket(SioServer& server, EioSession& session, std::string nsp, nlohmann::json auth);

    const std::string& id() const { return id_; }
    const std::string& nsp() const { return nsp_; }
    const nlohmann::json& auth() const { return auth_; }
    const std::string& peer() const { return session_.peer; }
    EioSession& session() { return session_; }

    // Sends an event: data is ["event", ...args]; binary values become attachments.
    void emit(std::string_view event, nlohmann::json args = nlohmann::json::array());
    void send(OutgoingPtr packet);
    void join(const std::string& room);
    void leave(const std::string& room);
    // Ends the client's whole connection (its Engine.IO session), e.g. for
    // input it must not send; the namespace's on_disconnect follows, and
    // this socket is gone when it returns.
    void close(std::string_view reason);
    // Whether the client gets the server's stream (publish_stream), from
    // the next packet on.
    void set_stream(bool on);

  private:
    friend class SioServer;

    SioServer& server_;
    EioSession& session_;
    std::string id_;
    std::string nsp_;
    nlohmann::json auth_;
    std::set<std::string> rooms_;
    UvTimer connect_handler_;       // runs the namespace's on_connect, just after the reply
    bool connect_handled_ = false;  // on_connect ran, so on_disconnect will too
};

// Answers an event's acknowledgement; empty when the client asked for none.
using SioAck = std::function<void(nlohmann::json args)>;

struct SioNamespaceHandlers {
    // Decides on a CONNECT from its auth payload as sent (null when absent)
    // and the session it came on (its address, its handshake's bearer
    // token): nullopt admits, a value refuses with that CONNECT_ERROR data.
    // It may rewrite `auth` to the form the socket keeps (checked and cleaned).
    std::function<std::optional<nlohmann::json>(nlohmann::json& auth, const EioSession& session)>
        authorize;
    std::function<void(SioSocket&)> on_connect;  // after the CONNECT reply went out
    std::function<void(SioSocket&, std::string_view event, nlohmann::json& args, const SioAck&)>
        on_event;
    std::function<void(SioSocket&, std::string_view reason)> on_disconnect;
};

struct SioOptions {
    EioOptions engine;
    int connect_timeout_ms = 45000;
    sio::DecoderLimits limits;
};

class SioServer : private EioHandler {
  public:
    SioServer(uv_loop_t* loop, SioOptions options, HttpResponder& responder);
    ~SioServer() override;
    SioServer(const SioServer&) = delete;
    SioServer& operator=(const SioServer&) = delete;

    EioServer& eio_server() { return eio_; }
    const EioServer& eio_server() const { return eio_; }
    void add_namespace(const std::string& nsp, SioNamespaceHandlers handlers);
    // New timings and limits (a reload); sessions already open keep their heartbeat.
    void apply(const SioOptions& options);

    // Sends one prebuilt packet to every socket of a namespace (or of a room in it).
    void broadcast(const std::string& nsp, const OutgoingPtr& packet);
    // One stream packet (droppable for a client that falls behind) to every
    // socket with set_stream(true).
    void publish_stream(OutgoingPtr packet);
    void broadcast_to_room(const std::string& nsp, const std::string& room,
                           const OutgoingPtr& packet);
    std::size_t socket_count(const std::string& nsp) const;
    // Calls fn for every socket of a namespace; fn may not close sockets.
    void for_each_socket(const std::string& nsp, const std::function<void(SioSocket&)>& fn);
    std::uint64_t protocol_errors() const { return protocol_errors_; }

    // Closes every session (shutdown), while the handlers still exist.
    void close_all() { eio_.close_all("server stopped"); }

  private:
    friend class SioSocket;
    struct Namespace {
        SioNamespaceHandlers handlers;
        std::set<SioSocket*> sockets;
        std::map<std::string, std::set<SioSocket*>> rooms;
    };
    struct Client {
        EioSession* session;
        sio::Decoder decoder;
        std::map<std::string, std::unique_ptr<SioSocket>> sockets;  // by namespace
        UvTimer connect_timer;
        int refused_connects = 0;  // a session refused this often is closed
    };

    void on_open(EioSession& session) override;
    void on_message(EioSession& session, const eio::Packet& packet) override;
    void on_close(EioSession& session, std::string_view reason) override;

    void handle(Client& client, sio::Packet& packet);
    // Runs a namespace handler for one session: an exception is counted as an
    // internal error and closes that session only.
    template <typename Fn>
    void guarded(EioSession& session, Fn&& fn);
    void connect(Client& client, const sio::Packet& packet);
    void run_connect_handler(SioSocket& socket);
    void remove_socket(Client& client, std::string nsp,
                       std::string_view reason);  // nsp copied: callers pass map keys
    void send_to(EioSession& session, const sio::Packet& packet);
    void send_to_all(const std::set<SioSocket*>& sockets, const OutgoingPtr& packet);

    uv_loop_t* loop_;
    SioOptions options_;
    EioServer eio_;
    std::map<std::string, Namespace> namespaces_;
    std::unordered_map<EioSession*, std::unique_ptr<Client>> clients_;
    std::uint64_t protocol_errors_ = 0;
};

}  // namespace clubvoice
