// The server the official Engine.IO and Socket.IO protocol test suites expect
// on one port: an Engine.IO echo at /engine.io/ and a Socket.IO server at
// /socket.io/ (namespaces "/" and "/custom"), built from the daemon's own
// transport code. Usage: sio-conformance-server [--port N] (default 3000).
#include "eio_server.hpp"
#include "http_responder.hpp"
#include "log.hpp"
#include "sio_server.hpp"
#include "uv_handles.hpp"
#include "web_server.hpp"

#include <fmt/core.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>

namespace clubvoice {
namespace {

// Engine.IO echo: every message goes back as it came, text or binary.
class Echo : public EioHandler {
  public:
    void attach(EioServer& server) { server_ = &server; }
    void on_open(EioSession&) override {}
    void on_message(EioSession& session, const eio::Packet& packet) override {
        server_->send(session, make_outgoing({packet}));
    }
    void on_close(EioSession&, std::string_view) override {}

  private:
    EioServer* server_ = nullptr;
};

SioNamespaceHandlers test_namespace() {
    SioNamespaceHandlers handlers;
    handlers.on_connect = [](SioSocket& socket) {
        socket.emit("auth", nlohmann::json::array({socket.auth()}));
    };
    handlers.on_event = [](SioSocket& socket, std::string_view event, nlohmann::json& args,
                           const SioAck& ack) {
        if (event == "message") {
            socket.emit("message-back", std::move(args));
        } else if (event == "message-with-ack" && ack) {
            ack(std::move(args));
        }
    };
    return handlers;
}

int run(int port) {
    UvLoop loop;
    HttpResponder responder;
    EioOptions timings;
    timings.ping_interval_ms = 300;
    timings.ping_timeout_ms = 200;
    timings.max_payload = 1000000;
    timings.cors_origins = {"*"};
    // The suites open hundreds of sessions from 127.0.0.1 in quick succession.
    timings.limits = {100000, 100000, 100000};

    Echo echo;
    EioOptions echo_options = timings;
    echo_options.path = "/engine.io/";
    EioServer echo_server(loop.get(), echo_options, echo, responder);
    echo.attach(echo_server);

    SioOptions sio_options;
    sio_options.engine = timings;
    sio_options.engine.path = "/socket.io/";
    sio_options.connect_timeout_ms = 1000;
    SioServer sio(loop.get(), sio_options, responder);
    sio.add_namespace("/", test_namespace());
    sio.add_namespace("/custom", test_namespace());

    Config::Server listen;
    listen.host = "127.0.0.1";
    listen.port = port;
    auto web = std::make_unique<WebServer>(
        loop.get(), listen,
        [](const HttpRequest&) { return HttpResponse::text(404, "not found\n"); }, responder);
    web->add_handler(echo_server);
    web->add_handler(sio.eio_server());

    UvSignal sigint;
    UvSignal sigterm;
    auto stop = [&] {
        sigint.close();
        sigterm.close();
        echo_server.close_all("stopped");
        sio.close_all();
        web->begin_shutdown();
    };
    sigint = watch_signal(loop.get(), SIGINT, stop);
    sigterm = watch_signal(loop.get(), SIGTERM, stop);
    fmt::print(stderr, "sio-conformance-server: listening on 127.0.0.1:{}\n", port);
    loop.run();
    web.reset();
    return 0;
}

}  // namespace
}  // namespace clubvoice

int main(int argc, char** argv) {
    int port = 3000;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            port = std::atoi(argv[++i]);
        } else if (std::strcmp(argv[i], "-v") == 0) {
            clubvoice::log::set_level(clubvoice::log::Level::debug);
        } else {
            fmt::print(stderr, "usage: sio-conformance-server [--port N] [-v]\n");
            return 2;
        }
    }
    try {
        return clubvoice::run(port);
    } catch (const std::exception& e) {
        fmt::print(stderr, "sio-conformance-server: {}\n", e.what());
        return 1;
    }
}
